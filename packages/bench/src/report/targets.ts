import { formatBytes, formatCount, formatMs, formatPercent, formatRatio } from "../format.js";
import type { BenchResults } from "../suite.js";
import { advantage, perSec } from "./rows.js";

const NAIVE_LABEL = "naive relay";
const TCP_LABEL = "tcpchat";
/** Report labels of tcpchat measured with WebSocket and with TLS clients (see suite.ts). */
const WS_LABEL = "tcpchat ws";
const TLS_LABEL = "tcpchat tls";

/** One target: what the project aims at, and whether this run met it. */
export interface TargetCheck {
  target: string;
  /** `n/a` when not measured, or measured under other conditions than the target's. */
  status: "met" | "missed" | "n/a";
  seen: string;
  /** With `n/a`: the run that can judge it, in words (`a full run (pnpm bench)`). */
  needs?: string;
}

/**
 * Clients an idle run needs before the WebSocket/TCP memory ratio is judged. It is a ratio of
 * two small RSS deltas: at 500 clients runs gave 0.85x, 2.65x, 1.50x and once a negative RSS
 * delta; at 2,000 the heap and RSS ratios agree to within a few tenths.
 */
const MIN_CLIENTS_FOR_WS_MEMORY = 2000;

/** What the targets need, when this run cannot judge them. */
export const TARGET_NEEDS = {
  headline: "the full run (pnpm bench: 500 clients, 10 senders, 64 B messages)",
  large: "10,000 clients (pnpm bench --clients 10000 --scenario idle,connect)",
  memory: `at least ${MIN_CLIENTS_FOR_WS_MEMORY.toLocaleString("en-US")} clients (pnpm bench --transport ws --scenario connect,idle --clients ${MIN_CLIENTS_FOR_WS_MEMORY})`,
  long: "runs of at least 1 s (pnpm bench)",
  scenario: "what this run left out (their scenario, or the naive relay)",
  tcpchat: "tcpchat as the measured server",
  cluster: "a cluster run of at least 1 s at half the single node's rate (pnpm bench --nodes 2)",
} as const;

/** Label of the turn-coalescing baseline relay in a run's servers. */
const COALESCING_LABEL = "coalescing relay";

/** The cluster run's target (`--nodes`), judged on its nodes' open loop. */
export const CLUSTER_TARGET =
  "nodes: cross-node p99 < 10 ms at half the single node's closed-loop rate";

