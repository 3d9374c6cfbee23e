import { readFile } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { BenchResults } from "../src/suite.js";
import { runBench, useBuiltBench } from "./bench-process.js";

const tempDir = useBuiltBench("tcpchat-bench-pin-");

describe.runIf(process.platform === "linux" && availableParallelism() >= 2)("bench --pin", () => {
  it("runs the servers and the load generator on CPUs of their own and says which", async () => {
    const json = join(tempDir(), "pinned.json");
    const run = await runBench(
      `-- --pin --quick --scenario broadcast,echo --clients 8 --duration 0.2 --json ${json}`.split(
        " ",
      ),
    );
    expect(run.code, run.stderr + run.stdout).toBe(0);
    const results = JSON.parse(await readFile(json, "utf8")) as BenchResults;
    // A server whose threads were not all on its CPUs fails to start: an error here.
    expect(results.errors).toEqual([]);
    expect(results.warnings.filter((w) => w.startsWith("--pin"))).toEqual([]);
    const cores = availableParallelism();
    const half = Math.floor(cores / 2);
    expect(results.pinning).toEqual({
      server: half === 1 ? "0" : `0-${half - 1}`,
      generator: half === cores - 1 ? String(half) : `${half}-${cores - 1}`,
    });
    expect(run.stdout).toContain(`servers on CPU ${results.pinning?.server}`);
    for (const server of results.servers) {
      const closed = results.scenarios.broadcast?.[server]?.closed;
      expect(closed?.delivered).toBe(closed?.expected);
      expect(results.scenarios.echo?.[server]?.unfinishedPairs).toBe(0);
    }
  });
});
