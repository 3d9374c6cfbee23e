// @ts-check
/**
 * Turns the JSON written by `pnpm bench --json FILE` into the performance page's Markdown and
 * SVG charts. It reads only what it shows, and every figure on the page comes from the file.
 */
import {
  formatBytes,
  formatCount,
  formatMs,
  formatPercent,
  formatPerSec,
  formatRatio,
  formatWhole,
  generatorText,
} from "./format.mjs";
import { renderBarChart, SERIES_COLORS } from "./svg-chart.mjs";

/**
 * The subset of the bench's JSON this page reads (packages/bench: `BenchResults`).
 * @typedef {{ count: number, p50Ms: number, p90Ms: number, p99Ms: number, p999Ms: number, maxMs: number }} Latency
 * @typedef {{ rss: number, heapUsed: number, external: number }} ServerMeasure
 * @typedef {{ cpuCores: number, peakRss: number }} ServerSpan
 * @typedef {{ mode: string, receivers: number, senders: number, targetRate?: number, messagesPerSec: number,
 *   deliveriesPerSec: number, expected: number, delivered: number, gaps: number, duplicates: number,
 *   latency: Latency, server?: ServerSpan, otherCpuCores?: number }} BroadcastRun
 * @typedef {{ clients: number, ready: number, failed: number, timeToAllReadyMs: number,
 *   connectionsPerSec: number, readyLatency: Latency, listenOverflows?: number }} ConnectRun
 * @typedef {{ clients: number, ready: number, before: ServerMeasure, after: ServerMeasure,
 *   rssPerConnection: number, heapPerConnection: number, externalPerConnection: number }} IdleRun
 * @typedef {{ pairs: number, joined: number, roundTripsPerSec: number, latency: Latency }} EchoRun
 * @typedef {{ normal: BroadcastRun, slow: BroadcastRun, normalAfter?: BroadcastRun, throughputKept: number,
 *   slowClientCutOff?: boolean, peakRssNormal?: number, peakRssSlow?: number }} SlowReaderRun
 * @typedef {{ clients: number, ready: number, rssPerConnection?: number, heapPerConnection?: number,
 *   closedDeliveriesPerSec: number, closedP99Ms: number, openDeliveriesPerSec?: number,
 *   openP99Ms?: number, peakRss?: number, loadGeneratorBusiest: number }} SweepFigures
 * @typedef {{ clients: number, servers: Record<string, SweepFigures> }} SweepPoint
 * @typedef {object} BenchResults
 * @property {string} tool                 "tcpchat-bench"
 * @property {string} startedAt            ISO time
 * @property {{ cores: number, cpuModel: string, node: string, platform: string, osRelease: string,
 *   totalMemoryBytes: number, loadAverage: number[], commit?: string, dirty?: boolean }} machine
 * @property {{ clients: number, senders: number, size: number, durationMs: number, window: number,
 *   openLoopFraction: number, scenarios?: string[] }} options
 * @property {string[]} servers            measured server first, then the baseline
 * @property {number} loadGeneratorWorkers
 * @property {{ throughput?: Record<string, unknown> }} [serverOptions]
 * @property {{ connect?: Record<string, ConnectRun>, idle?: Record<string, IdleRun>,
 *   broadcast?: Record<string, { closed: BroadcastRun, open?: BroadcastRun }>,
 *   echo?: Record<string, EchoRun>, "slow-reader"?: Record<string, SlowReaderRun> }} scenarios
 * @property {SweepPoint[]} [sweep]    with `--sweep clients=...`: figures per room size
 * @property {string[]} warnings
 * @property {string[]} errors
 */

/**
 * @typedef {object} Row
 * @property {string} metric
 * @property {"higher" | "lower" | "none"} better
 * @property {Record<string, number | undefined>} values  by server label
 * @property {(value: number) => string} format
 */

/**
 * @typedef {object} RenderedPerformance
 * @property {string} results          Markdown included by performance.md
 * @property {string} connectionMemory Markdown included by the threads-vs-event-loop guide
 * @property {Map<string, string>} charts  SVG file name -> SVG document
 */

/** Where the page finds the charts (VitePress serves public/ at the site root). */
export const CHART_URL_PREFIX = "/perf/";

/**
 * Checks that a parsed file is a bench report this page can read, and says what is wrong if not.
 * @param {unknown} data
 * @returns {string[]} problems; empty when usable
 */
