import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { BenchResults } from "../src/suite.js";
import { runBench, useBuiltBench } from "./bench-process.js";

const tempDir = useBuiltBench("tcpchat-bench-transport-");

describe("bench over WebSocket and TLS", () => {
  it("measures tcpchat with TCP, WebSocket and TLS clients in one run, every message counted", async () => {
    const json = join(tempDir(), "transports.json");
    const run = await runBench([
      "--quick",
      "--clients",
      "8",
      "--senders",
      "3",
      "--duration",
      "0.2",
      "--no-baseline",
      "--scenario",
      "connect,idle,broadcast,echo",
      "--transport",
      "ws,json",
      "--tls",
      "--json",
      json,
    ]);
    expect(run.code, run.stderr + run.stdout).toBe(0);
    expect(run.stdout).toContain("TLS handshakes");
    expect(run.stdout).toContain("tcpchat vs tcpchat json");
    const results = JSON.parse(await readFile(json, "utf8")) as BenchResults;
    expect(results.errors).toEqual([]);
    expect(results.servers).toEqual(["tcpchat", "tcpchat json", "tcpchat ws", "tcpchat tls"]);
    expect(results.tlsCertificate).toContain("ECDSA P-256");
    const s = results.scenarios;
    for (const server of results.servers) {
      expect(s.connect?.[server]).toMatchObject({ clients: 8, ready: 8, failed: 0 });
      const closed = s.broadcast?.[server]?.closed;
      expect(closed?.sent, server).toBeGreaterThan(0);
      expect(closed?.expected).toBe((closed?.sent ?? 0) * 8);
      expect(closed?.delivered, server).toBe(closed?.expected);
      expect(closed).toMatchObject({ gaps: 0, duplicates: 0, mismatchedStreams: 0 });
      // Parsers decoded messages: the JSON lines were read through their trailer.
      expect(closed?.latency.count, server).toBeGreaterThan(0);
      expect(s.echo?.[server]).toMatchObject({ pairs: 4, joined: 4, unfinishedPairs: 0 });
      expect(s.echo?.[server]?.roundTrips, server).toBeGreaterThan(0);
    }
    // Every client was a session of the server while it sat idle.
    expect(s.idle?.["tcpchat ws"]?.after.stats["connections"]).toBe(8);
    expect(s.idle?.["tcpchat tls"]?.after.stats["connections"]).toBe(8);
    expect(s.connect?.["tcpchat tls"]?.tlsHandshakesPerSec).toBeGreaterThan(0);
    expect(s.connect?.["tcpchat"]?.tlsHandshakesPerSec).toBeUndefined();
    const targets = results.targets ?? [];
    const byName = (text: string) => targets.find((t) => t.target.startsWith(text));
    expect(byName("WebSocket broadcast deliveries >= 0.7x TCP")?.status).toBe("n/a");
    expect(byName("idle WebSocket memory <= 2x TCP")?.status).toBe("n/a");
    expect(byName("TLS handshake cost reported")).toMatchObject({ status: "met" });
  });
});
