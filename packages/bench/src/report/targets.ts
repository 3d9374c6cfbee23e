import { formatBytes, formatCount, formatMs, formatPercent, formatRatio } from "../format.js";
import type { BenchResults } from "../suite.js";
import { advantage, perSec } from "./rows.js";

/** One target: what the project aims at, and whether this run met it. */
export interface TargetCheck {
  target: string;
  /** `n/a` when not measured, or measured under other conditions than the target's. */
  status: "met" | "missed" | "n/a";
  seen: string;
}

/** Checks this run's figures against the project's targets (for tcpchat only). */
export function targetChecks(results: BenchResults): TargetCheck[] {
  const s = results.scenarios;
  const first = results.servers[0] ?? "tcpchat";
  const second = results.servers[1];
  const checks: TargetCheck[] = [];
  const add = (
    target: string,
    value: number | undefined,
    ok: (v: number) => boolean,
    seen: (v: number) => string,
    applies = true,
  ) => {
    if (value === undefined) {
      checks.push({ target, status: "n/a", seen: "not measured" });
    } else if (!applies) {
      checks.push({
        target,
        status: "n/a",
        seen: `${seen(value)} (measured under other conditions)`,
      });
    } else {
      checks.push({ target, status: ok(value) ? "met" : "missed", seen: seen(value) });
    }
  };
  const o = results.options;
  // Each target is set for one configuration; under others a figure is shown, not judged.
  const tcpchat = first === "tcpchat";
  const headline = tcpchat && o.clients === 500 && o.senders === 10 && o.size === 64;
  const large = tcpchat && o.clients >= 10_000;
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
    headline && o.openLoopFraction === 0.5,
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
    tcpchat && o.durationMs >= 1000,
  );
  return checks;
}
