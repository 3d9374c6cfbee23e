import { describe, expect, it } from "vitest";
import { parseAddressOrCidr } from "./address.js";
import { type BanChange, BanStore } from "./ban-store.js";
import type { BanInfo } from "./peer-stats.js";

function range(text: string) {
  const parsed = parseAddressOrCidr(text);
  if (typeof parsed === "string") throw new Error(parsed);
  return parsed;
}

const ban = (target: string, source: BanInfo["source"] = "operator"): BanInfo => ({
  target,
  source,
  createdAt: 1000,
});

describe("BanStore operator changes", () => {
  it("reports operator bans and unbans made here, not automatic ones or replicated ones", () => {
    const store = new BanStore(10);
    const heard: BanChange[] = [];
    store.onOperatorChange((change) => heard.push(change));
    store.add(range("10.0.0.1"), ban("10.0.0.1"));
    store.add(range("10.0.0.0/8"), ban("10.0.0.0/8"));
    store.add(range("10.0.0.2"), ban("10.0.0.2", "connect-rate"));
    store.add(range("10.0.0.3"), ban("10.0.0.3"), true);
    expect(store.remove("10.0.0.0/8")).toBe(true);
    expect(store.remove("10.0.0.2")).toBe(true);
    expect(store.remove("10.0.0.3", true)).toBe(true);
    expect(store.remove("10.9.9.9")).toBe(false);
    expect(heard).toEqual([
      { op: "ban", ban: ban("10.0.0.1") },
      { op: "ban", ban: ban("10.0.0.0/8") },
      { op: "unban", target: "10.0.0.0/8" },
    ]);
    store.onOperatorChange(undefined);
    store.add(range("10.0.0.4"), ban("10.0.0.4"));
    expect(heard).toHaveLength(3);
  });
});
