import { formatMs, formatRatio } from "../format.js";
import type { BenchResults } from "../suite.js";
import { perSec, type ReportRow } from "./rows.js";

const SCENARIO = "broadcast-history";

/**
 * The broadcast-history rows: deliveries/s with history off and on, their ratio and the commit
 * lag, all in the measured server's column (tcpchat is the only server the scenario runs).
 */
export function historyRows(results: BenchResults): ReportRow[] {
  const figures = results.scenarios[SCENARIO];
  if (!figures) return [];
  const column = results.servers[0] ?? "tcpchat";
  const row = (
    metric: string,
    value: number,
    format: (v: number) => string,
    better: ReportRow["better"] = "none",
  ): ReportRow => ({ scenario: SCENARIO, metric, better, values: { [column]: value }, format });
  return [
    row("deliveries, history off", figures.offDeliveriesPerSec, perSec),
    row("deliveries, history on", figures.onDeliveriesPerSec, perSec),
    row("history on / off", figures.ratio, formatRatio),
    row("history write lag p50", figures.lagP50Ms, formatMs),
    row("history write lag p99", figures.lagP99Ms, formatMs),
  ];
}
