import { spawn } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { DATA_FILE_NAME, openDataDirectory, type StoredMessage } from "../src/index.js";
import { LineClient, startServer } from "./helpers.js";
import { UNLIMITED_RATES, useDataDirs } from "./temp-store.js";

// The full-text index follows the messages table behind a durable mark (migration 5): the
// writer's thread indexes in larger transactions, a search has the rest indexed first, and a
// restart indexes what a stopped run left.

const WORKER = fileURLToPath(new URL("../src/store/history-worker.js", import.meta.url));
const dataDir = useDataDirs("tcpchat-history-index-");

function message(id: number, text = `deploy number ${id}`, roomKey = "lobby"): StoredMessage {
  return { id, ts: 1_000 + id, room: roomKey, roomKey, from: "alice", text, action: false };
}

/** What is in the index, read on a connection of its own (as another process would). */
function indexFigures(dir: string, word = "deploy") {
  const db = new Database(join(dir, DATA_FILE_NAME), { readonly: true });
  try {
    return {
      messages: db.prepare("SELECT count(*) FROM messages").pluck().get() as number,
      indexedThrough: db
        .prepare("SELECT indexed_through FROM fts_progress")
        .pluck()
        .get() as number,
      matches: db
        .prepare("SELECT count(*) FROM messages_fts WHERE messages_fts MATCH ?")
        .pluck()
        .get(`"${word}"*`) as number,
    };
  } finally {
    db.close();
  }
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * A process that runs the history writer's thread on `file`, posts `batches` batches of 150
 * messages, and kills itself with SIGKILL once every commit is acknowledged: the index catch-up
 * (a minute away) never runs, as when a server dies.
 */
function runKilledWriter(file: string, batches: number): Promise<NodeJS.Signals | null> {
  const script = `
    import { Worker } from "node:worker_threads";
    const worker = new Worker(${JSON.stringify(WORKER)}, {
      execArgv: [],
      workerData: { file: ${JSON.stringify(file)}, lockTimeoutMs: 1000, indexDelayMs: 60000, indexEveryRows: 1e9 },
    });
    let acked = 0;
    worker.on("message", (reply) => {
      // seq 0 is the thread's start report (its priority), not an acknowledgement.
      if (reply.seq === 0) return;
      if (reply.error) { console.error(reply.error.message); process.exit(2); }
      if (++acked === ${batches}) process.kill(process.pid, "SIGKILL");
    });
    for (let b = 0; b < ${batches}; b++) {
      // A packed batch, as BackgroundWriter posts it: id, ts, action; five string lengths.
      const numbers = [];
      const lengths = [];
      let text = "";
      for (let k = 1; k <= 150; k++) {
        const id = b * 150 + k;
        const body = "deploy number " + id;
        numbers.push(id, 1000 + id, 0);
        lengths.push(5, 5, 5, body.length, 0xffffffff);
        text += "lobby" + "lobby" + "alice" + body;
      }
      worker.postMessage({
        seq: b + 1,
        numbers: Float64Array.from(numbers),
        lengths: Uint32Array.from(lengths),
        text,
      });
    }
  `;
  const child = spawn(process.execPath, ["--input-type=module", "-e", script], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("exit", (code, signal) => {
      if (signal === null) reject(new Error(`writer exited with ${code}: ${stderr}`));
      else resolve(signal);
    });
  });
}

