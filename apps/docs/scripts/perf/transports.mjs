// @ts-check
/**
 * Turns the JSON of `pnpm bench --transport json,ws --tls` into the measured table of the
 * "Plain TCP vs WebSocket" guide: the same tcpchat, one column per kind of client.
 */
import {
  formatBytes,
  formatCount,
  formatMs,
  formatPerSec,
  formatRatio,
  formatWhole,
  generatorText,
} from "./format.mjs";

/** The command that made `data/bench-transports.json` (the page shows it). */
export const TRANSPORTS_COMMAND =
  "pnpm bench --transport json,ws --tls --no-baseline --scenario connect,idle,broadcast,echo --json ../../apps/docs/data/bench-transports.json";
/**
 * The command that made `data/bench-transports-scale.json`: idle memory with more clients, where
 * a page of RSS more or less is spread thin enough to compare per-connection figures.
 */
export const TRANSPORTS_SCALE_COMMAND =
  "pnpm bench --transport json,ws --no-baseline --scenario connect,idle --clients 2000 --json ../../apps/docs/data/bench-transports-scale.json";

/** Bench labels and the column heads the page gives them, in order. */
const COLUMNS = [
  ["tcpchat", "TCP, text lines"],
  ["tcpchat json", "TCP, JSON lines"],
  ["tcpchat ws", "WebSocket"],
  ["tcpchat tls", "TLS, text lines"],
];

/** The targets of issue "one port" that the bench judges (packages/bench report/targets.ts). */
const TRANSPORT_TARGETS = [
  "WebSocket broadcast deliveries >= 0.7x TCP",
  "idle WebSocket memory <= 2x TCP per connection",
  "TLS handshake cost reported",
];

/** @param {string} cell */
const escapeCell = (cell) => cell.replace(/\|/g, "\\|");

/**
 * @typedef {import("./render.mjs").BenchResults & {
 *   tlsCertificate?: string,
 *   targets?: Array<{ target: string, status: string, seen: string }>,
 * }} TransportResults
 */

/**
 * What the server wrote per delivery during a run, from its own counters.
 * @param {any} run
 */
function bytesPerDelivery(run) {
  const before = run?.server?.before?.stats;
  const after = run?.server?.after?.stats;
  if (!before || !after) return undefined;
  const deliveries = after.deliveries - before.deliveries;
  return deliveries > 0 ? (after.bytesOut - before.bytesOut) / deliveries : undefined;
}

/**
 * The idle rows of one run: memory per connection with `clients` connected.
 * @param {number} clients @param {any} idle
 * @returns {Array<[string, (label: string) => number | undefined, (v: number) => string, "higher" | "lower" | "none"]>}
 */
function idleRows(clients, idle) {
  if (!idle) return [];
  return [
    [
      `idle ${formatWhole(clients)} clients: RSS per connection`,
      (l) => idle[l]?.rssPerConnection,
      formatBytes,
      "lower",
    ],
    [
      `idle ${formatWhole(clients)} clients: JS heap per connection`,
      (l) => idle[l]?.heapPerConnection,
      formatBytes,
      "lower",
    ],
  ];
}

/**
 * The guide's measured section: the run, the table, the targets and what the run warned of.
 * @param {TransportResults} results  the headline run (`data/bench-transports.json`)
 * @param {TransportResults} [scale]  optionally, a connect and idle run with more clients
 *   (`data/bench-transports-scale.json`); the idle rows and the memory target then come from it
 * @returns {string} Markdown
 */
