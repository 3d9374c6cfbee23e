/**
 * The readiness probe of `--target` without `--greeting`, driven on both load generators
 * against an ncat-like relay that lets clients into its room only a while after they connect.
 */
import { afterEach, describe, expect, it } from "vitest";
import { parseArgs } from "../src/args.js";
import type { LoadGenerator } from "../src/load/generator.js";
import { NativeLoadPool } from "../src/load/native-pool.js";
import { LoadPool } from "../src/load/pool.js";
import { Progress } from "../src/progress.js";
import { closeClients, connectClients, type ScenarioContext } from "../src/scenarios/context.js";
import { useBuiltBench } from "./bench-process.js";
import { type NcatLikeRelay, startNcatLikeRelay } from "./ncat-like-relay.js";

useBuiltBench("tcpchat-probe-");

const WORKER_URL = new URL("../dist/load-worker.js", import.meta.url);

const GENERATORS: Record<"js" | "native", () => LoadGenerator> = {
  js: () => new LoadPool({ workers: 2, workerUrl: WORKER_URL }),
  native: () => new NativeLoadPool({ workers: 2 }),
};

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setUp(kind: "js" | "native", relay: NcatLikeRelay) {
  cleanups.push(() => relay.close());
  const pool = GENERATORS[kind]();
  cleanups.push(() => pool.close());
  const warnings: string[] = [];
  const ctx: ScenarioContext = {
    options: parseArgs(["--target", `127.0.0.1:${relay.port}`, "--no-self-echo"]),
    pool,
    progress: new Progress(process.stderr, true),
    warn: (text) => warnings.push(text),
  };
  const server = { label: "target", host: "127.0.0.1", port: relay.port, handle: undefined };
  return { ctx, server: { ...server, greeting: undefined }, warnings };
}

describe.each(["js", "native"] as const)("the readiness probe (%s generator)", (kind) => {
  it("holds the clients back until the relay has let every one of them into its room", async () => {
    const relay = await startNcatLikeRelay({ acceptLagMs: 300 });
    const { ctx, server } = await setUp(kind, relay);
    const figures = await connectClients(ctx, server, 7);
    expect(figures).toMatchObject({ clients: 7, ready: 7, failed: 0 });
    // Without the probe the clients are ready as soon as TCP connects: none is in the room yet.
    expect(relay.inRoom()).toBe(7);
    await closeClients(ctx);
  });

  it("fails with a clear message when the clients never hear a setup line", async () => {
    const relay = await startNcatLikeRelay({ relay: false });
    const { ctx, server } = await setUp(kind, relay);
    await expect(connectClients(ctx, server, 5, { probeDeadlineMs: 600 })).rejects.toThrow(
      /^readiness probe: 5 of 5 clients heard no setup line through the room within 0\.6 s of connecting; .* give --greeting PREFIX\)$/,
    );
    await closeClients(ctx);
  });
});
