import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runBenchJson, useBuiltBench } from "./bench-process.js";

const tempDir = useBuiltBench("tcpchat-bench-history-");

describe("bench broadcast-history", () => {
  it("runs broadcast with history off and on in one run and judges the ratio and the write lag", async () => {
    const json = join(tempDir(), "history.json");
    const run = await runBenchJson(json, [
      "--quick",
      "--scenario",
      "broadcast-history",
      "--clients",
      "8",
      "--senders",
      "3",
      "--duration",
      "1",
    ]);
    const results = run.results;
    expect(results.errors).toEqual([]);
    const figures = results.scenarios["broadcast-history"];
    expect(figures?.rounds.map((r) => r.history)).toEqual([false, true]);
    for (const round of figures?.rounds ?? []) {
      expect(round.run.sent).toBeGreaterThan(0);
      expect(round.run.delivered).toBe(round.run.expected);
      expect(round.run).toMatchObject({ gaps: 0, duplicates: 0, receiversShort: 0 });
    }
    const [off, on] = figures?.rounds ?? [];
    // History off keeps nothing; history on accounts for every message of its run: written,
    // still waiting, or left out past the writer's bound (which a busy machine can reach), and
    // then said so in a warning.
    expect(off?.written).toBeUndefined();
    expect(off?.lag).toBeUndefined();
    const dropped = on?.dropped ?? 0;
    expect((on?.written ?? 0) + (on?.queued ?? 0) + dropped).toBeGreaterThanOrEqual(
      on?.run.sent ?? 1,
    );
    if (dropped > 0)
      expect(run.stdout + run.stderr).toContain(`history left out ${dropped} messages`);
    expect(on?.lag?.batches).toBeGreaterThan(0);
    expect(on?.lag?.p99Ms).toBeGreaterThanOrEqual(on?.lag?.p50Ms ?? 0);
    expect(figures?.ratio).toBeCloseTo((on?.deliveriesPerSec ?? 0) / (off?.deliveriesPerSec ?? 1));
    expect(figures?.lagP99Ms).toBe(on?.lag?.p99Ms);

    expect(run.stdout).toMatch(/broadcast-history\s+deliveries, history off\s+\S+/);
    expect(run.stdout).toMatch(/history on \/ off\s+\d+\.\d+x/);
    expect(run.stdout).toMatch(/history write lag p99\s+\S+ ms/);
    const checks = results.targets ?? [];
    const ratio = checks.find((c) => c.target === "broadcast with history on >= 0.9x history off");
    const lag = checks.find((c) => c.target === "history write lag p99 < 100 ms");
    expect(ratio?.status).toBe((figures?.ratio ?? 0) >= 0.9 ? "met" : "missed");
    expect(lag?.status).toBe((figures?.lagP99Ms ?? 1e9) < 100 ? "met" : "missed");
  });
});