export function checkBenchResults(data) {
  const problems = [];
  const record = /** @type {Record<string, unknown>} */ (data);
  if (typeof data !== "object" || data === null) return ["not a JSON object"];
  if (record["tool"] !== "tcpchat-bench") problems.push('"tool" is not "tcpchat-bench"');
  for (const key of ["startedAt", "machine", "options", "servers", "scenarios"]) {
    if (!(key in record)) problems.push(`"${key}" is missing`);
  }
  if (!Array.isArray(record["servers"]) || record["servers"].length === 0) {
    problems.push('"servers" must list at least one server');
  }
  return problems;
}

/**
 * How many times better the first value is than the second, or undefined.
 * @param {Row["better"]} better @param {number | undefined} first @param {number | undefined} second
 */
export function advantage(better, first, second) {
  if (better === "none" || first === undefined || second === undefined) return undefined;
  if (first <= 0 || second <= 0) return undefined;
  return better === "higher" ? first / second : second / first;
}

/**
 * @template T
 * @param {Record<string, T> | undefined} byServer @param {string[]} servers
 * @param {(item: T) => number | undefined} get
 * @returns {Record<string, number | undefined>}
 */
function pick(byServer, servers, get) {
  /** @type {Record<string, number | undefined>} */
  const values = {};
  for (const server of servers) {
    const item = byServer?.[server];
    values[server] = item === undefined ? undefined : get(item);
  }
  return values;
}

/** @param {string} cell */
const escapeCell = (cell) => cell.replace(/\|/g, "\\|");

/**
 * A Markdown table: metric, one column per server, and the first server against the second.
 * @param {Row[]} rows @param {string[]} servers
 */
export function renderTable(rows, servers) {
  const compare = servers.length >= 2;
  const header = ["metric", ...servers];
  if (compare) header.push(`${servers[0]} vs ${servers[1]}`);
  const lines = [
    `| ${header.map(escapeCell).join(" | ")} |`,
    `| --- |${header
      .slice(1)
      .map(() => " ---: |")
      .join("")}`,
  ];
  for (const row of rows) {
    const cells = [row.metric];
    for (const server of servers) {
      const value = row.values[server];
      cells.push(value === undefined ? "-" : row.format(value));
    }
    if (compare) {
      const ratio = advantage(
        row.better,
        row.values[servers[0] ?? ""],
        row.values[servers[1] ?? ""],
      );
      cells.push(
        ratio === undefined ? "" : `${formatRatio(ratio)} ${ratio >= 1 ? "better" : "worse"}`,
      );
    }
    lines.push(`| ${cells.map(escapeCell).join(" | ")} |`);
  }
  return lines.join("\n");
}

/**
 * @param {string[]} servers
 * @returns {import("./svg-chart.mjs").ChartSeries[]}
 */
function seriesFor(servers, /** @type {(server: string) => Array<number | undefined>} */ values) {
  return servers.map((server, i) => ({
    name: server,
    color: SERIES_COLORS[i % SERIES_COLORS.length] ?? "#888888",
    values: values(server),
  }));
}

/** @param {string} file @param {string} alt */
const chartImage = (file, alt) => `![${alt}](${CHART_URL_PREFIX}${file}){.tc-chart}`;

/** @param {Latency | undefined} latency @param {keyof Latency} key */
const latencyValue = (latency, key) => (latency && latency.count > 0 ? latency[key] : undefined);

/** @param {BenchResults} results */
function runDescription(results) {
  const { machine: m, options: o } = results;
  const commit = m.commit
    ? `\`${m.commit.slice(0, 10)}\`${m.dirty ? " (with uncommitted changes)" : ""}`
    : "unknown";
  const load = m.loadAverage?.length
    ? m.loadAverage.map((v) => v.toFixed(2)).join(", ")
    : "unknown";
  return [
    "| | |",
    "| --- | --- |",
    `| measured | ${results.startedAt.replace("T", " ").replace(/\.\d+Z$/, " UTC")} |`,
    `| machine | ${m.cores} cores (${escapeCell(m.cpuModel)}), ${formatBytes(m.totalMemoryBytes)} RAM, ${m.platform}, kernel ${escapeCell(m.osRelease)} |`,
    `| Node.js | ${m.node} |`,
    `| load average at start (1, 5, 15 min) | ${load} |`,
    `| commit | ${commit} |`,
    `| clients per scenario | ${formatCount(o.clients)} |`,
    `| broadcast senders | ${o.senders}, ${o.window} messages in flight each (closed loop) |`,
    `| message size | ${o.size} bytes |`,
    `| length of each run | ${o.durationMs / 1000} s |`,
    `| load generator | ${generatorText(results)} on the same machine |`,
  ].join("\n");
}

