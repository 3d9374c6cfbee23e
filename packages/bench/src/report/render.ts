import { renderAbuse } from "../abuse/report.js";
import { formatBytes, formatCount, formatMs, formatRatio } from "../format.js";
import { GENERATOR_KINDS, type LoadGeneratorUsage } from "../load/generator.js";
import type { BenchResults } from "../suite.js";
import { clusterLines, clusterMarkdown } from "./cluster.js";
import {
  advantage,
  buildRows,
  MIN_CLIENTS_FOR_MEMORY,
  type ReportRow,
  scaleNotes,
} from "./rows.js";
import { CLUSTER_TARGET, type TargetCheck, targetChecks } from "./targets.js";

/**
 * Why the naive relay can come out ahead on a small run, by scenario: what tcpchat does that a
 * few clients do not repay. Shown only beside ratios the relay wins on a small run.
 */
const SMALL_RUN_REASONS: Record<string, string> = {
  connect:
    "tcpchat does more per connection than the relay (accept policy, a session, a nick, joining " +
    "#lobby and telling its members); a burst of a few clients takes milliseconds, and that work shows",
  idle:
    "with few clients the figure is mostly the process itself, and tcpchat loads more code than " +
    `the relay; per-connection costs need >= ${MIN_CLIENTS_FOR_MEMORY} clients`,
  broadcast:
    "tcpchat batches a turn's writes; with few clients and short runs there is little to batch, " +
    "and run-to-run noise is larger than the difference",
  echo:
    "tcpchat holds a turn's writes until the end of the event-loop turn to batch them; a few " +
    "pairs give it little to batch, so the extra turn costs latency and no syscalls are saved",
  "slow-reader":
    "with few clients the peak is mostly the process itself, and tcpchat loads more code than the relay",
};

/**
 * Cores other processes kept busy during a scenario's runs, at most (undefined where not
 * measured): a busy machine is another reason a small run's ratio can go either way.
 */
function otherCores(results: BenchResults, scenario: string): number | undefined {
  const s = results.scenarios;
  const runs =
    scenario === "broadcast"
      ? Object.values(s.broadcast ?? {}).flatMap((b) => [b.closed, b.open])
      : scenario === "slow-reader"
        ? Object.values(s["slow-reader"] ?? {}).flatMap((r) => [r.normal, r.slow, r.normalAfter])
        : [];
  const cores = runs.flatMap((r) => (r?.otherCpuCores === undefined ? [] : [r.otherCpuCores]));
  return cores.length > 0 ? Math.max(...cores) : undefined;
}

/** A run too small for the docs' ratios: fewer clients than the headline run, or short runs. */
function smallRun(results: BenchResults): boolean {
  return results.options.clients < 500 || results.options.durationMs < 1000;
}

/** Label of the turn-coalescing baseline, which gets a ratio column of its own. */
const COALESCING_RELAY = "coalescing relay";

/**
 * The ratio cell: which server is better on this row and by how much, e.g. `tcpchat 5.54x
 * better`; `(a)` points to a note on why the relay wins a small run.
 */
function ratioCell(
  row: ReportRow,
  pair: readonly [string, string],
  footnotes: Map<string, string>,
  small: boolean,
): string {
  const ratio = advantage(row.better, row.values[pair[0]], row.values[pair[1]]);
  if (ratio === undefined) return "";
  if (Math.abs(ratio - 1) < 0.005) return "even";
  if (ratio > 1) return `${pair[0]} ${formatRatio(ratio)} better`;
  const cell = `${pair[1]} ${formatRatio(1 / ratio)} better`;
  const reason = SMALL_RUN_REASONS[row.scenario];
  // The reasons explain the naive relay winning, not another transport of tcpchat's.
  if (!small || !reason || pair[1] !== "naive relay") return cell;
  if (!footnotes.has(row.scenario)) {
    footnotes.set(row.scenario, `(${String.fromCharCode(97 + footnotes.size)})`);
  }
  return `${cell} ${footnotes.get(row.scenario)}`;
}

