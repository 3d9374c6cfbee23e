import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  type ChatStore,
  openDataDirectory,
  openSqliteStore,
  type SqliteStore,
} from "../src/index.js";
import { LineClient, startServer } from "./helpers.js";

const frames = (client: LineClient) =>
  client.lines
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Record<string, unknown>);

async function say(client: LineClient, texts: readonly string[]): Promise<void> {
  for (const text of texts) client.send(text);
  await client.waitFor(
    new RegExp(`<${(client as { nick?: string }).nick ?? "\\S+"}> ${texts.at(-1)}$`),
  );
}

function memoryStore(): SqliteStore & AsyncDisposable {
  const store = openSqliteStore(":memory:") as SqliteStore & AsyncDisposable;
  store[Symbol.asyncDispose] = async () => store.close();
  return store;
}

/** A store in a data directory: history batches are committed by the writer's worker thread. */
function diskStore(): SqliteStore & AsyncDisposable {
  const dir = mkdtempSync(join(tmpdir(), "tcpchat-history-"));
  const store = openDataDirectory(dir) as SqliteStore & AsyncDisposable;
  store[Symbol.asyncDispose] = async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  };
  return store;
}

describe.each([
  ["in memory", memoryStore],
  ["on disk, written by a worker thread", diskStore],
])("history, store %s", (_where, makeStore) => {
  it("a text client that joins reads the room's last N messages, each line marked", async () => {
    await using store = makeStore();
    await using s = await startServer({ store, history: { joinLimit: 3 }, modeSettleMs: 50 });
    const alice = await LineClient.greeted(s.port);
    await say(alice, ["one", "two", "three", "four"]);
    const bob = await LineClient.greeted(s.port);
    await bob.waitFor(/\[history .*\] <\S+> four$/);
    const history = bob.lines.filter((l) => l.includes("[history "));
    expect(history.map((l) => l.replace(/^#lobby \[history \d\d-\d\d \d\d:\d\dZ\] /, ""))).toEqual([
      `<${alice.nick}> two`,
      `<${alice.nick}> three`,
      `<${alice.nick}> four`,
    ]);
    // Live talk after the join comes after the history and is not marked.
    alice.send("five");
    await bob.waitFor(`#lobby <${alice.nick}> five`);
    expect(bob.lines.findIndex((l) => l.endsWith("five"))).toBeGreaterThan(
      bob.lines.findIndex((l) => l.endsWith("four")),
    );
    alice.close();
    bob.close();
  });

  it("a JSON client gets history frames flagged history after its welcome, and pages with ids", async () => {
    await using store = makeStore();
    await using s = await startServer({ store, history: { joinLimit: 2 } });
    const alice = await LineClient.welcomed(s.port, "alice", "dev");
    for (let i = 1; i <= 12; i++)
      alice.send(JSON.stringify({ type: "send", text: `m${i}`, ref: `r${i}` }));
    await alice.waitFor(/"ref":"r12"/);
    const ids = frames(alice)
      .filter((f) => f["type"] === "ack" && f["id"])
      .map((f) => f["id"] as string);
    const bob = await LineClient.welcomed(s.port, "bob", "dev");
    await bob.waitFor(/"text":"m12"/);
    const bobFrames = frames(bob);
    const welcome = bobFrames.findIndex((f) => f["type"] === "welcome");
    const history = bobFrames.filter((f) => f["history"] === true);
    expect(history.map((f) => f["text"])).toEqual(["m11", "m12"]);
    expect(bobFrames.indexOf(history[0]!)).toBeGreaterThan(welcome);
    expect(history.map((f) => f["id"])).toEqual(ids.slice(-2));

    const ask = async (request: Record<string, unknown>, ref: string) => {
      const from = bob.lines.length;
      bob.send(JSON.stringify({ type: "history", ref, ...request }));
      await bob.waitFor(new RegExp(`"ref":"${ref}"`), 5000, from);
      return bob.lines
        .slice(from)
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .filter((f) => f["type"] === "message")
        .map((f) => f["text"]);
    };
    expect(await ask({ limit: 3 }, "h1")).toEqual(["m10", "m11", "m12"]);
    expect(await ask({ dir: "before", id: ids[9], limit: 3 }, "h2")).toEqual(["m7", "m8", "m9"]);
    expect(await ask({ dir: "after", id: ids[9], limit: 5 }, "h3")).toEqual(["m11", "m12"]);
    expect(await ask({ dir: "around", id: ids[4], limit: 3 }, "h4")).toEqual(["m4", "m5", "m6"]);
    expect(await ask({ room: "#dev", dir: "before", id: ids[0] }, "h5")).toEqual([]);
    expect(await ask({ dir: "before" }, "h6")).toEqual([]);
    expect(bob.lines.at(-1)).toMatch(/"code":"CHAT_ERR_BAD_ARGUMENT".*needs an anchor/);
    alice.close();
    bob.close();
  });

  it("/history N, /history since and /search answer text clients, and cost work tokens", async () => {
    await using store = makeStore();
    await using s = await startServer({ store, history: { joinLimit: 0 }, modeSettleMs: 50 });
    const alice = await LineClient.greeted(s.port);
    await say(alice, ["the deploy failed", "lunch?", "점심 먹자", "deploy fixed"]);
    alice.send("/history 2");
    await alice.waitFor("*** end of history (2 messages)");
    expect(alice.lines.filter((l) => l.includes("[history")).map((l) => l.split("> ")[1])).toEqual([
      "점심 먹자",
      "deploy fixed",
    ]);
    let from = alice.lines.length;
    alice.send("/history since 1h");
    await alice.waitFor("*** end of history (4 messages)", 5000, from);
    from = alice.lines.length;
    alice.send("/search deploy");
    await alice.waitFor("*** end of history (2 messages)", 5000, from);
    expect(
      alice.lines
        .slice(from)
        .filter((l) => l.includes("[history"))
        .map((l) => l.split("> ")[1]),
    ).toEqual(["the deploy failed", "deploy fixed"]);
    from = alice.lines.length;
    alice.send("/search 점심");
    await alice.waitFor("*** end of history (1 message)", 5000, from);
    from = alice.lines.length;
    alice.send("/search nothing-like-this");
    await alice.waitFor("*** no messages found", 5000, from);
    alice.send("/history since yesterday-ish");
    await alice.waitFor(/^!!! CHAT_ERR_BAD_ARGUMENT: "yesterday-ish" is not a time/);
    alice.close();
  });

  it("without a store, history and search answer CHAT_ERR_HISTORY_OFF", async () => {
    await using s = await startServer({ modeSettleMs: 50 });
    const alice = await LineClient.greeted(s.port);
    alice.send("/history");
    await alice.waitFor(
      /^!!! CHAT_ERR_HISTORY_OFF: This server keeps no history\. \(hint: .*--data DIR/,
    );
    alice.close();
  });

  it("a restarted server continues message ids after the stored ones", async () => {
    await using store = makeStore();
    let lastId: string;
    {
      await using s = await startServer({ store });
      const alice = await LineClient.welcomed(s.port, "alice");
      alice.send(JSON.stringify({ type: "send", text: "before", ref: "a" }));
      lastId = (JSON.parse(await alice.waitFor(/"ref":"a"/)) as { id: string }).id;
      alice.close();
    }
    await using s = await startServer({ store });
    const bob = await LineClient.welcomed(s.port, "bob");
    bob.send(JSON.stringify({ type: "send", text: "after", ref: "b" }));
    const nextId = (JSON.parse(await bob.waitFor(/"ref":"b"/)) as { id: string }).id;
    expect(Number.parseInt(nextId, 36)).toBe(Number.parseInt(lastId, 36) + 1);
    bob.close();
  });

  it("concurrent writers lose no message: every acked id is in the store, in order", async () => {
    await using store = makeStore();
    await using s = await startServer({ store, history: { joinLimit: 0, flushMs: 5 } });
    const writers = await Promise.all(
      Array.from({ length: 8 }, (_, i) => LineClient.welcomed(s.port, `writer${i}`)),
    );
    const perWriter = 30;
    for (let n = 0; n < perWriter; n++) {
      for (const [i, w] of writers.entries()) {
        w.send(JSON.stringify({ type: "send", text: `w${i}-${n}`, ref: `${i}-${n}` }));
      }
    }
    const acked: number[] = [];
    for (const [i, w] of writers.entries()) {
      await w.waitFor(new RegExp(`"ref":"${i}-${perWriter - 1}"`));
      for (const f of frames(w))
        if (f["type"] === "ack" && f["id"]) acked.push(Number.parseInt(f["id"] as string, 36));
    }
    expect(acked).toHaveLength(8 * perWriter);
    const deadline = Date.now() + 5000;
    while (s.server.stats().history!.written < acked.length && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const stored = store.queryMessages({ kind: "latest", roomKey: "lobby", limit: 10_000 });
    expect(stored.map((m) => m.id)).toEqual([...acked].sort((a, b) => a - b));
    expect(new Set(stored.map((m) => m.text)).size).toBe(8 * perWriter);
    for (const w of writers) w.close();
  });

  it("a full disk pauses history, never the chat; the backlog is written when space is back", async () => {
    const real = openSqliteStore(":memory:");
    let full = true;
    const store: ChatStore = Object.create(real);
    store.appendMessages = (batch) => {
      if (full) throw Object.assign(new Error("database or disk is full"), { code: "SQLITE_FULL" });
      real.appendMessages(batch);
    };
    await using s = await startServer({
      store,
      history: { flushMs: 5, retryMs: 20 },
      modeSettleMs: 50,
    });
    const events: string[] = [];
    s.server.on("history-paused", (error: Error) => events.push(`paused: ${error.message}`));
    s.server.on("history-resumed", (dropped: number) => events.push(`resumed: ${dropped} dropped`));
    const alice = await LineClient.greeted(s.port);
    const bob = await LineClient.greeted(s.port);
    await say(alice, ["a", "b", "c"]);
    await bob.waitFor(`#lobby <${alice.nick}> c`);
    const deadline = Date.now() + 5000;
    while (events.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    expect(events).toEqual(["paused: database or disk is full"]);
    expect(s.server.stats().history).toMatchObject({ paused: true, queued: 3, dropped: 0 });
    full = false;
    while (events.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    expect(events[1]).toBe("resumed: 0 dropped");
    expect(
      real.queryMessages({ kind: "latest", roomKey: "lobby", limit: 10 }).map((m) => m.text),
    ).toEqual(["a", "b", "c"]);
    alice.close();
    bob.close();
    real.close();
  });

  it("retention trims each room to its newest messages in the background", async () => {
    await using store = makeStore();
    await using s = await startServer({
      store,
      history: { joinLimit: 0, flushMs: 5, maxPerRoom: 3, retentionEveryMs: 20, retentionBatch: 2 },
      modeSettleMs: 50,
    });
    const alice = await LineClient.greeted(s.port);
    await say(alice, ["one", "two", "three", "four", "five", "six"]);
    const kept = () =>
      store.queryMessages({ kind: "latest", roomKey: "lobby", limit: 100 }).map((m) => m.text);
    const deadline = Date.now() + 5000;
    while (kept().length !== 3 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(kept()).toEqual(["four", "five", "six"]);
    alice.close();
  });
});