/**
 * Renders every section the reports have data for.
 * @param {BenchResults} results  the headline run (`data/bench.json`)
 * @param {BenchResults} [scale]   optionally, a run of connect and idle with many clients
 *   (`data/bench-scale.json`); it then feeds the connection-memory table
 * @param {BenchResults} [sweep]   optionally, a run with `--sweep clients=...`
 *   (`data/bench-sweep.json`); without it, the headline run's own sweep, if it has one
 * @returns {RenderedPerformance}
 */
export function renderPerformance(results, scale, sweep) {
  const servers = results.servers;
  const s = results.scenarios;
  /** @type {Map<string, string>} */
  const charts = new Map();
  const out = [
    "## The run",
    "",
    `Figures from \`pnpm bench\`, committed as \`apps/docs/data/bench.json\`. Both servers ran on the machine below, each in a child process of its own, driven by a load generator on the same machine; with only ${results.machine.cores} cores the load generator competes with the server, so read the figures as a comparison on one machine, not as a ceiling. The bench also measures how much CPU other processes took during each run, and says so at the end of the page when they took enough to lower the figures.`,
    "",
    runDescription(results),
    "",
  ];

  const broadcast = s.broadcast;
  if (broadcast) {
    const closed = (/** @type {string} */ server) => broadcast[server]?.closed;
    const open = (/** @type {string} */ server) => broadcast[server]?.open;
    charts.set(
      "broadcast-deliveries.svg",
      renderBarChart({
        title: `Broadcast: ${formatWhole(results.options.clients)} clients in one room`,
        subtitle: "Messages delivered to receivers per second (higher is better)",
        groups: ["closed loop (max)", "open loop (fixed rate)"],
        series: seriesFor(servers, (server) => [
          closed(server)?.deliveriesPerSec,
          open(server)?.deliveriesPerSec,
        ]),
        format: formatPerSec,
      }),
    );
    /** @type {Array<[keyof Latency, string]>} */
    const percentiles = [
      ["p50Ms", "p50"],
      ["p90Ms", "p90"],
      ["p99Ms", "p99"],
      ["p999Ms", "p99.9"],
    ];
    charts.set(
      "broadcast-latency.svg",
      renderBarChart({
        title: "Broadcast latency at a fixed rate (open loop)",
        subtitle: "From the scheduled send time to arrival at a receiver, ms (lower is better)",
        groups: percentiles.map(([, label]) => label),
        series: seriesFor(servers, (server) =>
          percentiles.map(([key]) => latencyValue(open(server)?.latency, key)),
        ),
        format: formatMs,
      }),
    );
    /** @type {Row[]} */
    const rows = [
      {
        metric: "closed loop: messages in",
        better: "higher",
        values: pick(broadcast, servers, (b) => b.closed.messagesPerSec),
        format: formatPerSec,
      },
      {
        metric: "closed loop: deliveries",
        better: "higher",
        values: pick(broadcast, servers, (b) => b.closed.deliveriesPerSec),
        format: formatPerSec,
      },
      {
        metric: "closed loop: latency p50",
        better: "lower",
        values: pick(broadcast, servers, (b) => latencyValue(b.closed.latency, "p50Ms")),
        format: formatMs,
      },
      {
        metric: "closed loop: latency p99",
        better: "lower",
        values: pick(broadcast, servers, (b) => latencyValue(b.closed.latency, "p99Ms")),
        format: formatMs,
      },
      {
        metric: "closed loop: server CPU (cores)",
        better: "none",
        values: pick(broadcast, servers, (b) => b.closed.server?.cpuCores),
        format: (v) => v.toFixed(2),
      },
      {
        metric: "closed loop: other processes' CPU (cores)",
        better: "none",
        values: pick(broadcast, servers, (b) => b.closed.otherCpuCores),
        format: (v) => v.toFixed(2),
      },
      {
        metric: "open loop: rate asked",
        better: "none",
        values: pick(broadcast, servers, (b) => b.open?.targetRate),
        format: formatPerSec,
      },
      {
        metric: "open loop: deliveries",
        better: "higher",
        values: pick(broadcast, servers, (b) => b.open?.deliveriesPerSec),
        format: formatPerSec,
      },
      ...percentiles.map(
        ([key, label]) =>
          /** @type {Row} */ ({
            metric: `open loop: latency ${label}`,
            better: "lower",
            values: pick(broadcast, servers, (b) => latencyValue(b.open?.latency, key)),
            format: formatMs,
          }),
      ),
      {
        metric: "open loop: latency max",
        better: "lower",
        values: pick(broadcast, servers, (b) => latencyValue(b.open?.latency, "maxMs")),
        format: formatMs,
      },
      {
        metric: "messages lost or duplicated",
        better: "none",
        values: pick(
          broadcast,
          servers,
          (b) => b.closed.expected - b.closed.delivered + b.closed.gaps + b.closed.duplicates,
        ),
        format: String,
      },
    ];
    out.push(
      "## Broadcast: one big room",
      "",
      `All ${formatWhole(results.options.clients)} clients sit in one room; ${results.options.senders} of them send ${results.options.size}-byte messages and every member receives every message. The **closed loop** keeps a fixed number of messages in flight per sender, so it finds the most a server can deliver. The **open loop** sends at a fixed rate (${formatPercent(results.options.openLoopFraction)} of the closed loop's maximum), the way real users do, and measures latency from the time each message was *scheduled*, so a stalled server cannot hide its delay.`,
      "",
      chartImage(
        "broadcast-deliveries.svg",
        "Broadcast deliveries per second, tcpchat beside the naive relay",
      ),
      "",
      chartImage("broadcast-latency.svg", "Broadcast latency percentiles at a fixed rate"),
      "",
      renderTable(rows, servers),
      "",
    );
  }

  const echo = s.echo;
  if (echo) {
    charts.set(
      "echo.svg",
      renderBarChart({
        title: "Echo pairs: the tutorial's conversation, many times over",
        subtitle: "Round-trip latency, ms (lower is better)",
        groups: ["p50", "p99", "max"],
        series: seriesFor(servers, (server) => [
          latencyValue(echo[server]?.latency, "p50Ms"),
          latencyValue(echo[server]?.latency, "p99Ms"),
          latencyValue(echo[server]?.latency, "maxMs"),
        ]),
        format: formatMs,
      }),
    );
    /** @type {Row[]} */
    const rows = [
      {
        metric: "pairs talking",
        better: "none",
        values: pick(echo, servers, (e) => e.joined),
        format: formatCount,
      },
      {
        metric: "round trips",
        better: "higher",
        values: pick(echo, servers, (e) => e.roundTripsPerSec),
        format: formatPerSec,
      },
      {
        metric: "round trip p50",
        better: "lower",
        values: pick(echo, servers, (e) => latencyValue(e.latency, "p50Ms")),
        format: formatMs,
      },
      {
        metric: "round trip p99",
        better: "lower",
        values: pick(echo, servers, (e) => latencyValue(e.latency, "p99Ms")),
        format: formatMs,
      },
      {
        metric: "round trip max",
        better: "lower",
        values: pick(echo, servers, (e) => latencyValue(e.latency, "maxMs")),
        format: formatMs,
      },
    ];
    out.push(
      "## Echo: many small rooms",
      "",
      "Clients pair up, each pair in a room of its own: one sends, the other answers when the message arrives, and the next message goes when the answer is back. This is the one-to-one chat of the socket tutorial, run by every pair at once.",
      "",
      chartImage("echo.svg", "Echo round-trip latency percentiles"),
      "",
      renderTable(rows, servers),
      "",
    );
  }

  out.push(...connectSection(results, "##"));
  out.push(...idleSection(results, "##", "memory-per-connection.svg", charts));

  const slow = s["slow-reader"];
  if (slow) {
    charts.set(
      "slow-reader.svg",
      renderBarChart({
        title: "One client stops reading",
        subtitle: "Deliveries per second to everyone else (higher is better)",
        groups: ["all clients reading", "one client not reading"],
        series: seriesFor(servers, (server) => [
          slow[server] && allReading(slow[server]),
          slow[server]?.slow.deliveriesPerSec,
        ]),
        format: formatPerSec,
      }),
    );
    /** @type {Row[]} */
    const rows = [
      {
        metric: "deliveries, all reading (mean of before and after)",
        better: "higher",
        values: pick(slow, servers, allReading),
        format: formatPerSec,
      },
      {
        metric: "deliveries, one not reading",
        better: "higher",
        values: pick(slow, servers, (r) => r.slow.deliveriesPerSec),
        format: formatPerSec,
      },
      {
        metric: "throughput the others kept",
        better: "higher",
        values: pick(slow, servers, (r) => r.throughputKept),
        format: formatPercent,
      },
      {
        metric: "slow client cut off",
        better: "none",
        values: pick(slow, servers, (r) =>
          r.slowClientCutOff === undefined ? undefined : r.slowClientCutOff ? 1 : 0,
        ),
        format: (v) => (v > 0 ? "yes" : "no"),
      },
      {
        metric: "server peak RSS, all reading",
        better: "lower",
        values: pick(slow, servers, (r) => r.peakRssNormal),
        format: formatBytes,
      },
      {
        metric: "server peak RSS, one not reading",
        better: "lower",
        values: pick(slow, servers, (r) => r.peakRssSlow),
        format: formatBytes,
      },
    ];
    out.push(
      "## A slow reader",
      "",
      "The broadcast runs three times: with every client reading, with one more client that never reads, and with every client reading again once it is gone. What the others kept compares the middle run with the mean of the two around it, which evens out a machine whose load changes meanwhile. A server that queues without limit for the stuck client grows its memory and can slow everyone; tcpchat bounds each session's send queue and cuts off a client that falls too far behind (`CHAT_ERR_SEND_QUEUE_FULL`).",
      "",
      chartImage(
        "slow-reader.svg",
        "Deliveries per second with and without a client that does not read",
      ),
      "",
      renderTable(rows, servers),
      "",
    );
  }

  if (scale) {
    out.push(
      "## Connect and memory at scale",
      "",
      `A separate run with ${formatWhole(scale.options.clients)} clients, of the scenarios whose cost grows with the number of connections (\`pnpm bench --clients ${scale.options.clients} --scenario ${scale.options.scenarios?.join(",") ?? "idle,connect"}\`):`,
      "",
      runDescription(scale),
      "",
      ...connectSection(scale, "###"),
      ...idleSection(scale, "###", "memory-at-scale.svg", charts),
    );
  }

  const sweepRun = sweep ?? (results.sweep?.length ? results : undefined);
  if (sweepRun) out.push(...sweepSection(sweepRun, charts));

  const reported = [
    ...results.errors,
    ...results.warnings,
    ...(scale ? [...scale.errors, ...scale.warnings] : []),
    ...(sweep ? [...sweep.errors, ...sweep.warnings] : []),
  ];
  if (reported.length > 0) {
    out.push("## What the bench reported about this run", "");
    for (const line of reported) out.push(`- ${escapeCell(line)}`);
    out.push("");
  }
  return {
    results: `${out.join("\n")}\n`,
    connectionMemory: scale?.scenarios.idle
      ? renderConnectionMemory(scale, "connect-and-memory-at-scale")
      : renderConnectionMemory(results, "memory-per-idle-connection"),
    charts,
  };
}

