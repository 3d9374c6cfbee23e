// @ts-check
/**
 * Writes the performance page's generated parts from the committed bench reports:
 *   data/bench.json (from `pnpm bench --json FILE`)  ->  generated/performance-results.md,
 *   generated/connection-memory.md and public/perf/*.svg;
 *   data/bench-scale.json, if present (a connect and idle run with many clients), adds a
 *   section and feeds the connection-memory table;
 *   data/bench-transports.json (`pnpm bench --transport json,ws --tls`) -> generated/transport-results.md
 *   for the TCP vs WebSocket guide;
 *   data/bench-sweep.json, if present (`--sweep clients=...`), adds the room-size charts.
 * Without the report it writes "figures pending" notices and no charts. A report that exists but
 * cannot be read fails the build: a silent fallback would publish a page without its figures.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import {
  checkBenchResults,
  renderPendingMemory,
  renderPendingResults,
  renderPerformance,
} from "./perf/render.mjs";
import { renderPendingTransports, renderTransports } from "./perf/transports.mjs";

const docsRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const reportFile = process.env.TCPCHAT_BENCH_JSON ?? join(docsRoot, "data/bench.json");
const scaleFile = process.env.TCPCHAT_BENCH_SCALE_JSON ?? join(docsRoot, "data/bench-scale.json");
const transportsFile =
  process.env.TCPCHAT_BENCH_TRANSPORTS_JSON ?? join(docsRoot, "data/bench-transports.json");
const transportsScaleFile =
  process.env.TCPCHAT_BENCH_TRANSPORTS_SCALE_JSON ??
  join(docsRoot, "data/bench-transports-scale.json");
const sweepFile = process.env.TCPCHAT_BENCH_SWEEP_JSON ?? join(docsRoot, "data/bench-sweep.json");
const generatedDir = join(docsRoot, "generated");
const chartsDir = join(docsRoot, "public/perf");

mkdirSync(generatedDir, { recursive: true });
// Charts of an earlier report must not outlive it.
rmSync(chartsDir, { recursive: true, force: true });

if (!existsSync(reportFile)) {
  writeFileSync(join(generatedDir, "performance-results.md"), renderPendingResults());
  writeFileSync(join(generatedDir, "connection-memory.md"), renderPendingMemory());
  process.stderr.write("perf-charts: no data/bench.json yet, the page says figures are pending\n");
} else {
  const data = readReport(reportFile);
  const scale = existsSync(scaleFile) ? readReport(scaleFile) : undefined;
  const sweep = existsSync(sweepFile) ? readReport(sweepFile) : undefined;
  const rendered = renderPerformance(data, scale, sweep);
  mkdirSync(chartsDir, { recursive: true });
  for (const [file, svg] of rendered.charts) writeFileSync(join(chartsDir, file), svg);
  writeFileSync(join(generatedDir, "performance-results.md"), rendered.results);
  writeFileSync(join(generatedDir, "connection-memory.md"), rendered.connectionMemory);
  const sources = [reportFile, scale && scaleFile, sweep && sweepFile].filter(Boolean).join(", ");
  process.stderr.write(`perf-charts: ${rendered.charts.size} charts from ${sources}\n`);
}

if (existsSync(transportsFile)) {
  writeFileSync(
    join(generatedDir, "transport-results.md"),
    renderTransports(
      readReport(transportsFile),
      existsSync(transportsScaleFile) ? readReport(transportsScaleFile) : undefined,
    ),
  );
  process.stderr.write(`perf-charts: transport table from ${transportsFile}\n`);
} else {
  writeFileSync(join(generatedDir, "transport-results.md"), renderPendingTransports());
  process.stderr.write("perf-charts: no data/bench-transports.json yet, its table is pending\n");
}

/**
 * Reads and checks one report; exits with the problems when it is not one.
 * @param {string} file
 * @returns {import("./perf/render.mjs").BenchResults}
 */
function readReport(file) {
  const data = JSON.parse(readFileSync(file, "utf8"));
  const problems = checkBenchResults(data);
  if (problems.length > 0) {
    process.stderr.write(
      `perf-charts: ${file} is not a bench report:\n  ${problems.join("\n  ")}\n`,
    );
    process.exit(1);
  }
  return data;
}
