import { afterEach, describe, expect, it, vi } from "vitest";
import { Pacer } from "./pacer.js";

describe("Pacer", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("sends a burst at once, then the rest no faster than the rate, in order", () => {
    vi.useFakeTimers();
    const pacer = new Pacer({ messageRate: 10, messageBurst: 10 }, () => Date.now());
    const sent: number[] = [];
    for (let i = 0; i < 20; i++) pacer.run(() => sent.push(i));
    expect(sent).toHaveLength(9);
    expect(pacer.waiting).toBe(11);
    vi.advanceTimersByTime(1000);
    // 0.9 of 10/s: 9 more in one second.
    expect(sent.length).toBeGreaterThanOrEqual(17);
    expect(sent.length).toBeLessThanOrEqual(18);
    vi.advanceTimersByTime(1000);
    expect(sent).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  it("drops what waits on clear", () => {
    vi.useFakeTimers();
    const pacer = new Pacer({ messageRate: 1, messageBurst: 1 }, () => Date.now());
    const sent: number[] = [];
    for (let i = 0; i < 3; i++) pacer.run(() => sent.push(i));
    pacer.clear();
    vi.advanceTimersByTime(10_000);
    expect(sent).toEqual([0]);
  });
});