/**
 * How cost grows with the room: deliveries/s, p99 and memory per connection at each room size
 * of a sweep, as charts (one group per size) and a table.
 * @param {BenchResults} run  a report with a sweep
 * @param {Map<string, string>} charts receives the charts
 */
function sweepSection(run, charts) {
  const points = run.sweep ?? [];
  const servers = [...new Set(points.flatMap((p) => Object.keys(p.servers)))];
  const groups = points.map((p) => `${formatWhole(p.clients)} clients`);
  /** @param {(f: SweepFigures) => number | undefined} get */
  const values = (get) => (/** @type {string} */ server) =>
    points.map((p) => {
      const f = p.servers[server];
      return f ? get(f) : undefined;
    });
  charts.set(
    "sweep-deliveries.svg",
    renderBarChart({
      title: "Broadcast by room size: deliveries per second",
      subtitle: `${run.options.senders} senders, closed loop (higher is better)`,
      groups,
      series: seriesFor(
        servers,
        values((f) => f.closedDeliveriesPerSec),
      ),
      format: formatPerSec,
    }),
  );
  charts.set(
    "sweep-latency.svg",
    renderBarChart({
      title: "Broadcast by room size: p99 latency at a fixed rate",
      subtitle: `Open loop at ${formatPercent(run.options.openLoopFraction)} of each size's maximum, ms (lower is better)`,
      groups,
      series: seriesFor(
        servers,
        values((f) => f.openP99Ms),
      ),
      format: formatMs,
    }),
  );
  charts.set(
    "sweep-memory.svg",
    renderBarChart({
      title: "Idle memory per connection by room size",
      subtitle: "Server RSS per connection after a forced GC (lower is better)",
      groups,
      series: seriesFor(
        servers,
        values((f) => f.rssPerConnection),
      ),
      format: formatBytes,
    }),
  );
  const header = [
    "clients",
    "server",
    "deliveries/s",
    "p99 closed loop",
    "p99 open loop",
    "RSS per connection",
    "heap per connection",
  ];
  /** @param {number | undefined} v @param {(n: number) => string} f */
  const cell = (v, f) => (v === undefined ? "-" : f(v));
  const rows = points.flatMap((p) =>
    Object.entries(p.servers).map(([server, f]) =>
      [
        formatWhole(p.clients),
        escapeCell(server),
        formatPerSec(f.closedDeliveriesPerSec),
        formatMs(f.closedP99Ms),
        cell(f.openP99Ms, formatMs),
        cell(f.rssPerConnection, formatBytes),
        cell(f.heapPerConnection, formatBytes),
      ].join(" | "),
    ),
  );
  return [
    "## How cost grows with the room",
    "",
    `The broadcast scenario and the idle memory measure at each room size, from \`pnpm bench --sweep clients=${points.map((p) => p.clients).join(",")}\`; every size runs against a fresh server, tcpchat beside the coalescing relay (one write per socket per event-loop turn, the least a relay built for throughput does):`,
    "",
    runDescription(run),
    "",
    chartImage("sweep-deliveries.svg", "Broadcast deliveries per second by room size"),
    "",
    chartImage("sweep-latency.svg", "Broadcast p99 latency by room size"),
    "",
    chartImage("sweep-memory.svg", "Idle memory per connection by room size"),
    "",
    `| ${header.join(" | ")} |`,
    `| ${header.map(() => "---").join(" | ")} |`,
    ...rows.map((r) => `| ${r} |`),
    "",
  ];
}