export function renderTransports(results, scale) {
  const s = /** @type {any} */ (results.scenarios);
  const columns = COLUMNS.filter(([label]) => results.servers.includes(label ?? ""));
  const ws = "tcpchat ws";
  const tcp = "tcpchat";
  /** @type {Array<[string, (label: string) => number | undefined, (v: number) => string, "higher" | "lower" | "none"]>} */
  const rows = [
    [
      `connect ${formatWhole(results.options.clients)} clients: all greeted after`,
      (l) => s.connect?.[l]?.timeToAllReadyMs,
      formatMs,
      "lower",
    ],
    ["connections per second", (l) => s.connect?.[l]?.connectionsPerSec, formatPerSec, "higher"],
    ["TLS handshakes per second", (l) => s.connect?.[l]?.tlsHandshakesPerSec, formatPerSec, "none"],
    ...idleRows(results.options.clients, s.idle),
    ...(scale ? idleRows(scale.options.clients, /** @type {any} */ (scale.scenarios).idle) : []),
    [
      "broadcast: deliveries per second (closed loop)",
      (l) => s.broadcast?.[l]?.closed?.deliveriesPerSec,
      formatPerSec,
      "higher",
    ],
    [
      "broadcast: bytes sent per delivery",
      (l) => bytesPerDelivery(s.broadcast?.[l]?.closed),
      (v) => `${v.toFixed(1)} B`,
      "lower",
    ],
    [
      "broadcast at half that rate: latency p50",
      (l) => s.broadcast?.[l]?.open?.latency?.p50Ms,
      formatMs,
      "lower",
    ],
    [
      "broadcast at half that rate: latency p99",
      (l) => s.broadcast?.[l]?.open?.latency?.p99Ms,
      formatMs,
      "lower",
    ],
    ["echo: round trips per second", (l) => s.echo?.[l]?.roundTripsPerSec, formatPerSec, "higher"],
    ["echo: round trip p50", (l) => s.echo?.[l]?.latency?.p50Ms, formatMs, "lower"],
    ["echo: round trip p99", (l) => s.echo?.[l]?.latency?.p99Ms, formatMs, "lower"],
  ];
  const head = ["", ...columns.map(([, name]) => name ?? ""), "WebSocket / TCP text"];
  const table = [
    `| ${head.join(" | ")} |`,
    `| --- |${head
      .slice(1)
      .map(() => " ---: |")
      .join("")}`,
  ];
  for (const [metric, get, format, better] of rows) {
    const values = columns.map(([label]) => get(label ?? ""));
    if (values.every((v) => v === undefined)) continue;
    const wsValue = get(ws);
    const tcpValue = get(tcp);
    const ratio =
      better !== "none" && wsValue !== undefined && tcpValue !== undefined && tcpValue > 0
        ? formatRatio(wsValue / tcpValue)
        : "";
    table.push(
      `| ${[metric, ...values.map((v) => (v === undefined ? "-" : format(v))), ratio].map(escapeCell).join(" | ")} |`,
    );
  }
  const m = results.machine;
  const o = results.options;
  const out = [
    `Measured on ${results.startedAt.replace("T", " ").replace(/\.\d+Z$/, " UTC")}: ${m.cores} cores (${escapeCell(m.cpuModel)}), Node ${m.node}, ${m.platform}; ${formatCount(o.clients)} clients per scenario, ${o.senders} broadcast senders, ${o.size}-byte messages, ${o.durationMs / 1000} s runs; the load generator (${generatorText(results)}) ran on the same machine. Each column is the same tcpchat started afresh with what that kind of client needs (\`webSocket: true\`, a TLS certificate made for the run: ${escapeCell(results.tlsCertificate ?? "none")}).`,
    "",
    "```sh",
    TRANSPORTS_COMMAND,
    ...(scale ? [TRANSPORTS_SCALE_COMMAND] : []),
    "```",
    "",
    ...table,
    "",
  ];
  const memoryTarget = TRANSPORT_TARGETS[1] ?? "";
  const targets = [
    ...(results.targets ?? []).filter((t) => !(scale && t.target.startsWith(memoryTarget))),
    ...(scale?.targets ?? []).filter((t) => t.target.startsWith(memoryTarget)),
  ].filter((t) => TRANSPORT_TARGETS.some((name) => t.target.startsWith(name)));
  if (targets.length > 0) {
    out.push("| target | this run | seen |", "| --- | --- | --- |");
    for (const t of targets)
      out.push(`| ${escapeCell(t.target)} | ${t.status} | ${escapeCell(t.seen)} |`);
    out.push("");
  }
  const warnings = [...results.warnings, ...(scale?.warnings ?? [])];
  const busy = warnings.filter((w) => w.includes("other processes kept"));
  const other = warnings.filter((w) => !w.includes("other processes kept"));
  if (busy.length > 0 || other.length > 0) {
    out.push("What the bench warned of during this run:", "");
    for (const w of [...busy, ...other]) out.push(`- ${escapeCell(w)}`);
    out.push("");
  }
  return out.join("\n");
}

/** The section when no transport report is committed yet. */
export function renderPendingTransports() {
  return [
    "::: warning Figures pending",
    `No transport report is committed yet (\`apps/docs/data/bench-transports.json\`, from \`${TRANSPORTS_COMMAND}\`), so this section shows no figures rather than made-up ones.`,
    ":::",
    "",
  ].join("\n");
}