/** Checks this run's figures against the project's targets (for tcpchat only). */
export function targetChecks(results: BenchResults): TargetCheck[] {
  const s = results.scenarios;
  const first = results.servers[0] ?? "tcpchat";
  // The baseline, wherever it stands: WebSocket and TLS columns may follow it or replace it.
  const second = results.servers.find((label) => label === NAIVE_LABEL);
  const coalescing = results.servers.includes(COALESCING_LABEL) ? COALESCING_LABEL : undefined;
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
  const coalescingClosed = coalescing ? s.broadcast?.[coalescing]?.closed : undefined;
  add(
    "broadcast deliveries >= 0.9x the coalescing relay",
    advantage("higher", closed?.deliveriesPerSec, coalescingClosed?.deliveriesPerSec),
    (v) => v >= 0.9,
    formatRatio,
    headline,
  );
  add("broadcast deliveries >= 5 M/s", closed?.deliveriesPerSec, (v) => v >= 5e6, perSec, headline);
  const echo = s.echo?.[first];
  const naiveEcho = second ? s.echo?.[second] : undefined;
  add(
    "echo round trips >= 1.0x the naive relay",
    advantage("higher", echo?.roundTripsPerSec, naiveEcho?.roundTripsPerSec),
    (v) => v >= 1,
    formatRatio,
    headline,
  );
  add(
    "echo round trip p99 >= 1.0x the naive relay (as low or lower)",
    advantage("lower", echo?.latency.p99Ms, naiveEcho?.latency.p99Ms),
    (v) => v >= 1,
    formatRatio,
    headline,
  );
  add(
    "open loop p99 <= 10 ms",
    s.broadcast?.[first]?.open?.latency.p99Ms,
    (v) => v <= 10,
    formatMs,
    headline ?? unless(o.openLoopFraction === 0.5, TARGET_NEEDS.headline),
  );
  const idle = s.idle?.[first];
  const idleNote = idle ? ` at ${formatCount(idle.clients)} clients` : "";
  add(
    "idle RSS <= 4 KB per connection (at 10,000)",
    idle?.rssPerConnection,
    (v) => v <= 4000,
    (v) => formatBytes(v) + idleNote,
    large,
  );
  add(
    "idle heap <= 1.5 KB per connection (at 10,000)",
    idle?.heapPerConnection,
    (v) => v <= 1500,
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
  transportChecks(results, add, headline, unless);
  if (s.cluster !== undefined || o.nodes !== undefined) {
    const cluster = s.cluster;
    add(
      CLUSTER_TARGET,
      cluster?.open?.run.latency.p99Ms,
      (v) => v < 10,
      (v) =>
        `${formatMs(v)} at ${formatCount(cluster?.openRate ?? 0)} messages/s on ${cluster?.nodes} nodes` +
        ` (p50 ${formatMs(cluster?.open?.run.latency.p50Ms ?? 0)})`,
      o.openLoopFraction === 0.5 && o.durationMs >= 1000 ? undefined : TARGET_NEEDS.cluster,
    );
  }
  const history = s["broadcast-history"];
  add(
    "broadcast with history on >= 0.9x history off",
    history?.ratio,
    (v) => v >= 0.9,
    (v) =>
      `${formatRatio(v)} (${perSec(history?.onDeliveriesPerSec ?? 0)} vs ${perSec(history?.offDeliveriesPerSec ?? 0)})`,
    unless(o.durationMs >= 1000, TARGET_NEEDS.long),
  );
  add(
    "history write lag p99 < 100 ms",
    history?.lagP99Ms,
    (v) => v < 100,
    (v) => `${formatMs(v)} (worst round; p50 ${formatMs(history?.lagP50Ms ?? 0)})`,
    unless(o.durationMs >= 1000, TARGET_NEEDS.long),
  );
  return checks;
}

type AddCheck = (
  target: string,
  value: number | undefined,
  ok: (v: number) => boolean,
  seen: (v: number) => string,
  needs: string | undefined,
) => void;

/**
 * The WebSocket and TLS targets (issue "one port"), judged against tcpchat's own TCP figure in
 * the same run; only when the run measured those transports.
 */
function transportChecks(
  results: BenchResults,
  add: AddCheck,
  headline: string | undefined,
  unless: (applies: boolean, needs: string) => string | undefined,
): void {
  const s = results.scenarios;
  // Reports written before transports existed have none.
  const transports = results.options.transports ?? [];
  if (transports.includes("ws")) {
    const tcp = s.broadcast?.[TCP_LABEL]?.closed.deliveriesPerSec;
    const ws = s.broadcast?.[WS_LABEL]?.closed.deliveriesPerSec;
    add(
      "WebSocket broadcast deliveries >= 0.7x TCP",
      ws !== undefined && tcp !== undefined && tcp > 0 ? ws / tcp : undefined,
      (v) => v >= 0.7,
      (v) => `${formatRatio(v)} (${perSec(ws ?? 0)} vs ${perSec(tcp ?? 0)})`,
      headline,
    );
    const tcpIdle = s.idle?.[TCP_LABEL];
    const wsIdle = s.idle?.[WS_LABEL];
    add(
      "idle WebSocket memory <= 2x TCP per connection",
      // A delta that is not positive measured nothing (the allocator gave memory back).
      wsIdle && tcpIdle && tcpIdle.rssPerConnection > 0 && wsIdle.rssPerConnection > 0
        ? wsIdle.rssPerConnection / tcpIdle.rssPerConnection
        : undefined,
      (v) => v <= 2,
      (v) =>
        `${formatRatio(v)} RSS (${formatBytes(wsIdle?.rssPerConnection ?? 0)} vs ` +
        `${formatBytes(tcpIdle?.rssPerConnection ?? 0)}); heap ` +
        `${formatBytes(wsIdle?.heapPerConnection ?? 0)} vs ${formatBytes(tcpIdle?.heapPerConnection ?? 0)}`,
      unless(results.options.clients >= MIN_CLIENTS_FOR_WS_MEMORY, TARGET_NEEDS.memory),
    );
  }
  if (transports.includes("tls")) {
    const connect = s.connect?.[TLS_LABEL];
    add(
      "TLS handshake cost reported",
      connect?.tlsHandshakesPerSec,
      (v) => v > 0 && connect?.failed === 0,
      (v) =>
        `${perSec(v)} full handshakes` +
        (results.tlsCertificate ? ` (${results.tlsCertificate})` : "") +
        ` for ${formatCount(connect?.clients ?? 0)} clients`,
      undefined,
    );
  }
}