/** @param {Record<string, ConnectRun>} connect @param {string[]} servers @returns {Row[]} */
function connectRows(connect, servers) {
  return [
    {
      metric: "clients greeted",
      better: "none",
      values: pick(connect, servers, (c) => c.ready),
      format: formatCount,
    },
    {
      metric: "time until all greeted",
      better: "lower",
      values: pick(connect, servers, (c) => c.timeToAllReadyMs),
      format: formatMs,
    },
    {
      metric: "connections accepted",
      better: "higher",
      values: pick(connect, servers, (c) => c.connectionsPerSec),
      format: formatPerSec,
    },
    {
      metric: "time to greeting p50",
      better: "lower",
      values: pick(connect, servers, (c) => latencyValue(c.readyLatency, "p50Ms")),
      format: formatMs,
    },
    {
      metric: "time to greeting p99",
      better: "lower",
      values: pick(connect, servers, (c) => latencyValue(c.readyLatency, "p99Ms")),
      format: formatMs,
    },
    {
      metric: "SYNs dropped: listen queue full (whole machine)",
      better: "none",
      values: pick(connect, servers, (c) => c.listenOverflows),
      format: formatCount,
    },
    {
      metric: "failed connections",
      better: "none",
      values: pick(connect, servers, (c) => c.failed),
      format: String,
    },
  ];
}

