import { formatBytes, formatCount, formatMs, formatPercent, formatRatio } from "../format.js";
import type { BenchResults } from "../suite.js";
import { advantage, perSec } from "./rows.js";

/** One target: what the project aims at, and whether this run met it. */
export interface TargetCheck {
  target: string;
  /** `n/a` when not measured, or measured under other conditions than the target's. */
  status: "met" | "missed" | "n/a";
  seen: string;
  /** With `n/a`: the run that can judge it, in words (`a full run (pnpm bench)`). */
  needs?: string;
}

/** What the targets need, when this run cannot judge them. */
export const TARGET_NEEDS = {
  headline: "the full run (pnpm bench: 500 clients, 10 senders, 64 B messages)",
  large: "10,000 clients (pnpm bench --clients 10000 --scenario idle,connect)",
  long: "runs of at least 1 s (pnpm bench)",
  scenario: "what this run left out (their scenario, or the naive relay)",
  tcpchat: "tcpchat as the measured server",
} as const;

/** Checks this run's figures against the project's targets (for tcpchat only). */
export function targetChecks(results: BenchResults): TargetCheck[] {
  const s = results.scenarios;
  const first = results.servers[0] ?? "tcpchat";
  const second = results.servers[1];
  const checks: TargetCheck[] = [];
  /** `needs`: undefined when this run's conditions are the target's; else what it takes. */
  const add = (
    target: string,
    value: number | undefined,
    ok: (v: number) => boolean,
    seen: (v: number) => string,
    needs: string | undefined,
  ) => {
    if (value === undefined) {
      checks.push({ target, status: "n/a", seen: "not measured", needs: TARGET_NEEDS.scenario });
    } else if (needs !== undefined) {
      checks.push({
        target,
        status: "n/a",
        seen: `${seen(value)} (measured under other conditions)`,
        needs,
      });
    } else {
      checks.push({ target, status: ok(value) ? "met" : "missed", seen: seen(value) });
    }
  };
  const o = results.options;
  // Each target is set for one configuration; under others a figure is shown, not judged.
  const tcpchat = first === "tcpchat";
  const unless = (applies: boolean, needs: string) =>
    !tcpchat ? TARGET_NEEDS.tcpchat : applies ? undefined : needs;
  const headline = unless(
    o.clients === 500 && o.senders === 10 && o.size === 64,
    TARGET_NEEDS.headline,
  );
  const large = unless(o.clients >= 10_000, TARGET_NEEDS.large);
  const closed = s.broadcast?.[first]?.closed;
  const naiveClosed = second ? s.broadcast?.[second]?.closed : undefined;
  add(
    "broadcast deliveries >= 20x the naive relay",
    advantage("higher", closed?.deliveriesPerSec, naiveClosed?.deliveriesPerSec),
    (v) => v >= 20,
    formatRatio,
    headline,
  );
  add("broadcast deliveries >= 5 M/s", closed?.deliveriesPerSec, (v) => v >= 5e6, perSec, headline);
  add(
    "open loop p99 <= 20 ms",
    s.broadcast?.[first]?.open?.latency.p99Ms,
    (v) => v <= 20,
    formatMs,
    headline ?? unless(o.openLoopFraction === 0.5, TARGET_NEEDS.headline),
  );
  const idle = s.idle?.[first];
  const idleNote = idle ? ` at ${formatCount(idle.clients)} clients` : "";
  add(
    "idle RSS <= 5 KB per connection (at 10,000)",
    idle?.rssPerConnection,
    (v) => v <= 5000,
    (v) => formatBytes(v) + idleNote,
    large,
  );
  add(
    "idle heap <= 2 KB per connection (at 10,000)",
    idle?.heapPerConnection,
    (v) => v <= 2000,
    (v) => formatBytes(v) + idleNote,
    large,
  );
  const connect = s.connect?.[first];
  add(
    "all clients greeted within 3 s (at 10,000)",
    connect && connect.ready === connect.clients
      ? connect.timeToAllReadyMs
      : connect
        ? Number.POSITIVE_INFINITY
        : undefined,
    (v) => v <= 3000,
    (v) =>
      (Number.isFinite(v) ? formatMs(v) : "not all greeted") +
      (connect ? ` for ${formatCount(connect.clients)}` : ""),
    large,
  );
  const slow = s["slow-reader"]?.[first];
  add(
    "slow reader: others keep >= 90% throughput",
    slow?.throughputKept,
    (v) => v >= 0.9,
    formatPercent,
    unless(o.durationMs >= 1000, TARGET_NEEDS.long),
  );
  return checks;
}
