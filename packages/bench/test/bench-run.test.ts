import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createNaiveRelay, type NaiveRelay } from "../src/servers/naive-relay.js";
import { expectEveryDelivery, runBench, runBenchJson, useBuiltBench } from "./bench-process.js";
import { startNcatLikeRelay } from "./ncat-like-relay.js";

const tempDir = useBuiltBench("tcpchat-bench-");

/** How long the ncat-like relay takes to let a connected client into its room. */
const ACCEPT_LAG_MS = 300;

describe("bench end to end", () => {
  it("runs every scenario against tcpchat and the naive relay and reports them side by side", async () => {
    const json = join(tempDir(), "quick.json");
    const run = await runBenchJson(json, [
      "--",
      "--quick",
      "--clients",
      "8",
      "--senders",
      "3",
      "--duration",
      "0.2",
    ]);
    expect(run.stderr).not.toContain("bench failed");
    expect(run.stdout).toContain("tcpchat vs naive relay");
    expect(run.stdout).toContain("tcpchat vs coalescing relay");
    expect(run.stderr).toMatch(/tcpchat broadcast closed loop .*delivered/);
    const results = run.results;
    expect(results.errors).toEqual([]);
    expect(results.servers).toEqual(["tcpchat", "naive relay", "coalescing relay"]);
    expect(results.machine.cores).toBeGreaterThan(0);
    expect(results.machine.node).toBe(process.version);
    expect(results.loadGeneratorWorkers).toBeGreaterThan(0);
    for (const server of results.servers) {
      const s = results.scenarios;
      expect(s.connect?.[server]).toMatchObject({ clients: 8, ready: 8, failed: 0 });
      expect(s.idle?.[server]?.after.rss).toBeGreaterThan(0);
      const closed = s.broadcast?.[server]?.closed;
      expect(closed?.sent).toBeGreaterThan(0);
      expect(closed?.delivered).toBe(closed?.expected);
      expect(closed?.expected).toBe((closed?.sent ?? 0) * 8);
      expect(closed).toMatchObject({
        gaps: 0,
        duplicates: 0,
        mismatchedStreams: 0,
        receiversShort: 0,
      });
      expect(closed?.checkedStreams).toBeGreaterThan(0);
      expect(closed?.latency.count).toBeGreaterThan(0);
      expect(s.broadcast?.[server]?.open?.delivered).toBe(s.broadcast?.[server]?.open?.expected);
      expect(s.echo?.[server]).toMatchObject({ pairs: 4, joined: 4, unfinishedPairs: 0 });
      expect(s.echo?.[server]?.roundTrips).toBeGreaterThan(0);
      const slow = s["slow-reader"]?.[server];
      expect(slow?.slow.receivers).toBe(8);
      expect(slow?.slow.delivered).toBe(slow?.slow.expected);
      expect(slow?.peakRssSlow).toBeGreaterThan(0);
    }
    expect(typeof results.scenarios["slow-reader"]?.tcpchat?.slowClientCutOff).toBe("boolean");
  });

  it("sweeps room sizes with --sweep, tcpchat beside the coalescing relay", async () => {
    const json = join(tempDir(), "sweep.json");
    const run = await runBenchJson(json, [
      "--quick",
      "--scenario",
      "connect",
      "--senders",
      "2",
      "--duration",
      "0.2",
      "--sweep",
      "clients=4,10",
    ]);
    expect(run.stdout).toContain("Sweep (broadcast and idle memory by room size):");
    const results = run.results;
    expect(results.sweep?.map((p) => p.clients)).toEqual([4, 10]);
    for (const point of results.sweep ?? []) {
      expect(Object.keys(point.servers)).toEqual(["tcpchat", "coalescing relay"]);
      for (const figures of Object.values(point.servers)) {
        expect(figures.ready).toBe(point.clients);
        expect(figures.closedDeliveriesPerSec).toBeGreaterThan(0);
        expect(figures.openP99Ms).toBeGreaterThan(0);
      }
    }
    expect(results.warnings.filter((w) => w.includes(" lost and "))).toEqual([]);
  });

  it("measures another line-based server given with --target", async () => {
    let relay: NaiveRelay | undefined = createNaiveRelay();
    try {
      const { port } = await relay.listen(0, "127.0.0.1");
      const json = join(tempDir(), "target.json");
      const run = await runBenchJson(json, [
        "--target",
        `127.0.0.1:${port}`,
        "--protocol",
        "text",
        "--greeting",
        "*** tcpchat/",
        "--clients",
        "6",
        "--senders",
        "2",
        "--duration",
        "0.2",
      ]);
      const results = run.results;
      expect(results.servers).toEqual(["target"]);
      expect(Object.keys(results.scenarios).sort()).toEqual(["broadcast", "connect", "echo"]);
      const closed = results.scenarios.broadcast?.target?.closed;
      expect(closed?.delivered).toBe(closed?.expected);
      expect(closed?.server).toBeUndefined();
      expect(relay.stats().messagesIn).toBeGreaterThan(0);
    } finally {
      await relay.close();
      relay = undefined;
    }
  });

  it.each(["js", "native"])(
    "measures a server that does not echo senders, like ncat --chat, with --no-self-echo (%s generator)",
    async (generator) => {
      // It lets each client into its room a while after TCP has connected it: the readiness
      // probe must wait for that, or the first messages miss receivers.
      const relay = await startNcatLikeRelay({ acceptLagMs: ACCEPT_LAG_MS });
      try {
        const json = join(tempDir(), `no-echo-${generator}.json`);
        const run = await runBenchJson(
          json,
          `--target 127.0.0.1:${relay.port} --no-self-echo --generator ${generator} --clients 5 --senders 2 --duration 0.2`.split(
            " ",
          ),
        );
        const results = run.results;
        expect(results.generator).toBe(generator);
        expect(results.errors).toEqual([]);
        expect(Object.keys(results.scenarios).sort()).toEqual(["broadcast", "connect"]);
        // Each sender's messages reach the four others, every one of them exactly once.
        expectEveryDelivery(results.scenarios.broadcast?.target?.closed, 4, generator);
      } finally {
        await relay.close();
      }
    },
  );

  it("prints usage on --help and exits 2 on a bad option", async () => {
    const help = await runBench(["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("--clients N");
    const bad = await runBench(["--clients", "none"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--clients needs a positive whole number, got none");
  });
});