/**
 * The connect scenario's section, or nothing when the report has none.
 * @param {BenchResults} results @param {string} level heading level, "##" or "###"
 */
function connectSection(results, level) {
  const connect = results.scenarios.connect;
  if (!connect) return [];
  return [
    `${level} Connect: everyone at once`,
    "",
    `All ${formatWhole(results.options.clients)} clients connect at the same moment; a client counts as connected when the server's greeting line arrives. When more connections arrive than the server's listen queue holds, Linux drops the extra SYNs and each of those clients retries a second later (the kernel's \`ListenOverflows\` counter, read before and after; see [Timed out vs refused](/guide/troubleshooting#why-timed-out-without-a-firewall)).`,
    "",
    renderTable(connectRows(connect, results.servers), results.servers),
    "",
  ];
}

/**
 * The idle scenario's section with its chart, or nothing when the report has none.
 * @param {BenchResults} results @param {string} level @param {string} chartFile
 * @param {Map<string, string>} charts receives the chart
 */
function idleSection(results, level, chartFile, charts) {
  const idle = results.scenarios.idle;
  if (!idle) return [];
  charts.set(chartFile, memoryChart(idle, results.servers));
  return [
    `${level} Memory per idle connection`,
    "",
    `The server's memory is read before ${formatWhole(results.options.clients)} clients connect and again while they sit idle, after a forced garbage collection; the difference divided by the number of clients is the cost of one connection.`,
    "",
    chartImage(chartFile, "Server memory per idle connection"),
    "",
    renderTable(memoryRows(idle, results.servers), results.servers),
    "",
  ];
}