/** The cells of the table (header, then one array per row), and the notes its marks point to. */
function cells(results: BenchResults): { table: string[][]; notes: string[] } {
  const servers = results.servers;
  // The measured server against the next column, and against the coalescing relay when it ran.
  const others = servers.slice(1, 2);
  if (servers.includes(COALESCING_RELAY) && !others.includes(COALESCING_RELAY)) {
    others.push(COALESCING_RELAY);
  }
  const pairs = others.map((other) => [servers[0]!, other] as const);
  const header = ["scenario", "metric", ...servers];
  for (const [first, other] of pairs) header.push(`${first} vs ${other}`);
  const footnotes = new Map<string, string>();
  const small = smallRun(results);
  const body = buildRows(results).map((row) => {
    const line = [row.scenario, row.metric];
    for (const server of servers) {
      const v = row.values[server];
      line.push(v === undefined ? "-" : row.format(v));
    }
    for (const pair of pairs) line.push(ratioCell(row, pair, footnotes, small));
    return line;
  });
  const notes = [...footnotes].map(([scenario, mark]) => {
    const busy = otherCores(results, scenario);
    const also =
      busy !== undefined && busy > 0.25
        ? `; other processes kept up to ${busy.toFixed(2)} cores busy during these runs`
        : "";
    return `${mark} ${scenario}: ${SMALL_RUN_REASONS[scenario]}${also}.`;
  });
  return { table: [header, ...body], notes };
}

/**
 * The targets this run judged, then one line per kind of run that the others need (a quick run
 * judges none, and says so in a line or two instead of a column of n/a).
 */
function targetLines(checks: TargetCheck[]): string[] {
  const judged = checks.filter((c) => c.status !== "n/a");
  const lines = judged.map((c) => `${c.status.padEnd(6)} ${c.target}: ${c.seen}`);
  if (judged.length === 0) lines.push("none can be judged by a run of this size.");
  const byNeed = new Map<string, string[]>();
  for (const check of checks) {
    if (check.status !== "n/a") continue;
    const need = check.needs ?? "other conditions";
    byNeed.set(need, [...(byNeed.get(need) ?? []), check.target]);
  }
  for (const [need, targets] of byNeed) lines.push(`need ${need}: ${targets.join("; ")}`);
  return lines;
}

