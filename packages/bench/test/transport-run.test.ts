import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { expectEveryDelivery, runQuickBench, useBuiltBench } from "./bench-process.js";

const tempDir = useBuiltBench("tcpchat-bench-transport-");

describe("bench over WebSocket and TLS", () => {
  it("measures tcpchat with TCP, WebSocket and TLS clients in one run, every message counted", async () => {
    const run = await runQuickBench(join(tempDir(), "transports.json"), [
      "--no-baseline",
      "--scenario",
      "connect,idle,broadcast,echo",
      "--transport",
      "ws,json",
      "--tls",
    ]);
    expect(run.stdout).toContain("TLS handshakes");
    expect(run.stdout).toContain("tcpchat vs tcpchat json");
    const results = run.results;
    expect(results.errors).toEqual([]);
    expect(results.servers).toEqual(["tcpchat", "tcpchat json", "tcpchat ws", "tcpchat tls"]);
    expect(results.tlsCertificate).toContain("ECDSA P-256");
    const s = results.scenarios;
    for (const server of results.servers) {
      expect(s.connect?.[server]).toMatchObject({ clients: 8, ready: 8, failed: 0 });
      const closed = s.broadcast?.[server]?.closed;
      expectEveryDelivery(closed, 8, server);
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
