import { describe, expect, it } from "vitest";
import { parseArgs } from "./args.js";
import { formatBytes, formatCount, formatMs, formatPercent, formatRatio } from "./format.js";
import {
  createLatencyHistogram,
  encodeHistogram,
  mergeHistograms,
  summarizeLatency,
} from "./latency.js";
import { advantage, buildRows, renderMarkdown, renderTable, targetChecks } from "./report.js";
import type { BroadcastFigures } from "./scenarios/context.js";
import type { BenchResults } from "./suite.js";

describe("formatting", () => {
  it("scales counts, bytes, times, shares and ratios", () => {
    expect(formatCount(6_460_000)).toBe("6.46 M");
    expect(formatCount(63_100)).toBe("63.1 k");
    expect(formatCount(1_590)).toBe("1.59 k");
    expect(formatCount(500)).toBe("500");
    expect(formatBytes(5714)).toBe("5.58 KiB");
    expect(formatBytes(61 * 1024 * 1024)).toBe("61.0 MiB");
    expect(formatMs(2250)).toBe("2.25 s");
    expect(formatMs(0.954)).toBe("0.95 ms");
    expect(formatPercent(0.934)).toBe("93.4%");
    expect(formatRatio(102.4)).toBe("102.4x");
    expect(formatRatio(0.51)).toBe("0.51x");
  });
});

describe("advantage", () => {
  it("is first/second when higher is better and second/first when lower is", () => {
    expect(advantage("higher", 6e6, 2e5)).toBe(30);
    expect(advantage("lower", 10, 40)).toBe(4);
    expect(advantage("none", 1, 2)).toBeUndefined();
    expect(advantage("higher", 1, 0)).toBeUndefined();
    expect(advantage("higher", undefined, 2)).toBeUndefined();
  });
});

describe("latency histograms", () => {
  it("merge across workers and report milliseconds", () => {
    const a = createLatencyHistogram();
    const b = createLatencyHistogram();
    for (let us = 1; us <= 1000; us++) a.recordValue(us * 10);
    b.recordValue(5_000_000);
    const merged = mergeHistograms([encodeHistogram(a), encodeHistogram(b)]);
    const summary = summarizeLatency(merged);
    expect(summary.count).toBe(1001);
    expect(summary.p50Ms).toBeCloseTo(5, 1);
    expect(summary.maxMs).toBeCloseTo(5000, -1);
  });
});

function broadcastRun(
  mode: "closed" | "open",
  deliveriesPerSec: number,
  p99Ms: number,
): BroadcastFigures {
  const latency = { count: 100, p50Ms: 1, p90Ms: 2, p99Ms, p999Ms: p99Ms, maxMs: p99Ms };
  return {
    mode,
    receivers: 500,
    senders: 10,
    targetRate: mode === "open" ? 1000 : undefined,
    sent: 1000,
    sendSeconds: 1,
    messagesPerSec: deliveriesPerSec / 500,
    expected: 500_000,
    delivered: 500_000,
    deliverySeconds: 1,
    deliveriesPerSec,
    gaps: 0,
    duplicates: 0,
    mismatchedStreams: 0,
    checkedStreams: 180,
    receiversShort: 0,
    latency,
    sendLag: mode === "open" ? latency : undefined,
    loadGenerator: { cpuCores: 0.5, workerUtilization: [0.4, 0.95], wallMs: 1000 },
    server: undefined,
    otherCpuCores: 0,
  };
}

function sampleResults(): BenchResults {
  return {
    tool: "tcpchat-bench",
    startedAt: "2026-01-01T00:00:00.000Z",
    durationMs: 1000,
    machine: {
      cores: 2,
      cpuModel: "test cpu",
      node: "v20.0.0",
      platform: "linux-x64",
      osRelease: "6",
      totalMemoryBytes: 1,
      loadAverage: [0, 0, 0],
      commit: "abc",
      dirty: false,
      openFileLimit: 20000,
    },
    loadAverageAtEnd: [1.5, 1, 1],
    options: parseArgs([]),
    servers: ["tcpchat", "naive relay"],
    loadGeneratorWorkers: 2,
    serverOptions: { throughput: {}, slowReader: {} },
    scenarios: {
      broadcast: {
        tcpchat: { closed: broadcastRun("closed", 6e6, 30), open: broadcastRun("open", 3e6, 12) },
        "naive relay": {
          closed: broadcastRun("closed", 2e5, 3000),
          open: broadcastRun("open", 1e5, 300),
        },
      },
    },
    warnings: ["something to note"],
    errors: [],
  };
}