describe("the full-text index behind the writer's commits", () => {
  it("a restart indexes every message a killed writer committed and never indexed", async () => {
    const dir = dataDir();
    openDataDirectory(dir).close();
    expect(await runKilledWriter(join(dir, DATA_FILE_NAME), 20)).toBe("SIGKILL");
    // Committed, not indexed: the mark says so.
    expect(indexFigures(dir)).toEqual({ messages: 3000, indexedThrough: 0, matches: 0 });

    const store = openDataDirectory(dir);
    // Opening caught up, before any search asked for it.
    expect(indexFigures(dir)).toEqual({ messages: 3000, indexedThrough: 3000, matches: 3000 });
    expect(store.searchMessages("lobby", ["number"], 500)).toHaveLength(500);
    expect(store.searchMessages("lobby", ["2999"], 10).map((m) => m.id)).toEqual([2999]);
    await store.close();
  });

  it("the thread indexes committed messages within the delay, or at once past the row count", async () => {
    const delayedDir = dataDir();
    const delayed = openDataDirectory(delayedDir, { ftsIndexDelayMs: 50 });
    const byDelay = delayed.openMessageWriter()!;
    await byDelay.appendMessages(Array.from({ length: 10 }, (_, i) => message(i + 1)));
    expect(indexFigures(delayedDir).matches).toBe(0);
    await until(() => indexFigures(delayedDir).matches === 10, "the delay");
    await delayed.close();

    const dir = dataDir();
    const counted = openDataDirectory(dir, { ftsIndexDelayMs: 60_000, ftsIndexEveryRows: 300 });
    const byCount = counted.openMessageWriter()!;
    await byCount.appendMessages(Array.from({ length: 150 }, (_, i) => message(i + 1)));
    expect(indexFigures(dir).matches).toBe(0);
    await byCount.appendMessages(Array.from({ length: 150 }, (_, i) => message(i + 151)));
    await until(() => indexFigures(dir).matches === 300, "row count");
    // And on request (what a search does first), whatever the delay and count.
    await byCount.appendMessages([message(301)]);
    expect(indexFigures(dir).matches).toBe(300);
    await byCount.indexed!();
    expect(indexFigures(dir)).toEqual({ messages: 301, indexedThrough: 301, matches: 301 });
    await counted.close();
  });

  it("a search through the server finds every committed message before the thread indexes it", async () => {
    const dir = dataDir();
    const store = openDataDirectory(dir, { ftsIndexDelayMs: 60_000 });
    const s = await startServer({
      store,
      history: { joinLimit: 0, flushMs: 5 },
      ...UNLIMITED_RATES,
    });
    const alice = await LineClient.welcomed(s.port, "alice");
    for (let i = 1; i <= 40; i++) {
      alice.send(JSON.stringify({ type: "send", text: `deploy step ${i}`, ref: `r${i}` }));
    }
    await alice.waitFor(/"ref":"r40"/);
    await until(() => s.server.stats().history?.written === 40, "40 messages committed");
    expect(indexFigures(dir)).toMatchObject({ messages: 40, matches: 0 });

    const from = alice.lines.length;
    alice.send(JSON.stringify({ type: "search", ref: "s", text: "deploy", limit: 100 }));
    await alice.waitFor(/"ref":"s"/, 5000, from);
    const found = alice.lines
      .slice(from)
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as { type: string; text?: string })
      .filter((f) => f.type === "message");
    expect(found.map((f) => f.text)).toEqual(
      Array.from({ length: 40 }, (_, i) => `deploy step ${i + 1}`),
    );
    expect(indexFigures(dir)).toMatchObject({ indexedThrough: 40, matches: 40 });
    alice.close();
    await s[Symbol.asyncDispose]();
    await store.close();
  });

  it("retention deleting messages not yet indexed leaves the index consistent", async () => {
    const dir = dataDir();
    const store = openDataDirectory(dir, { ftsIndexDelayMs: 60_000 });
    // Indexed: 1..100 (the store's own path indexes each batch).
    store.appendMessages(Array.from({ length: 100 }, (_, i) => message(i + 1)));
    const writer = store.openMessageWriter()!;
    // Committed by the thread, not indexed: 101..200.
    await writer.appendMessages(Array.from({ length: 100 }, (_, i) => message(i + 101)));
    expect(indexFigures(dir)).toMatchObject({ messages: 200, indexedThrough: 100 });
    // Keep 50: deletes 1..150, of which 101..150 were never indexed.
    let deleted = 0;
    while (deleted < 150) deleted += store.pruneMessages({ maxPerRoom: 50 }, 0, 500);
    await writer.indexed!();
    const db = new Database(join(dir, DATA_FILE_NAME));
    try {
      // FTS5 compares the index with the messages table; it throws when they disagree.
      db.exec("INSERT INTO messages_fts (messages_fts, rank) VALUES ('integrity-check', 1)");
    } finally {
      db.close();
    }
    expect(indexFigures(dir)).toEqual({ messages: 50, indexedThrough: 200, matches: 50 });
    expect(store.searchMessages("lobby", ["deploy"], 100).map((m) => m.id)).toEqual(
      Array.from({ length: 50 }, (_, i) => i + 151),
    );
    await store.close();
  });

  it("retention runs on the writer's thread, never on the event loop's connection", async () => {
    const dir = dataDir();
    const real = openDataDirectory(dir);
    // The real store, with its own pruneMessages (the main connection's) counted.
    const store = Object.create(real) as typeof real;
    let onMainConnection = 0;
    store.pruneMessages = (...args) => {
      onMainConnection += 1;
      return real.pruneMessages(...args);
    };
    const s = await startServer({
      store,
      history: { joinLimit: 0, flushMs: 5, maxPerRoom: 3, retentionEveryMs: 20, retentionBatch: 2 },
      ...UNLIMITED_RATES,
    });
    const alice = await LineClient.welcomed(s.port, "alice");
    for (const text of ["deploy one", "deploy two", "deploy three", "deploy four", "deploy five"]) {
      alice.send(JSON.stringify({ type: "send", text, ref: text }));
    }
    await alice.waitFor(/"ref":"deploy five"/);
    const kept = () =>
      real.queryMessages({ kind: "latest", roomKey: "lobby", limit: 100 }).map((m) => m.text);
    await until(() => kept().length === 3 && s.server.stats().history?.written === 5, "retention");
    expect(kept()).toEqual(["deploy three", "deploy four", "deploy five"]);
    expect(onMainConnection).toBe(0);
    alice.close();
    await s[Symbol.asyncDispose]();
    // What retention deleted left the index too (its rows were indexed or never were).
    expect(real.searchMessages("lobby", ["deploy"], 10).map((m) => m.text)).toEqual(kept());
    await real.close();
  });
});
