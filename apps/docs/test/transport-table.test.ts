import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { formatBytes, formatPerSec } from "../scripts/perf/format.mjs";
import { checkBenchResults } from "../scripts/perf/render.mjs";
import {
  renderPendingTransports,
  renderTransports,
  TRANSPORTS_COMMAND,
  TRANSPORTS_SCALE_COMMAND,
} from "../scripts/perf/transports.mjs";

/** The committed reports the TCP vs WebSocket guide is built from. */
const report = JSON.parse(
  readFileSync(new URL("../data/bench-transports.json", import.meta.url), "utf8"),
);
const scale = JSON.parse(
  readFileSync(new URL("../data/bench-transports-scale.json", import.meta.url), "utf8"),
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

describe("the TCP vs WebSocket guide's measured table", () => {
  it("comes from a bench report of all four kinds of client", () => {
    expect(checkBenchResults(report)).toEqual([]);
    expect(report.servers).toEqual(["tcpchat", "tcpchat json", "tcpchat ws", "tcpchat tls"]);
    expect(report.options.transports).toEqual(["tcp", "json", "ws", "tls"]);
    expect(report.errors).toEqual([]);
  });

  it("shows the report's own figures, column by column, and the command that made them", () => {
    const page = renderTransports(report);
    const s = report.scenarios;
    const clients = report.options.clients;
    expect(rowCells(page, "broadcast: deliveries per second (closed loop)")).toEqual([
      "broadcast: deliveries per second (closed loop)",
      formatPerSec(s.broadcast["tcpchat"].closed.deliveriesPerSec),
      formatPerSec(s.broadcast["tcpchat json"].closed.deliveriesPerSec),
      formatPerSec(s.broadcast["tcpchat ws"].closed.deliveriesPerSec),
      formatPerSec(s.broadcast["tcpchat tls"].closed.deliveriesPerSec),
      `${(s.broadcast["tcpchat ws"].closed.deliveriesPerSec / s.broadcast["tcpchat"].closed.deliveriesPerSec).toFixed(2)}x`,
    ]);
    expect(rowCells(page, `idle ${clients} clients: RSS per connection`)[3]).toBe(
      formatBytes(s.idle["tcpchat ws"].rssPerConnection),
    );
    expect(rowCells(page, "TLS handshakes per second")[4]).toBe(
      formatPerSec(s.connect["tcpchat tls"].tlsHandshakesPerSec),
    );
    expect(page).toContain(TRANSPORTS_COMMAND);
    expect(page).toContain(report.machine.cpuModel);
    for (const target of [
      "WebSocket broadcast deliveries >= 0.7x TCP",
      "idle WebSocket memory <= 2x TCP per connection",
      "TLS handshake cost reported",
    ]) {
      expect(page).toMatch(new RegExp(`\\| ${target.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`));
    }
  });

  it("takes the idle rows and the memory target from the run with more clients", () => {
    const page = renderTransports(report, scale);
    const idle = scale.scenarios.idle;
    expect(scale.options.clients).toBeGreaterThan(report.options.clients);
    const row = rowCells(page, "idle 2,000 clients: RSS per connection");
    expect(row.slice(1, 4)).toEqual([
      formatBytes(idle["tcpchat"].rssPerConnection),
      formatBytes(idle["tcpchat json"].rssPerConnection),
      formatBytes(idle["tcpchat ws"].rssPerConnection),
    ]);
    expect(row[4]).toBe("-");
    const memory = scale.targets.find((t: { target: string }) =>
      t.target.startsWith("idle WebSocket memory"),
    );
    expect(page).toContain(`| ${memory.target} | ${memory.status} |`);
    expect(page).toContain(TRANSPORTS_SCALE_COMMAND);
  });

  it("shows no figure while no report is committed", () => {
    const pending = renderPendingTransports();
    expect(pending).toContain("Figures pending");
    expect(pending.replace(TRANSPORTS_COMMAND, "")).not.toMatch(/\d/);
  });
});
