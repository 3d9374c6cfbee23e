import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runBenchJson, useBuiltBench } from "./bench-process.js";

const tempDir = useBuiltBench("tcpchat-bench-cluster-");

describe("bench --nodes end to end", () => {
  it("runs two nodes joined by a redis-server of its own beside a single node, and reports the cluster's figures", async () => {
    const json = join(tempDir(), "cluster.json");
    const run = await runBenchJson(json, [
      "--quick",
      "--nodes",
      "2",
      "--clients",
      "8",
      "--senders",
      "2",
      "--duration",
      "0.3",
    ]);
    expect(run.stdout).toContain("Cluster:");
    expect(run.stdout).toMatch(/2 nodes open loop +[\d.]+ [kM]? *.*cross-node/);
    expect(run.stdout).toContain("cross-node p99 < 10 ms");
    const results = run.results;
    expect(results.errors).toEqual([]);
    // Only the cluster ran: no other scenario was asked for.
    expect(Object.keys(results.scenarios)).toEqual(["cluster"]);
    const cluster = results.scenarios.cluster!;
    expect(cluster).toMatchObject({ nodes: 2, clientsPerNode: 4 });
    for (const figures of [cluster.single.closed, cluster.closed.run, cluster.open?.run]) {
      expect(figures?.sent).toBeGreaterThan(0);
      // Every message reached every client, on either node, once and in order.
      expect(figures?.delivered).toBe((figures?.sent ?? 0) * 8);
      expect(figures).toMatchObject({ gaps: 0, duplicates: 0, mismatchedStreams: 0 });
      expect(figures?.latency.count).toBeGreaterThan(0);
    }
    // The senders are spread over both nodes (ids 0 and 4 of 8).
    expect(cluster.closed.run.senders).toBe(2);
    // Cross-node latency only: a parser records the other node's sender, not its own node's.
    expect(cluster.open!.run.latency.count).toBeLessThan(cluster.open!.run.delivered);
    // The nodes' open loop runs at half the single node's sustained closed-loop rate.
    const single = cluster.single.closed;
    expect(cluster.openRate).toBeGreaterThan(0);
    expect(cluster.openRate).toBeCloseTo((0.5 * single.deliveriesPerSec) / single.receivers, 3);
    expect(cluster.open!.run.targetRate).toBeCloseTo(cluster.openRate, 3);
    for (const use of [cluster.closed, cluster.open!]) {
      expect(use.nodeCpuCores).toHaveLength(2);
      expect(use.redis?.batches).toBeGreaterThan(0);
      expect(use.redis?.cpuSeconds).toBeGreaterThanOrEqual(0);
      expect(use.redis?.messages).toBe(use.run.sent);
      expect(use.redis?.usPerBatch).toBeGreaterThanOrEqual(0);
    }
    const check = results.targets?.find((t) => t.target.startsWith("nodes: cross-node p99"));
    // A 0.3 s run is shown, not judged.
    expect(check?.status).toBe("n/a");
  });
});