/**
 * Deliveries per second with every client reading: the mean of the runs before and after the
 * slow reader's, or the run before when the report predates the second one.
 * @param {SlowReaderRun} run
 */
function allReading(run) {
  const after = run.normalAfter?.deliveriesPerSec;
  return after === undefined
    ? run.normal.deliveriesPerSec
    : (run.normal.deliveriesPerSec + after) / 2;
}

/** @param {Record<string, IdleRun>} idle @param {string[]} servers @returns {Row[]} */
function memoryRows(idle, servers) {
  return [
    {
      metric: "idle clients",
      better: "none",
      values: pick(idle, servers, (i) => i.ready),
      format: formatCount,
    },
    {
      metric: "RSS per connection",
      better: "lower",
      values: pick(idle, servers, (i) => i.rssPerConnection),
      format: formatBytes,
    },
    {
      metric: "JS heap per connection",
      better: "lower",
      values: pick(idle, servers, (i) => i.heapPerConnection),
      format: formatBytes,
    },
    {
      metric: "outside the heap (buffers) per connection",
      better: "none",
      values: pick(idle, servers, (i) => i.externalPerConnection),
      format: formatBytes,
    },
    {
      metric: "server RSS with every client connected",
      better: "lower",
      values: pick(idle, servers, (i) => i.after.rss),
      format: formatBytes,
    },
  ];
}

/** @param {Record<string, IdleRun>} idle @param {string[]} servers */
function memoryChart(idle, servers) {
  return renderBarChart({
    title: "Server memory per idle connection",
    subtitle: "Bytes the server process grew by, per connected client (lower is better)",
    groups: ["RSS", "JS heap", "outside the heap"],
    series: seriesFor(servers, (server) => [
      idle[server]?.rssPerConnection,
      idle[server]?.heapPerConnection,
      idle[server]?.externalPerConnection,
    ]),
    format: formatBytes,
  });
}

/**
 * The memory table for the threads-vs-event-loop guide, or a notice that it is pending.
 * @param {BenchResults} results @param {string} anchor where the performance page shows it
 */
function renderConnectionMemory(results, anchor) {
  const idle = results.scenarios.idle;
  if (!idle) return renderPendingMemory();
  const m = results.machine;
  return [
    `Measured by \`pnpm bench\` (idle scenario) on ${results.startedAt.slice(0, 10)}: ${m.cores} cores (${escapeCell(m.cpuModel)}), Node ${m.node}, ${m.platform}. The server's memory was read before ${formatWhole(results.options.clients)} clients connected and again while they sat idle, after a forced garbage collection; each figure is the difference divided by the number of clients. Full results: [Performance](/performance#${anchor}).`,
    "",
    renderTable(memoryRows(idle, results.servers), results.servers),
    "",
  ].join("\n");
}

/** The performance page when no bench report is committed yet. */
export function renderPendingResults() {
  return [
    "::: warning Figures pending",
    "No bench report is committed yet (`apps/docs/data/bench.json`), so this page shows no figures. It shows none rather than made-up ones: every number here comes from that file. Run the bench and rebuild the docs to fill it in (see [Updating the figures](#updating-the-figures)).",
    ":::",
    "",
  ].join("\n");
}

/** The threads guide's memory table when no bench report is committed yet. */
export function renderPendingMemory() {
  return [
    "::: warning Figures pending",
    "This table is filled from the bench's idle scenario (`apps/docs/data/bench.json`), which is not committed yet. See [Performance](/performance#updating-the-figures).",
    ":::",
    "",
  ].join("\n");
}
