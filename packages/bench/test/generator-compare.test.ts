import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { expectEveryDelivery, runQuickBench, useBuiltBench } from "./bench-process.js";

const tempDir = useBuiltBench("tcpchat-bench-generators-");

/** A small broadcast run of tcpchat over TCP, JSON lines and WebSocket with the given generator. */
function broadcastWith(generator: "js" | "native") {
  return runQuickBench(join(tempDir(), `${generator}.json`), [
    "--no-baseline",
    "--scenario",
    "broadcast",
    "--transport",
    "json,ws",
    "--generator",
    generator,
  ]);
}

describe("the native and the JavaScript load generators", () => {
  it("count every delivery exactly and report latency, over TCP, JSON lines and WebSocket alike", async () => {
    const runs = [await broadcastWith("js"), await broadcastWith("native")];
    for (const [i, kind] of (["js", "native"] as const).entries()) {
      const { results, stdout } = runs[i]!;
      expect(results.errors).toEqual([]);
      expect(results.generator).toBe(kind);
      expect(results.servers).toEqual(["tcpchat", "tcpchat json", "tcpchat ws"]);
      expect(stdout).toContain(
        kind === "native" ? "load generator: native, " : "load generator: js, ",
      );
      expect(stdout).toMatch(
        kind === "native"
          ? /tcpchat broadcast closed loop: [\d.]+ cores, busiest process \d+%/
          : /tcpchat broadcast closed loop: [\d.]+ cores, busiest worker \d+%/,
      );
      for (const server of results.servers) {
        const figures = results.scenarios.broadcast?.[server];
        for (const run of [figures?.closed, figures?.open]) {
          // Every receiver (the senders too: tcpchat echoes) gets every message once.
          expectEveryDelivery(run, 8, `${kind} ${server}`);
          expect(run?.latency.count).toBeGreaterThan(0);
          expect(run?.latency.p99Ms).toBeGreaterThan(0);
          expect(run?.loadGenerator.generator).toBe(kind);
          expect(run?.loadGenerator.workerUtilization.length).toBe(results.loadGeneratorWorkers);
        }
      }
    }
    // The parsers are the scenario's choice, not the generator's: the same streams are checked.
    const checked = runs.map((r) => r.results.scenarios.broadcast?.tcpchat?.closed.checkedStreams);
    expect(checked[0]).toBe(checked[1]);
  });
});
