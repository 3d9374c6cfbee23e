import { describe, expect, it } from "vitest";
import { openDataDirectory } from "../src/index.js";
import { LineClient, startServer } from "./helpers.js";
import { UNLIMITED_RATES, useDataDirs } from "./temp-store.js";

const dataDir = useDataDirs("tcpchat-history-worker-");

const parsed = (lines: readonly string[]) =>
  lines.filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as Record<string, unknown>);

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe("history written by the worker thread", () => {
  it("a join and a history request see messages the worker has not committed yet", async () => {
    const dir = dataDir();
    const store = openDataDirectory(dir);
    // A minute between batches: nothing is committed while the test runs, unless a read forces it.
    const s = await startServer({ store, history: { joinLimit: 3, flushMs: 60_000 } });
    const alice = await LineClient.welcomed(s.port, "alice");
    for (let i = 1; i <= 4; i++) {
      alice.send(JSON.stringify({ type: "send", text: `deploy m${i}`, ref: `r${i}` }));
    }
    await alice.waitFor(/"ref":"r4"/);
    const ids = parsed(alice.lines)
      .filter((f) => f["type"] === "ack" && f["id"])
      .map((f) => f["id"] as string);
    expect(store.lastMessageId()).toBe(0);

    const bob = await LineClient.welcomed(s.port, "bob");
    await bob.waitFor(/"text":"deploy m4"/);
    const joined = parsed(bob.lines).filter((f) => f["history"] === true);
    expect(joined.map((f) => f["text"])).toEqual(["deploy m2", "deploy m3", "deploy m4"]);
    expect(joined.map((f) => f["id"])).toEqual(ids.slice(1));
    const from = bob.lines.length;
    bob.send(JSON.stringify({ type: "history", ref: "h", dir: "before", id: ids[3], limit: 2 }));
    await bob.waitFor(/"ref":"h"/, 5000, from);
    const before = parsed(bob.lines.slice(from)).filter((f) => f["type"] === "message");
    expect(before.map((f) => f["text"])).toEqual(["deploy m2", "deploy m3"]);
    // Still nothing committed: those answers came from the writer's queue.
    expect(store.lastMessageId()).toBe(0);

    // A search reads the full-text index, so it waits for the queued batch to be committed.
    const searchFrom = bob.lines.length;
    bob.send(JSON.stringify({ type: "search", ref: "s", text: "deploy", limit: 10 }));
    await bob.waitFor(/"ref":"s"/, 5000, searchFrom);
    const found = parsed(bob.lines.slice(searchFrom)).filter((f) => f["type"] === "message");
    expect(found.map((f) => f["text"])).toEqual([
      "deploy m1",
      "deploy m2",
      "deploy m3",
      "deploy m4",
    ]);
    expect(store.lastMessageId()).toBe(Number.parseInt(ids[3]!, 36));
    alice.close();
    bob.close();
    await s[Symbol.asyncDispose]();
    await store.close();
  });

  it("closing the server drains the worker: a store opened again has every message", async () => {
    const dir = dataDir();
    const store = openDataDirectory(dir);
    const s = await startServer({
      store,
      history: { joinLimit: 0, flushMs: 60_000 },
      ...UNLIMITED_RATES,
    });
    const alice = await LineClient.welcomed(s.port, "alice");
    for (let i = 1; i <= 50; i++)
      alice.send(JSON.stringify({ type: "send", text: `m${i}`, ref: `r${i}` }));
    await alice.waitFor(/"ref":"r50"/);
    expect(s.server.stats().history).toMatchObject({ written: 0, queued: 50 });
    alice.close();
    await s[Symbol.asyncDispose]();
    await store.close();
    const again = openDataDirectory(dir);
    const texts = again
      .queryMessages({ kind: "latest", roomKey: "lobby", limit: 100 })
      .map((m) => m.text);
    expect(texts).toEqual(Array.from({ length: 50 }, (_, i) => `m${i + 1}`));
    await again.close();
  });

  it("a full disk pauses history, never the chat, and keeps what it accepted up to the bound", async () => {
    const dir = dataDir();
    // A database capped at a few pages more than its empty schema: the "disk" fills at once.
    const store = openDataDirectory(dir, { maxPageCount: 40 });
    const s = await startServer({
      store,
      history: { joinLimit: 0, flushMs: 5, retryMs: 20, maxQueue: 5000 },
      ...UNLIMITED_RATES,
    });
    const events: string[] = [];
    s.server.on("history-paused", (error: Error & { code?: string }) =>
      events.push(`paused: ${error.code}`),
    );
    const alice = await LineClient.welcomed(s.port, "alice");
    const bob = await LineClient.welcomed(s.port, "bob");
    const text = "x".repeat(400);
    for (let i = 1; i <= 600; i++)
      alice.send(JSON.stringify({ type: "send", text: `${i} ${text}`, ref: `r${i}` }));
    await alice.waitFor(/"ref":"r600"/);
    await until(() => events.length > 0, "history-paused");
    expect(events).toEqual(["paused: SQLITE_FULL"]);
    // The chat went on: bob heard every message live.
    await bob.waitFor(/"text":"600 x+"/);
    const stats = s.server.stats().history!;
    expect(stats.paused).toBe(true);
    expect(stats.written + stats.queued).toBe(600);
    expect(stats.dropped).toBe(0);
    alice.close();
    bob.close();
    await s[Symbol.asyncDispose]();
    await store.close();
  });
});