function loadGeneratorLines(results: BenchResults): string[] {
  const lines: string[] = [];
  const add = (label: string, usage: LoadGeneratorUsage | undefined) => {
    if (!usage) return;
    const busiest = Math.max(...usage.workerUtilization);
    const unit = usage.generator === GENERATOR_KINDS.native ? "process" : "worker";
    lines.push(
      `${label}: ${usage.cpuCores.toFixed(2)} cores, busiest ${unit} ${(busiest * 100).toFixed(0)}%` +
        (busiest > 0.9 ? " (saturated)" : `, headroom ${((1 - busiest) * 100).toFixed(0)}%`),
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

/** The 1-minute load average (what the run felt), or `?` when not recorded. */
function formatLoad(load: readonly number[] | undefined): string {
  return load?.[0] === undefined ? "?" : load[0].toFixed(2);
}

function describeRun(results: BenchResults): string {
  const o = results.options;
  const m = results.machine;
  return (
    `${formatCount(o.clients)} clients, ${o.senders} senders, ${o.size} B messages, ${o.durationMs / 1000} s runs; ` +
    `${m.cores} cores (${m.cpuModel}), Node ${m.node}, load generator: ${describeGenerator(results)}; ` +
    // Older result files have no window: they connected every client at once.
    `clients connect ${(o.connectWindow ?? 0) > 0 && o.connectWindow < o.clients ? `at most ${formatCount(o.connectWindow)} at once` : "all at once"}; ` +
    (results.pinning
      ? `servers on CPU ${results.pinning.server}, load generator on CPU ${results.pinning.generator}; `
      : "") +
    `load average ${formatLoad(m.loadAverage)} at start, ${formatLoad(results.loadAverageAtEnd)} at end`
  );
}

/** Which load generator ran, how many of it, and why not native when it was passed over. */
function describeGenerator(results: BenchResults): string {
  const n = results.loadGeneratorWorkers;
  if (results.generator === GENERATOR_KINDS.native) return `native, ${n} processes`;
  return `js, ${n} worker threads${results.generatorNotice ? ` (${results.generatorNotice.replace(/^load generator: js, /, "")})` : ""}`;
}

/** The plain-text report for stdout. */
export function renderTable(results: BenchResults): string {
  const { table, notes } = cells(results);
  const abuse = results.scenarios.abuse;
  if (table.length === 1 && abuse) {
    // Only the abuse scenario ran: its report stands alone.
    return renderAbuse(abuse) + renderProblems(results);
  }
  const cluster = results.scenarios.cluster;
  if (table.length === 1 && cluster) {
    // Only the cluster run: its table stands alone.
    const out = [
      `tcpchat bench: ${describeRun(results)}`,
      "",
      "Cluster:",
      ...clusterLines(cluster),
    ];
    out.push("", "Targets:");
    // The other targets belong to scenarios this run did not have.
    const checks = targetChecks(results).filter((c) => c.target === CLUSTER_TARGET);
    for (const line of targetLines(checks)) out.push(`  ${line}`);
    return `${out.join("\n")}\n${renderProblems(results)}`;
  }
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
  for (const note of notes) out.push(note);
  const unshown = scaleNotes(results);
  if (unshown.length > 0) {
    out.push("", "Not shown at this scale:");
    for (const note of unshown) out.push(`  ${note}`);
  }
  out.push("", "Targets:");
  for (const line of targetLines(targetChecks(results))) out.push(`  ${line}`);
  out.push("", "Load generator CPU:");
  for (const line of loadGeneratorLines(results)) out.push(`  ${line}`);
  const sweep = sweepLines(results);
  if (sweep.length > 0) out.push("", "Sweep (broadcast and idle memory by room size):", ...sweep);
  if (cluster) out.push("", "Cluster:", ...clusterLines(cluster));
  if (abuse) out.push("", renderAbuse(abuse).trimEnd());
  return `${out.join("\n")}\n${renderProblems(results)}`;
}

/** The sweep as a small table: one row per room size and server. */
function sweepLines(results: BenchResults): string[] {
  if (!results.sweep || results.sweep.length === 0) return [];
  const rows = [
    [
      "clients",
      "server",
      "deliveries/s",
      "closed p99",
      "open p99",
      "RSS/conn",
      "heap/conn",
      "LG busiest",
    ],
  ];
  const maybe = (v: number | undefined, f: (n: number) => string) => (v === undefined ? "-" : f(v));
  for (const point of results.sweep) {
    for (const [label, f] of Object.entries(point.servers)) {
      rows.push([
        formatCount(point.clients),
        label,
        `${formatCount(f.closedDeliveriesPerSec)}`,
        formatMs(f.closedP99Ms),
        maybe(f.openP99Ms, formatMs),
        maybe(f.rssPerConnection, formatBytes),
        maybe(f.heapPerConnection, formatBytes),
        `${(f.loadGeneratorBusiest * 100).toFixed(0)}%`,
      ]);
    }
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map(
    (r) =>
      `  ${r
        .map((cell, c) => (c < 2 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!)))
        .join("  ")
        .trimEnd()}`,
  );
}

/** Warnings and errors, each under its heading (empty when there are none). */
function renderProblems(results: BenchResults): string {
  const out: string[] = [];
  if (results.warnings.length > 0) {
    out.push("", "Warnings:");
    for (const w of results.warnings) out.push(`  ${w}`);
  }
  if (results.errors.length > 0) {
    out.push("", "Errors:");
    for (const e of results.errors) out.push(`  ${e}`);
  }
  return out.length > 0 ? `${out.join("\n")}\n` : "";
}

/** The report as Markdown, for the docs. */
export function renderMarkdown(results: BenchResults): string {
  const { table, notes } = cells(results);
  const escapeCell = (cell: string) => cell.replace(/\|/g, "\\|");
  const out = [`Measured with \`pnpm bench\`: ${describeRun(results)}.`, ""];
  if (table.length > 1) {
    out.push(`| ${table[0]!.map(escapeCell).join(" | ")} |`);
    out.push(`|${table[0]!.map((_, c) => (c >= 2 ? " ---: " : " --- ")).join("|")}|`);
    for (const row of table.slice(1)) out.push(`| ${row.map(escapeCell).join(" | ")} |`);
  }
  const cluster = results.scenarios.cluster;
  if (cluster) out.push(...(table.length > 1 ? [""] : []), ...clusterMarkdown(cluster));
  if (notes.length > 0) out.push("", ...notes.map((n) => escapeCell(n)));
  const unshown = scaleNotes(results);
  if (unshown.length > 0) out.push("", ...unshown.map((n) => `- ${escapeCell(n)}`));
  const checks = targetChecks(results);
  const judged = checks.filter((c) => c.status !== "n/a");
  if (judged.length > 0) {
    out.push("", "| target | status | seen |", "| --- | --- | --- |");
    for (const check of judged) out.push(`| ${check.target} | ${check.status} | ${check.seen} |`);
  }
  const rest = targetLines(checks.filter((c) => c.status === "n/a")).slice(
    judged.length > 0 ? 1 : 0,
  );
  if (rest.length > 0) out.push("", ...rest.map((l) => `- Targets ${escapeCell(l)}`));
  const generator = loadGeneratorLines(results);
  if (generator.length > 0) {
    out.push("", "Load generator CPU:", "", ...generator.map((l) => `- ${escapeCell(l)}`));
  }
  const abuse = results.scenarios.abuse;
  // The abuse report is laid out as text; in Markdown it keeps its layout in a code block.
  if (abuse) out.push("", "```text", renderAbuse(abuse).trimEnd(), "```");
  if (results.warnings.length > 0) {
    out.push("", ...results.warnings.map((w) => `- ${escapeCell(w)}`));
  }
  return `${out.join("\n")}\n`;
}
