import { formatBytes, formatCount, formatMs, formatPercent } from "../format.js";
import type { LatencySummary } from "../latency.js";
import type { BroadcastFigures } from "../scenarios/context.js";
import type { BenchResults } from "../suite.js";
import { historyRows } from "./history-rows.js";

/** Which direction of a figure is better, for the ratio column. */
export type Better = "higher" | "lower" | "none";

/** One line of the results table: a metric and its value for each server. */
export interface ReportRow {
  scenario: string;
  metric: string;
  better: Better;
  /** Raw values by server label (undefined: not measured). */
  values: Record<string, number | undefined>;
  format: (value: number) => string;
}

/**
 * How many times better the first server is than the second: first/second when higher is
 * better, second/first when lower is better. Undefined when either is missing or zero.
 */
export function advantage(
  better: Better,
  first: number | undefined,
  second: number | undefined,
): number | undefined {
  if (better === "none" || first === undefined || second === undefined) return undefined;
  if (first <= 0 || second <= 0) return undefined;
  return better === "higher" ? first / second : second / first;
}

/**
 * Fewest idle connections whose per-connection memory the bench reports. RSS grows in pages and
 * V8 commits heap in 256 KiB pages; a few dozen idle sessions do not fill one, so their share of
 * it comes out as 0 B (or as a whole page). At 500 the fixed steps are spread thin enough.
 */
export const MIN_CLIENTS_FOR_MEMORY = 500;
/** Shortest runs whose "throughput kept" is compared: shorter ones are mostly noise. */
export const MIN_MS_FOR_THROUGHPUT_KEPT = 1000;

/** What a run was too small to show, in words (printed under the table). */
export function scaleNotes(results: BenchResults): string[] {
  const notes: string[] = [];
  const idle = Object.values(results.scenarios.idle ?? {})[0];
  if (idle && idle.clients < MIN_CLIENTS_FOR_MEMORY) {
    notes.push(
      `idle memory per connection: ${formatCount(idle.clients)} connections are too few to measure ` +
        `(needs >= ${MIN_CLIENTS_FOR_MEMORY}; memory grows in pages that a few sessions do not fill)`,
    );
  }
  if (results.scenarios["slow-reader"] && results.options.durationMs < MIN_MS_FOR_THROUGHPUT_KEPT) {
    notes.push(
      `slow-reader throughput kept: ${formatMs(results.options.durationMs)} runs are too short to ` +
        `tell from noise (needs --duration >= ${MIN_MS_FOR_THROUGHPUT_KEPT / 1000})`,
    );
  }
  return notes;
}

/** A rate: `6.46 M/s`. */
export const perSec = (v: number) => `${formatCount(v)}/s`;
const yesNo = (v: number) => (v > 0 ? "yes" : "no");

function pick<T>(
  byServer: Record<string, T> | undefined,
  servers: string[],
  get: (t: T) => number | undefined,
) {
  const values: Record<string, number | undefined> = {};
  for (const server of servers) {
    const item = byServer?.[server];
    values[server] = item === undefined ? undefined : get(item);
  }
  return values;
}

function latencyRows(
  scenario: string,
  prefix: string,
  servers: string[],
  byServer: Record<string, LatencySummary | undefined> | undefined,
  which: Array<keyof Omit<LatencySummary, "count">>,
): ReportRow[] {
  const names: Record<string, string> = {
    p50Ms: "p50",
    p90Ms: "p90",
    p99Ms: "p99",
    p999Ms: "p99.9",
    maxMs: "max",
  };
  return which.map((key) => ({
    scenario,
    metric: `${prefix} ${names[key]}`,
    better: "lower",
    values: pick(byServer, servers, (l) => (l && l.count > 0 ? l[key] : undefined)),
    format: formatMs,
  }));
}

function mapValues<T, U>(
  record: Record<string, T> | undefined,
  fn: (t: T) => U,
): Record<string, U> | undefined {
  if (!record) return undefined;
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, fn(v)]));
}