describe("report", () => {
  it("puts each server's figure and the ratio on one row", () => {
    const rows = buildRows(sampleResults());
    const deliveries = rows.find((r) => r.metric === "closed loop deliveries")!;
    expect(deliveries.values).toEqual({ tcpchat: 6e6, "naive relay": 2e5 });
    expect(advantage(deliveries.better, 6e6, 2e5)).toBe(30);
  });

  it("renders a table with ratios, targets, load-generator use and warnings", () => {
    const text = renderTable(sampleResults());
    expect(text).toMatch(
      /closed loop deliveries\s+6\.00 M\/s\s+200\.0 k\/s\s+tcpchat 30\.0x better/,
    );
    expect(text).toContain("met    broadcast deliveries >= 20x the naive relay: 30.0x");
    expect(text).toContain("missed open loop p99 <= 10 ms: 12.0 ms");
    expect(text).not.toContain("n/a");
    expect(text).toMatch(/need what this run left out \(.*\): .*idle RSS <= 4 KB/);
    expect(text).toContain("busiest worker 95% (saturated)");
    expect(text).toContain("load average 0.00 at start, 1.50 at end");
    expect(text).toContain("something to note");
  });

  it("gives the load generator's headroom for every run, and one ratio column per baseline", () => {
    const results = sampleResults();
    const relay = results.scenarios.broadcast!["naive relay"]!;
    relay.open = {
      ...relay.open!,
      loadGenerator: { cpuCores: 0.3, workerUtilization: [0.4, 0.25], wallMs: 1000 },
    };
    results.servers.push("coalescing relay");
    results.scenarios.broadcast!["coalescing relay"] = {
      closed: broadcastRun("closed", 5e6, 25),
      open: undefined,
    };
    const text = renderTable(results);
    expect(text).toContain(
      "naive relay broadcast open loop: 0.30 cores, busiest worker 40%, headroom 60%",
    );
    expect(text).toMatch(
      /closed loop deliveries\s+6\.00 M\/s\s+200\.0 k\/s\s+5\.00 M\/s\s+tcpchat 30\.0x better\s+tcpchat 1\.20x better/,
    );
    expect(text).toContain("met    broadcast deliveries >= 0.9x the coalescing relay: 1.20x");
  });

  it("names the generator that ran: native processes by their busiest one, js and why not native", () => {
    const results = sampleResults();
    results.generator = "native";
    const relay = results.scenarios.broadcast!["naive relay"]!;
    relay.open = {
      ...relay.open!,
      loadGenerator: {
        cpuCores: 0.35,
        workerUtilization: [0.18, 0.15],
        wallMs: 1000,
        generator: "native",
      },
    };
    let text = renderTable(results);
    expect(text).toContain("load generator: native, 2 processes;");
    expect(text).toContain(
      "naive relay broadcast open loop: 0.35 cores, busiest process 18%, headroom 82%",
    );
    results.generator = "js";
    results.generatorNotice =
      "load generator: js, because the native load generator does not speak tls";
    text = renderTable(results);
    expect(text).toContain(
      "load generator: js, 2 worker threads (because the native load generator does not speak tls);",
    );
  });

  it("names the better side of every ratio, and says why the relay wins a small run", () => {
    const results = sampleResults();
    results.options = parseArgs(["--quick"]);
    results.scenarios.broadcast!.tcpchat!.open = {
      ...broadcastRun("open", 3e6, 600),
      otherCpuCores: 1.2,
    };
    const text = renderTable(results);
    expect(text).toContain("other processes kept up to 1.20 cores busy during these runs.");
    expect(text).toMatch(
      /open loop latency p99\s+600 ms\s+300 ms\s+naive relay 2\.00x better \(a\)/,
    );
    expect(text).toContain("(a) broadcast: tcpchat batches a turn's writes;");
    expect(text).not.toMatch(/\d\.\d\dx (better|worse)$/m);
    // The same ratio on a full-size run is shown without excuses.
    results.options = parseArgs([]);
    expect(renderTable(results)).not.toContain("(a)");
  });

  it("shows no per-connection memory for a few clients, and says why in words", () => {
    const results = sampleResults();
    results.options = parseArgs(["--quick"]);
    const measure = {
      rss: 50e6,
      heapUsed: 1e6,
      heapTotal: 2e6,
      external: 1,
      arrayBuffers: 1,
      peakRss: 50e6,
      loopDelay: { p50Ms: 1, p99Ms: 1, maxMs: 1 },
      cpuUserUs: 0,
      cpuSystemUs: 0,
      stats: {},
    };
    const idle = {
      clients: 20,
      ready: 20,
      before: measure,
      after: measure,
      rssPerConnection: 0,
      heapPerConnection: 2000,
      heapTotalPerConnection: 0,
      externalPerConnection: 3,
    };
    results.scenarios.idle = { tcpchat: idle, "naive relay": idle };
    const text = renderTable(results);
    expect(text).not.toMatch(/^idle\s+(RSS|heap).* per connection/m);
    expect(text).not.toMatch(/\b0 B\b/);
    expect(text).toContain(
      "idle memory per connection: 20 connections are too few to measure (needs >= 500;",
    );
    expect(text).toContain("Targets:\n  none can be judged by a run of this size.");
    expect(text).toContain(
      "need the full run (pnpm bench: 500 clients, 10 senders, 64 B messages):",
    );
    results.scenarios.idle = { tcpchat: { ...idle, clients: 500 }, "naive relay": idle };
    expect(renderTable(results)).toMatch(/RSS per connection\s+0 B/);
  });

  it("checks targets against the first server only", () => {
    const results = sampleResults();
    results.scenarios.broadcast!.tcpchat!.closed = broadcastRun("closed", 3e6, 30);
    const checks = Object.fromEntries(targetChecks(results).map((c) => [c.target, c.status]));
    expect(checks["broadcast deliveries >= 20x the naive relay"]).toBe("missed");
    expect(checks["broadcast deliveries >= 5 M/s"]).toBe("missed");
  });

  it("judges a target only under the conditions it is set for", () => {
    const results = sampleResults();
    results.options = { ...results.options, clients: 50 };
    const checks = Object.fromEntries(targetChecks(results).map((c) => [c.target, c]));
    expect(checks["broadcast deliveries >= 5 M/s"]).toMatchObject({
      status: "n/a",
      seen: "6.00 M/s (measured under other conditions)",
    });
  });

  it("judges WebSocket idle memory only at 2,000 clients and from positive RSS deltas", () => {
    const idleOf = (clients: number, rssPerConnection: number, heapPerConnection: number) => {
      const measure = {
        rss: 50e6,
        heapUsed: 1e6,
        heapTotal: 2e6,
        external: 1,
        arrayBuffers: 1,
        peakRss: 50e6,
        loopDelay: { p50Ms: 1, p99Ms: 1, maxMs: 1 },
        cpuUserUs: 0,
        cpuSystemUs: 0,
        stats: {},
      };
      return {
        clients,
        ready: clients,
        before: measure,
        after: measure,
        rssPerConnection,
        heapPerConnection,
        heapTotalPerConnection: 0,
        externalPerConnection: 0,
      };
    };
    const judge = (clients: number, tcpRss: number, wsRss: number) => {
      const results = sampleResults();
      results.options = { ...parseArgs(["--transport", "ws"]), clients };
      results.scenarios.idle = {
        tcpchat: idleOf(clients, tcpRss, 2200),
        "tcpchat ws": idleOf(clients, wsRss, 4400),
      };
      return targetChecks(results).find((c) => c.target.startsWith("idle WebSocket memory"));
    };
    expect(judge(2000, 3400, 6000)).toMatchObject({ status: "met" });
    expect(judge(2000, 3400, 7700)).toMatchObject({ status: "missed" });
    // At 500 clients the ratio of two small RSS deltas is noise: shown, not judged.
    expect(judge(500, 3400, 6000)).toMatchObject({ status: "n/a" });
    expect(judge(500, 3400, 6000)?.needs).toContain("--clients 2000");
    // A delta that is not positive measured nothing, whatever the size of the run.
    expect(judge(2000, 524, -729)).toMatchObject({ status: "n/a", seen: "not measured" });
  });

  it("renders Markdown with one table row per metric", () => {
    const md = renderMarkdown(sampleResults());
    expect(md).toContain("| scenario | metric | tcpchat | naive relay | tcpchat vs naive relay |");
    expect(md).toContain(
      "| broadcast | closed loop deliveries | 6.00 M/s | 200.0 k/s | tcpchat 30.0x better |",
    );
    // Which generator ran, and its headroom, as in the text report.
    expect(md).toContain("load generator: js, 2 worker threads");
    expect(md).toMatch(/\n- tcpchat broadcast closed loop: [\d.]+ cores, busiest worker \d+%/);
  });
});
