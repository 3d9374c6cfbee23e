import { formatCount, formatMs } from "../format.js";
import type { ClusterRun, ClusterScenarioFigures } from "../scenarios/cluster.js";
import type { BroadcastFigures } from "../scenarios/context.js";

/** The cluster table's header. */
const HEADER = [
  "run",
  "deliveries/s",
  "messages/s",
  "latency",
  "p50",
  "p99",
  "servers CPU",
  "Redis CPU",
  "Redis batches/s",
  "Redis per batch",
  "Redis per message",
];

function row(
  label: string,
  run: BroadcastFigures,
  latencyKind: string,
  cluster: ClusterRun | undefined,
): string[] {
  const redis = cluster?.redis;
  const dash = "-";
  return [
    label,
    formatCount(run.deliveriesPerSec),
    formatCount(run.messagesPerSec),
    latencyKind,
    formatMs(run.latency.p50Ms),
    formatMs(run.latency.p99Ms),
    cluster
      ? `${cluster.nodeCpuCores.map((c) => c.toFixed(2)).join(" + ")} cores`
      : run.server
        ? `${run.server.cpuCores.toFixed(2)} cores`
        : dash,
    redis ? `${(redis.cores * 100).toFixed(0)}% of a core` : dash,
    redis ? formatCount(redis.batches / redis.wallSeconds) : dash,
    redis?.usPerBatch === undefined ? dash : `${redis.usPerBatch.toFixed(1)} µs`,
    redis?.usPerMessage === undefined ? dash : `${redis.usPerMessage.toFixed(2)} µs`,
  ];
}

/** The cluster scenario as rows of cells, header first. */
export function clusterTable(c: ClusterScenarioFigures): string[][] {
  const rows = [HEADER, row("single node closed loop", c.single.closed, "all", undefined)];
  if (c.single.open) rows.push(row("single node open loop", c.single.open, "all", undefined));
  rows.push(row(`${c.nodes} nodes closed loop`, c.closed.run, "cross-node", c.closed));
  if (c.open) rows.push(row(`${c.nodes} nodes open loop`, c.open.run, "cross-node", c.open));
  return rows;
}

/** One line on how the cluster run was laid out. */
export function clusterSummary(c: ClusterScenarioFigures): string {
  return (
    `${c.nodes} tcpchat nodes on one redis-server (loopback), ${formatCount(c.clientsPerNode)} clients ` +
    `per node in one room, senders on every node; the single node runs without Redis; open loops at ${formatCount(c.openRate)} messages/s ` +
    `(the single node's closed-loop rate times --open-rate); every node counted every member ` +
    `${formatMs(c.settleMs)} after the last client was greeted. Latency of the nodes' runs is ` +
    "cross-node only (sender and receiver on different nodes); Redis CPU from /proc/<pid>/stat."
  );
}

/** The cluster section of the text report (indented table and its summary). */
export function clusterLines(c: ClusterScenarioFigures): string[] {
  const table = clusterTable(c);
  const widths = table[0]!.map((_, col) => Math.max(...table.map((r) => r[col]!.length)));
  const lines = table.map(
    (r) =>
      `  ${r
        .map((cell, col) =>
          col === 0 || col === 3 ? cell.padEnd(widths[col]!) : cell.padStart(widths[col]!),
        )
        .join("  ")
        .trimEnd()}`,
  );
  lines.splice(1, 0, `  ${widths.map((w) => "-".repeat(w)).join("  ")}`);
  return [`  ${clusterSummary(c)}`, "", ...lines];
}

/** The cluster section as Markdown. */
export function clusterMarkdown(c: ClusterScenarioFigures): string[] {
  const table = clusterTable(c);
  const out = [clusterSummary(c), ""];
  out.push(`| ${table[0]!.join(" | ")} |`);
  out.push(
    `|${table[0]!.map((_, col) => (col === 0 || col === 3 ? " --- " : " ---: ")).join("|")}|`,
  );
  for (const r of table.slice(1)) out.push(`| ${r.join(" | ")} |`);
  return out;
}
