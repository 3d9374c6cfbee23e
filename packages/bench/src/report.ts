import { formatBytes, formatCount, formatMs, formatPercent, formatRatio } from "./format.js";
import type { LatencySummary } from "./latency.js";
import type { BroadcastFigures } from "./scenarios/context.js";
import type { BenchResults } from "./suite.js";

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

const perSec = (v: number) => `${formatCount(v)}/s`;
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
      {
        scenario: "idle",
        metric: "server RSS with clients",
        better: "lower",
        values: pick(s.idle, servers, (i) => i.after.rss),
        format: formatBytes,
      },
    );
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
      {
        scenario: "slow-reader",
        metric: "throughput kept",
        better: "higher",
        values: pick(slow, servers, (r) => r.throughputKept),
        format: formatPercent,
      },
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
  return rows;
}

/** The cells of the table: header, then one array per row. */
function cells(results: BenchResults): string[][] {
  const servers = results.servers;
  const compare = servers.length >= 2;
  const header = ["scenario", "metric", ...servers];
  if (compare) header.push(`${servers[0]} vs ${servers[1]}`);
  const body = buildRows(results).map((row) => {
    const line = [row.scenario, row.metric];
    for (const server of servers) {
      const v = row.values[server];
      line.push(v === undefined ? "-" : row.format(v));
    }
    if (compare) {
      const ratio = advantage(row.better, row.values[servers[0]!], row.values[servers[1]!]);
      line.push(
        ratio === undefined ? "" : `${formatRatio(ratio)} ${ratio >= 1 ? "better" : "worse"}`,
      );
    }
    return line;
  });
  return [header, ...body];
}

/** Target checks: what the project aims at, and whether this run met it. */
export function targetChecks(
  results: BenchResults,
): Array<{ target: string; status: "met" | "missed" | "n/a"; seen: string }> {
  const s = results.scenarios;
  const first = results.servers[0] ?? "tcpchat";
  const second = results.servers[1];
  const checks: Array<{ target: string; status: "met" | "missed" | "n/a"; seen: string }> = [];
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

function loadGeneratorLines(results: BenchResults): string[] {
  const lines: string[] = [];
  const add = (
    label: string,
    usage: { cpuCores: number; workerUtilization: number[] } | undefined,
  ) => {
    if (!usage) return;
    const busiest = Math.max(...usage.workerUtilization);
    lines.push(
      `${label}: ${usage.cpuCores.toFixed(2)} cores, busiest worker ${(busiest * 100).toFixed(0)}%${busiest > 0.9 ? " (saturated)" : ""}`,
    );
  };
  for (const server of results.servers) {
    const s = results.scenarios;
    add(`${server} connect`, s.connect?.[server]?.loadGenerator);
    add(`${server} broadcast closed loop`, s.broadcast?.[server]?.closed.loadGenerator);
    add(`${server} broadcast open loop`, s.broadcast?.[server]?.open?.loadGenerator);
    add(`${server} echo`, s.echo?.[server]?.loadGenerator);
    add(`${server} slow-reader`, s["slow-reader"]?.[server]?.slow.loadGenerator);
  }
  return lines;
}

function describeRun(results: BenchResults): string {
  const o = results.options;
  const m = results.machine;
  return (
    `${formatCount(o.clients)} clients, ${o.senders} senders, ${o.size} B messages, ${o.durationMs / 1000} s runs; ` +
    `${m.cores} cores (${m.cpuModel}), Node ${m.node}, load generator: ${results.loadGeneratorWorkers} worker threads`
  );
}

/** The plain-text report for stdout. */
export function renderTable(results: BenchResults): string {
  const table = cells(results);
  const widths = table[0]!.map((_, c) => Math.max(...table.map((row) => row[c]!.length)));
  const numeric = (c: number) => c >= 2;
  const render = (row: string[]) =>
    row
      .map((cell, c) => (numeric(c) ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!)))
      .join("  ")
      .trimEnd();
  const out = [
    `tcpchat bench: ${describeRun(results)}`,
    "",
    render(table[0]!),
    widths.map((w) => "-".repeat(w)).join("  "),
  ];
  let last = "";
  for (const row of table.slice(1)) {
    const shown = row[0] === last ? ["", ...row.slice(1)] : row;
    last = row[0]!;
    out.push(render(shown));
  }
  out.push("", "Targets:");
  for (const check of targetChecks(results))
    out.push(`  ${check.status.padEnd(6)} ${check.target}: ${check.seen}`);
  out.push("", "Load generator CPU:");
  for (const line of loadGeneratorLines(results)) out.push(`  ${line}`);
  if (results.warnings.length > 0) {
    out.push("", "Warnings:");
    for (const w of results.warnings) out.push(`  ${w}`);
  }
  if (results.errors.length > 0) {
    out.push("", "Errors:");
    for (const e of results.errors) out.push(`  ${e}`);
  }
  return `${out.join("\n")}\n`;
}

/** The report as Markdown, for the docs. */
export function renderMarkdown(results: BenchResults): string {
  const table = cells(results);
  const escapeCell = (cell: string) => cell.replace(/\|/g, "\\|");
  const out = [`Measured with \`pnpm bench\`: ${describeRun(results)}.`, ""];
  out.push(`| ${table[0]!.map(escapeCell).join(" | ")} |`);
  out.push(`|${table[0]!.map((_, c) => (c >= 2 ? " ---: " : " --- ")).join("|")}|`);
  for (const row of table.slice(1)) out.push(`| ${row.map(escapeCell).join(" | ")} |`);
  out.push("", "| target | status | seen |", "| --- | --- | --- |");
  for (const check of targetChecks(results))
    out.push(`| ${check.target} | ${check.status} | ${check.seen} |`);
  if (results.warnings.length > 0) {
    out.push("", ...results.warnings.map((w) => `- ${escapeCell(w)}`));
  }
  return `${out.join("\n")}\n`;
}