function broadcastRows(
  scenario: string,
  name: string,
  servers: string[],
  runs: Record<string, BroadcastFigures | undefined> | undefined,
): ReportRow[] {
  if (!runs) return [];
  const rows: ReportRow[] = [];
  const open = Object.values(runs).some((r) => r?.mode === "open");
  if (open) {
    rows.push({
      scenario,
      metric: `${name} rate asked`,
      better: "none",
      values: pick(runs, servers, (r) => r?.targetRate),
      format: perSec,
    });
  }
  rows.push(
    {
      scenario,
      metric: `${name} messages in`,
      better: "higher",
      values: pick(runs, servers, (r) => r?.messagesPerSec),
      format: perSec,
    },
    {
      scenario,
      metric: `${name} deliveries`,
      better: "higher",
      values: pick(runs, servers, (r) => r?.deliveriesPerSec),
      format: perSec,
    },
    {
      scenario,
      metric: `${name} lost + duplicated`,
      better: "none",
      values: pick(runs, servers, (r) =>
        r ? r.expected - r.delivered + r.gaps + r.duplicates : undefined,
      ),
      format: (v) => String(v),
    },
  );
  rows.push(
    ...latencyRows(
      scenario,
      `${name} latency`,
      servers,
      mapValues(runs, (r) => r?.latency),
      open ? ["p50Ms", "p90Ms", "p99Ms", "p999Ms", "maxMs"] : ["p50Ms", "p99Ms"],
    ),
  );
  if (open) {
    rows.push(
      ...latencyRows(
        scenario,
        `${name} sender lag`,
        servers,
        mapValues(runs, (r) => r?.sendLag),
        ["p99Ms"],
      ).map((row) => ({ ...row, better: "none" as const })),
    );
  }
  rows.push({
    scenario,
    metric: `${name} bytes sent per delivery`,
    better: "lower",
    values: pick(runs, servers, (r) => (r ? bytesPerDelivery(r) : undefined)),
    format: (v) => `${v.toFixed(1)} B`,
  });
  rows.push({
    scenario,
    metric: `${name} server loop delay p99`,
    better: "none",
    values: pick(runs, servers, (r) => r?.server?.after.loopDelay.p99Ms),
    format: formatMs,
  });
  rows.push({
    scenario,
    metric: `${name} other processes' CPU`,
    better: "none",
    values: pick(runs, servers, (r) => r?.otherCpuCores),
    format: (v) => `${v.toFixed(2)} cores`,
  });
  rows.push({
    scenario,
    metric: `${name} server CPU`,
    better: "none",
    values: pick(runs, servers, (r) => r?.server?.cpuCores),
    format: (v) => `${v.toFixed(2)} cores`,
  });
  return rows;
}

/**
 * What the server wrote per message delivered during a run (its own counters: line endings,
 * JSON and WebSocket frame headers included), or undefined without server counters.
 */
export function bytesPerDelivery(run: BroadcastFigures): number | undefined {
  const before = run.server?.before.stats;
  const after = run.server?.after.stats;
  if (!before || !after) return undefined;
  const bytes = Number(after["bytesOut"]) - Number(before["bytesOut"]);
  const deliveries = Number(after["deliveries"]) - Number(before["deliveries"]);
  return deliveries > 0 && Number.isFinite(bytes) ? bytes / deliveries : undefined;
}

