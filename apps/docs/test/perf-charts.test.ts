import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { formatBytes, formatPerSec } from "../scripts/perf/format.mjs";
import {
  advantage,
  type BenchResults,
  checkBenchResults,
  renderPendingMemory,
  renderPendingResults,
  renderPerformance,
} from "../scripts/perf/render.mjs";
import { renderBarChart } from "../scripts/perf/svg-chart.mjs";

/** A real `pnpm bench --json` output (500 clients), kept as a fixture of the file's shape. */
const report: BenchResults = JSON.parse(
  readFileSync(new URL("./fixtures/bench-report.json", import.meta.url), "utf8"),
);

/** The cells of the table row whose first cell is `metric`. */
function rowCells(markdown: string, metric: string): string[] {
  const line = markdown.split("\n").find((l) => l.startsWith(`| ${metric} |`));
  if (!line) throw new Error(`no row "${metric}"`);
  return line
    .slice(1, -1)
    .split("|")
    .map((cell) => cell.trim());
}

describe("performance page generator", () => {
  it("accepts a bench report and says what is wrong with anything else", () => {
    expect(checkBenchResults(report)).toEqual([]);
    expect(checkBenchResults(null)).toEqual(["not a JSON object"]);
    expect(checkBenchResults({ tool: "other", servers: [] })).toEqual([
      '"tool" is not "tcpchat-bench"',
      '"startedAt" is missing',
      '"machine" is missing',
      '"options" is missing',
      '"scenarios" is missing',
      '"servers" must list at least one server',
    ]);
  });

  it("puts the report's own figures in the tables, measured server beside the baseline", () => {
    const { results } = renderPerformance(report);
    const broadcast = report.scenarios.broadcast!;
    const cells = rowCells(results, "closed loop: deliveries");
    expect(cells).toEqual([
      "closed loop: deliveries",
      formatPerSec(broadcast["tcpchat"]!.closed.deliveriesPerSec),
      formatPerSec(broadcast["naive relay"]!.closed.deliveriesPerSec),
      expect.stringMatching(/^[\d.]+x (better|worse)$/),
    ]);
    const idle = report.scenarios.idle!;
    expect(rowCells(results, "RSS per connection")[1]).toBe(
      formatBytes(idle["tcpchat"]!.rssPerConnection),
    );
    expect(results).toContain(report.machine.cpuModel);
    expect(results).toContain(report.machine.node);
  });

  it("names the load generator the report ran with: worker threads, or native processes", () => {
    expect(rowCells(renderPerformance(report).results, "load generator")[1]).toBe(
      `${report.loadGeneratorWorkers} worker threads on the same machine`,
    );
    const native = { ...report, generator: "native", loadGeneratorWorkers: 2 };
    expect(rowCells(renderPerformance(native).results, "load generator")[1]).toBe(
      "native, 2 processes on the same machine",
    );
  });

  it("writes every chart the page shows, and shows every chart it writes", () => {
    const { results, charts } = renderPerformance(report);
    const referenced = [...results.matchAll(/\]\(\/perf\/([\w-]+\.svg)\)/g)].map((m) => m[1]);
    expect(new Set(referenced)).toEqual(new Set(charts.keys()));
    for (const svg of charts.values()) {
      expect(svg.startsWith("<svg xmlns=")).toBe(true);
      expect(svg.trimEnd().endsWith("</svg>")).toBe(true);
      expect(svg).not.toContain("NaN");
    }
  });

  it("fills the connection-memory table of the threads guide from the idle scenario", () => {
    const { connectionMemory } = renderPerformance(report);
    expect(connectionMemory).toContain("| RSS per connection |");
    const withoutIdle = { ...report, scenarios: { ...report.scenarios, idle: undefined } };
    expect(renderPerformance(withoutIdle).connectionMemory).toContain("Figures pending");
  });

  it("adds a scale run's connect and memory figures, and the guide's table then uses them", () => {
    const { connect, idle } = report.scenarios;
    const scale: BenchResults = { ...report, scenarios: { connect, idle } };
    const rendered = renderPerformance(report, scale);
    expect(rendered.results).toContain("## Connect and memory at scale");
    expect(rendered.charts.has("memory-at-scale.svg")).toBe(true);
    expect(rendered.results).toContain("](/perf/memory-at-scale.svg)");
    expect(rendered.connectionMemory).toContain("/performance#connect-and-memory-at-scale");
    expect(renderPerformance(report).connectionMemory).toContain(
      "/performance#memory-per-idle-connection",
    );
  });

  it("charts a sweep by room size, from the headline run or a sweep run of its own", () => {
    const figures = (clients: number, perSec: number) => ({
      clients,
      ready: clients,
      rssPerConnection: 4000,
      heapPerConnection: 1400,
      closedDeliveriesPerSec: perSec,
      closedP99Ms: 30,
      openDeliveriesPerSec: perSec / 2,
      openP99Ms: 8,
      peakRss: 9e7,
      loadGeneratorBusiest: 0.5,
    });
    const sweep: BenchResults = {
      ...report,
      sweep: [
        {
          clients: 100,
          servers: { tcpchat: figures(100, 1.5e6), "coalescing relay": figures(100, 1e6) },
        },
        { clients: 5000, servers: { tcpchat: figures(5000, 7e6) } },
      ],
    };
    expect(renderPerformance(report).results).not.toContain("How cost grows with the room");
    for (const rendered of [
      renderPerformance(report, undefined, sweep),
      renderPerformance(sweep),
    ]) {
      expect(rendered.results).toContain("## How cost grows with the room");
      expect(rendered.results).toContain("--sweep clients=100,5000");
      for (const chart of ["sweep-deliveries.svg", "sweep-latency.svg", "sweep-memory.svg"]) {
        expect(rendered.charts.has(chart)).toBe(true);
        expect(rendered.results).toContain(`](/perf/${chart})`);
      }
      expect(rendered.results).toContain(`| 5,000 | tcpchat | ${formatPerSec(7e6)} |`);
      // The relay was not measured at 5,000: its bar says so instead of showing zero.
      expect(rendered.charts.get("sweep-deliveries.svg")).toContain("not measured");
    }
  });

  it("shows no figure at all while no report is committed", () => {
    for (const pending of [renderPendingResults(), renderPendingMemory()]) {
      expect(pending).toContain("Figures pending");
      expect(pending).not.toMatch(/\d/);
    }
  });

  it("compares in the direction that is better", () => {
    expect(advantage("higher", 200, 100)).toBe(2);
    expect(advantage("lower", 50, 100)).toBe(2);
    expect(advantage("none", 1, 2)).toBeUndefined();
    expect(advantage("lower", 0, 2)).toBeUndefined();
  });

  it("escapes text in charts and marks values that were not measured", () => {
    const svg = renderBarChart({
      title: "a <b> & c",
      subtitle: "s",
      groups: ["g"],
      series: [
        { name: "x", color: "#000", values: [undefined] },
        { name: "y", color: "#111", values: [5] },
      ],
      format: String,
    });
    expect(svg).toContain("a &#60;b&#62; &#38; c");
    expect(svg).toContain("not measured");
  });
});
