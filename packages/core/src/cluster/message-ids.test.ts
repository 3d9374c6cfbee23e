import { describe, expect, it } from "vitest";
import { ClusterMessageIds, ID_EPOCH_MS, NODE_SLOTS, TICKS_PER_MS } from "./message-ids.js";

describe("cluster message ids", () => {
  it("are unique across slots, grow on one node, and order by time across nodes", () => {
    const now = Date.UTC(2026, 10, 30, 12);
    const a = new ClusterMessageIds(0);
    const b = new ClusterMessageIds(1);
    const fromA = [a.next(now), a.next(now), a.next(now + 1)];
    const fromB = [b.next(now), b.next(now + 1)];
    expect(new Set([...fromA, ...fromB]).size).toBe(5);
    expect(fromA[1]).toBeGreaterThan(fromA[0]!);
    expect(fromA.map((id) => id % NODE_SLOTS)).toEqual([0, 0, 0]);
    expect(fromB.map((id) => id % NODE_SLOTS)).toEqual([1, 1]);
    // A later millisecond on any node is a larger id than an earlier one on any other.
    expect(fromB[1]).toBeGreaterThan(fromA[1]!);
    expect(fromA[2]).toBeGreaterThan(fromB[0]!);
  });

  it("order by time within a millisecond, at 1/64 ms", () => {
    const now = Date.UTC(2026, 10, 30, 12);
    const a = new ClusterMessageIds(0);
    const b = new ClusterMessageIds(1);
    const first = b.next(now + 0.2);
    const second = a.next(now + 0.5);
    expect(second).toBeGreaterThan(first);
  });

  it("runs ahead of the clock rather than repeat an id, and stays a safe integer for decades", () => {
    const now = Date.UTC(2026, 10, 30, 12);
    const ids = new ClusterMessageIds(5);
    const burst = Array.from({ length: TICKS_PER_MS * 3 }, () => ids.next(now));
    expect(new Set(burst).size).toBe(burst.length);
    expect(ids.next(now + 1)).toBeGreaterThan(burst.at(-1)!);
    const late = new ClusterMessageIds(NODE_SLOTS - 1).next(ID_EPOCH_MS + 60 * 365.25 * 86_400_000);
    expect(Number.isSafeInteger(late)).toBe(true);
  });

  it("continues above a stored id, whatever the clock says", () => {
    const now = Date.UTC(2026, 10, 30, 12);
    const ids = new ClusterMessageIds(2);
    const stored = (now + 60_000 - ID_EPOCH_MS) * TICKS_PER_MS * NODE_SLOTS + 7;
    ids.continueAfter(stored);
    expect(ids.next(now)).toBeGreaterThan(stored);
    // A store of a single node (small serials) changes nothing.
    ids.continueAfter(42);
    expect(ids.next(now)).toBeGreaterThan(stored);
  });
});