/** The rows of the results table, scenario by scenario. */
export function buildRows(results: BenchResults): ReportRow[] {
  const servers = results.servers;
  const s = results.scenarios;
  const rows: ReportRow[] = [];
  if (s.connect) {
    rows.push(
      {
        scenario: "connect",
        metric: "clients greeted",
        better: "none",
        values: pick(s.connect, servers, (c) => c.ready),
        format: formatCount,
      },
      {
        scenario: "connect",
        metric: "time until all greeted",
        better: "lower",
        values: pick(s.connect, servers, (c) => (c.ready > 0 ? c.timeToAllReadyMs : undefined)),
        format: formatMs,
      },
      {
        scenario: "connect",
        metric: "connections",
        better: "higher",
        values: pick(s.connect, servers, (c) => (c.ready > 0 ? c.connectionsPerSec : undefined)),
        format: perSec,
      },
      ...(Object.values(s.connect).some((c) => c.tlsHandshakesPerSec !== undefined)
        ? [
            {
              scenario: "connect",
              metric: "TLS handshakes",
              better: "higher" as const,
              values: pick(s.connect, servers, (c) => c.tlsHandshakesPerSec),
              format: perSec,
            },
          ]
        : []),
      {
        scenario: "connect",
        metric: "greeted p99",
        better: "lower",
        values: pick(s.connect, servers, (c) =>
          c.readyLatency.count > 0 ? c.readyLatency.p99Ms : undefined,
        ),
        format: formatMs,
      },
      {
        scenario: "connect",
        metric: "SYNs dropped, listen queue full",
        better: "none",
        values: pick(s.connect, servers, (c) => c.listenOverflows),
        format: formatCount,
      },
      {
        scenario: "connect",
        metric: "failures",
        better: "none",
        values: pick(s.connect, servers, (c) => c.failed),
        format: String,
      },
    );
  }
  if (s.idle) {
    const perConnection = Object.values(s.idle).some((i) => i.clients >= MIN_CLIENTS_FOR_MEMORY);
    if (perConnection) {
      rows.push(
        {
          scenario: "idle",
          metric: "RSS per connection",
          better: "lower",
          values: pick(s.idle, servers, (i) => i.rssPerConnection),
          format: formatBytes,
        },
        {
          scenario: "idle",
          metric: "heap per connection",
          better: "lower",
          values: pick(s.idle, servers, (i) => i.heapPerConnection),
          format: formatBytes,
        },
        {
          scenario: "idle",
          metric: "heap committed per connection",
          better: "lower",
          values: pick(s.idle, servers, (i) => i.heapTotalPerConnection),
          format: formatBytes,
        },
        {
          scenario: "idle",
          metric: "external per connection",
          better: "none",
          values: pick(s.idle, servers, (i) => i.externalPerConnection),
          format: formatBytes,
        },
      );
    }
    rows.push({
      scenario: "idle",
      metric: "server RSS with clients",
      better: "lower",
      values: pick(s.idle, servers, (i) => i.after.rss),
      format: formatBytes,
    });
  }
  if (s.broadcast) {
    rows.push(
      ...broadcastRows(
        "broadcast",
        "closed loop",
        servers,
        mapValues(s.broadcast, (b) => b.closed),
      ),
    );
    rows.push(
      ...broadcastRows(
        "broadcast",
        "open loop",
        servers,
        mapValues(s.broadcast, (b) => b.open),
      ),
    );
  }
  if (s.echo) {
    rows.push(
      {
        scenario: "echo",
        metric: "pairs",
        better: "none",
        values: pick(s.echo, servers, (e) => e.joined),
        format: formatCount,
      },
      {
        scenario: "echo",
        metric: "round trips",
        better: "higher",
        values: pick(s.echo, servers, (e) => e.roundTripsPerSec),
        format: perSec,
      },
      ...latencyRows(
        "echo",
        "round trip",
        servers,
        mapValues(s.echo, (e) => e.latency),
        ["p50Ms", "p99Ms", "maxMs"],
      ),
    );
  }
  const slow = s["slow-reader"];
  if (slow) {
    rows.push(
      {
        scenario: "slow-reader",
        metric: "deliveries, all reading (2 runs)",
        better: "higher",
        values: pick(
          slow,
          servers,
          (r) => (r.normal.deliveriesPerSec + r.normalAfter.deliveriesPerSec) / 2,
        ),
        format: perSec,
      },
      {
        scenario: "slow-reader",
        metric: "deliveries, one not reading",
        better: "higher",
        values: pick(slow, servers, (r) => r.slow.deliveriesPerSec),
        format: perSec,
      },
      ...(results.options.durationMs >= MIN_MS_FOR_THROUGHPUT_KEPT
        ? [
            {
              scenario: "slow-reader",
              metric: "throughput kept",
              better: "higher" as const,
              values: pick(slow, servers, (r) => r.throughputKept),
              format: formatPercent,
            },
          ]
        : []),
      {
        scenario: "slow-reader",
        metric: "slow client cut off",
        better: "none",
        values: pick(slow, servers, (r) =>
          r.slowClientCutOff === undefined ? undefined : r.slowClientCutOff ? 1 : 0,
        ),
        format: yesNo,
      },
      {
        scenario: "slow-reader",
        metric: "server peak RSS, all reading",
        better: "lower",
        values: pick(slow, servers, (r) => r.peakRssNormal),
        format: formatBytes,
      },
      {
        scenario: "slow-reader",
        metric: "server peak RSS, one not reading",
        better: "lower",
        values: pick(slow, servers, (r) => r.peakRssSlow),
        format: formatBytes,
      },
    );
  }
  rows.push(...historyRows(results));
  return rows;
}
