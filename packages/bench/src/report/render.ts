import { renderAbuse } from "../abuse/report.js";
import { formatCount, formatRatio } from "../format.js";
import type { BenchResults } from "../suite.js";
import { advantage, buildRows } from "./rows.js";
import { targetChecks } from "./targets.js";

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
  const abuse = results.scenarios.abuse;
  if (table.length === 1 && abuse) {
    // Only the abuse scenario ran: its report stands alone.
    return renderAbuse(abuse) + renderProblems(results);
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
  out.push("", "Targets:");
  for (const check of targetChecks(results))
    out.push(`  ${check.status.padEnd(6)} ${check.target}: ${check.seen}`);
  out.push("", "Load generator CPU:");
  for (const line of loadGeneratorLines(results)) out.push(`  ${line}`);
  if (abuse) out.push("", renderAbuse(abuse).trimEnd());
  return `${out.join("\n")}\n${renderProblems(results)}`;
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
