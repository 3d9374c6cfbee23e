import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { StoreError } from "../errors.js";
import { MIGRATIONS } from "./migrations.js";
import {
  DATA_FILE_NAME,
  openDataDirectory,
  openSqliteStore,
  pageSql,
  type SqliteStore,
} from "./sqlite-store.js";
import type { StoredMessage } from "./types.js";

const dirs: string[] = [];
const stores: SqliteStore[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "tcpchat-store-"));
  dirs.push(dir);
  return dir;
}
function open(dir: string): SqliteStore {
  const store = openDataDirectory(dir, { lockTimeoutMs: 50 });
  stores.push(store);
  return store;
}
afterEach(() => {
  for (const store of stores.splice(0)) store.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function message(id: number, roomKey = "lobby", text = `message ${id}`): StoredMessage {
  return {
    id,
    ts: 1_000_000 + id * 1000,
    room: roomKey,
    roomKey,
    from: "alice",
    text,
    action: false,
  };
}
const ids = (messages: readonly StoredMessage[]) => messages.map((m) => m.id);

describe("SQLite store", () => {
  it("reads a page of history through an index in its order, whatever its anchor: never the whole room", () => {
    const dir = tempDir();
    const store = open(dir);
    store.appendMessages(Array.from({ length: 50 }, (_, i) => message(i + 1)));
    // A time anchor pages in time order: the 5 messages before message 20's time, and after it.
    const at20 = message(20).ts;
    const page = (kind: "before" | "after" | "around", limit: number) =>
      ids(store.queryMessages({ kind, roomKey: "lobby", limit, anchor: { ts: at20 } }));
    expect(page("before", 5)).toEqual([15, 16, 17, 18, 19]);
    expect(page("after", 5)).toEqual([21, 22, 23, 24, 25]);
    expect(page("around", 4)).toEqual([19, 20, 21, 22]);
    store.close();
    // The plans: a sort of every row on the anchor's side (USE TEMP B-TREE FOR ORDER BY) made one
    // request cost time in proportion to the room.
    const db = new Database(join(dir, DATA_FILE_NAME), { readonly: true });
    try {
      for (const anchor of [undefined, { id: 20 }, { ts: at20 }]) {
        for (const side of ["<", "<=", ">"] as const) {
          if (anchor === undefined && side !== "<") continue;
          const plan = (
            db
              .prepare(`EXPLAIN QUERY PLAN ${pageSql(anchor, side)}`)
              .all({ roomKey: "lobby", limit: 5, ...anchor }) as Array<{
              detail: string;
            }>
          )
            .map((row) => row.detail)
            .join(" | ");
          expect(plan, `${JSON.stringify(anchor)} ${side}`).not.toContain("TEMP B-TREE");
          expect(plan, `${JSON.stringify(anchor)} ${side}`).toMatch(
            /USING (COVERING )?INDEX|USING INTEGER PRIMARY KEY/,
          );
        }
      }
    } finally {
      db.close();
    }
  });

  it("indexes each message for search once, also in a database made before migration 2", () => {
    const dir = tempDir();
    // A database at version 1: the insert trigger of the first schema still in place.
    const v1 = new Database(join(dir, DATA_FILE_NAME));
    v1.exec(MIGRATIONS[0]!);
    v1.exec("CREATE TABLE schema_version (version INTEGER NOT NULL)");
    v1.prepare("INSERT INTO schema_version (version) VALUES (1)").run();
    v1.close();
    const store = open(dir);
    store.appendMessages([message(1, "lobby", "deploy friday"), message(2, "lobby", "lunch")]);
    expect(ids(store.searchMessages("lobby", ["deploy"], 10))).toEqual([1]);
    expect(ids(store.searchMessages("lobby", ["lunch"], 10))).toEqual([2]);
    store.close();
    const db = new Database(join(dir, DATA_FILE_NAME));
    expect(
      db.prepare("SELECT name FROM sqlite_master WHERE type = 'trigger'").pluck().all(),
    ).toEqual(["messages_fts_delete"]);
    // The index matches the messages exactly: a row indexed twice fails this check.
    expect(() =>
      db.exec("INSERT INTO messages_fts (messages_fts, rank) VALUES ('integrity-check', 1)"),
    ).not.toThrow();
    db.close();
  });

  it("creates the schema once, in WAL mode, and records its version", () => {
    const dir = tempDir();
    open(dir).close();
    const db = new Database(join(dir, DATA_FILE_NAME));
    expect(db.pragma("journal_mode", { simple: true })).toBe("wal");
    // One row per migration applied, in order.
    expect(db.prepare("SELECT version FROM schema_version").pluck().all()).toEqual(
      MIGRATIONS.map((_, index) => index + 1),
    );
    db.close();
    const again = open(dir);
    again.appendMessages([message(1)]);
    expect(again.lastMessageId()).toBe(1);
  });

  it("upgrades a database of schema 1 (no topics) and keeps what it held", () => {
    const dir = tempDir();
    const db = new Database(join(dir, DATA_FILE_NAME));
    db.exec("CREATE TABLE schema_version (version INTEGER NOT NULL)");
    db.exec(MIGRATIONS[0]!);
    db.prepare("INSERT INTO schema_version (version) VALUES (1)").run();
    db.prepare(
      "INSERT INTO bans (target, source, created_at, expires_at, reason) VALUES ('10.0.0.1', 'operator', 1, NULL, NULL)",
    ).run();
    db.close();
    const store = open(dir);
    expect(store.loadTopics()).toEqual([]);
    expect(store.loadBans(2).map((b) => b.target)).toEqual(["10.0.0.1"]);
    store.saveTopic({ roomKey: "lobby", room: "Lobby", text: "hello", by: "alice", ts: 5 });
    expect(store.loadTopics()).toEqual([
      { roomKey: "lobby", room: "Lobby", text: "hello", by: "alice", ts: 5 },
    ]);
  });

  it("keeps one topic per room: a new one replaces it, deleting clears it", () => {
    const store = open(tempDir());
    store.saveTopic({ roomKey: "rust", room: "rust", text: "first", by: "alice", ts: 1 });
    store.saveTopic({ roomKey: "rust", room: "Rust", text: "second", by: "bob", ts: 2 });
    store.saveTopic({ roomKey: "go", room: "go", text: "gophers", by: "bob", ts: 3 });
    expect(store.loadTopics().sort((a, b) => a.ts - b.ts)).toEqual([
      { roomKey: "rust", room: "Rust", text: "second", by: "bob", ts: 2 },
      { roomKey: "go", room: "go", text: "gophers", by: "bob", ts: 3 },
    ]);
    store.deleteTopic("rust");
    store.deleteTopic("nothing-here");
    expect(store.loadTopics().map((t) => t.roomKey)).toEqual(["go"]);
  });

  it("refuses a database written by a newer schema, with CHAT_ERR_STORE_TOO_NEW", () => {
    const dir = tempDir();
    open(dir).close();
    const db = new Database(join(dir, DATA_FILE_NAME));
    db.prepare("INSERT INTO schema_version (version) VALUES (?)").run(MIGRATIONS.length + 1);
    db.close();
    expect(() => open(dir)).toThrow(expect.objectContaining({ code: "CHAT_ERR_STORE_TOO_NEW" }));
  });

  it("reports a damaged file as CHAT_ERR_STORE_CORRUPT, not a crash later", () => {
    const dir = tempDir();
    writeFileSync(join(dir, DATA_FILE_NAME), Buffer.alloc(8192, 0x5a));
    let error: unknown;
    try {
      open(dir);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(StoreError);
    expect(error).toMatchObject({ code: "CHAT_ERR_STORE_CORRUPT" });
    expect((error as Error).message).toMatch(/tcpchat\.db/);
  });

  it("lets one server at a time use a directory (CHAT_ERR_STORE_LOCKED)", () => {
    const dir = tempDir();
    const first = open(dir);
    first.appendMessages([message(1)]);
    expect(() => open(dir)).toThrow(expect.objectContaining({ code: "CHAT_ERR_STORE_LOCKED" }));
    first.close();
    expect(open(dir).lastMessageId()).toBe(1);
  });

  it("reports a directory it cannot create as CHAT_ERR_STORE_OPEN", () => {
    const dir = tempDir();
    writeFileSync(join(dir, "file"), "");
    expect(() => open(join(dir, "file", "data"))).toThrow(
      expect.objectContaining({ code: "CHAT_ERR_STORE_OPEN" }),
    );
  });

  it("answers LATEST, BEFORE, AFTER and AROUND by id and by time, oldest first", () => {
    const store = openSqliteStore(":memory:");
    stores.push(store);
    const batch: StoredMessage[] = [];
    for (let id = 1; id <= 30; id++) batch.push(message(id, id % 3 === 0 ? "other" : "lobby"));
    store.appendMessages(batch);
    const lobby = batch.filter((m) => m.roomKey === "lobby").map((m) => m.id);
    expect(ids(store.queryMessages({ kind: "latest", roomKey: "lobby", limit: 5 }))).toEqual(
      lobby.slice(-5),
    );
    expect(
      ids(store.queryMessages({ kind: "before", roomKey: "lobby", limit: 3, anchor: { id: 10 } })),
    ).toEqual([5, 7, 8]);
    expect(
      ids(store.queryMessages({ kind: "after", roomKey: "lobby", limit: 3, anchor: { id: 10 } })),
    ).toEqual([11, 13, 14]);
    expect(
      ids(store.queryMessages({ kind: "around", roomKey: "lobby", limit: 4, anchor: { id: 10 } })),
    ).toEqual([8, 10, 11, 13]);
    expect(
      ids(
        store.queryMessages({
          kind: "after",
          roomKey: "lobby",
          limit: 2,
          anchor: { ts: message(25).ts },
        }),
      ),
    ).toEqual([26, 28]);
    expect(
      ids(
        store.queryMessages({
          kind: "before",
          roomKey: "lobby",
          limit: 2,
          anchor: { ts: message(3).ts },
        }),
      ),
    ).toEqual([1, 2]);
    expect(store.queryMessages({ kind: "latest", roomKey: "nowhere", limit: 5 })).toEqual([]);
    expect(store.queryMessages({ kind: "latest", roomKey: "lobby", limit: 0 })).toEqual([]);
    expect(store.queryMessages({ kind: "latest", roomKey: "lobby", limit: 1 })[0]).toEqual(
      message(29),
    );
  });

  it("searches with FTS5: every word, prefixes, Hangul, and syntax characters as plain text", () => {
    const store = openSqliteStore(":memory:");
    stores.push(store);
    store.appendMessages([
      message(1, "lobby", "the deploy failed again"),
      message(2, "lobby", "deployment done"),
      message(3, "other", "deploy in the other room"),
      message(4, "lobby", "점심 먹으러 가요"),
      message(5, "lobby", 'quote " and NEAR( and OR'),
    ]);
    expect(ids(store.searchMessages("lobby", ["deploy"], 10))).toEqual([1, 2]);
    expect(ids(store.searchMessages("lobby", ["deploy", "failed"], 10))).toEqual([1]);
    expect(ids(store.searchMessages("lobby", ["점심"], 10))).toEqual([4]);
    expect(ids(store.searchMessages("lobby", ['"', "NEAR(", "OR"], 10))).toEqual([5]);
    expect(ids(store.searchMessages("lobby", ["deploy"], 1))).toEqual([2]);
  });

  it("prunes by age and by count per room, at most a batch per run", () => {
    const store = openSqliteStore(":memory:");
    stores.push(store);
    const batch: StoredMessage[] = [];
    for (let id = 1; id <= 20; id++) batch.push(message(id, id <= 10 ? "lobby" : "other"));
    store.appendMessages(batch);
    // Older than message 5 goes (1-4), but only 3 per run.
    const now = message(5).ts + 60_000;
    expect(store.pruneMessages({ maxAgeMs: 60_000 }, now, 3)).toBe(3);
    expect(store.pruneMessages({ maxAgeMs: 60_000 }, now, 3)).toBe(1);
    expect(store.pruneMessages({ maxAgeMs: 60_000 }, now, 3)).toBe(0);
    expect(ids(store.queryMessages({ kind: "latest", roomKey: "lobby", limit: 100 }))).toEqual([
      5, 6, 7, 8, 9, 10,
    ]);
    expect(store.pruneMessages({ maxPerRoom: 4 }, now, 100)).toBe(2 + 6);
    expect(ids(store.queryMessages({ kind: "latest", roomKey: "lobby", limit: 100 }))).toEqual([
      7, 8, 9, 10,
    ]);
    expect(ids(store.queryMessages({ kind: "latest", roomKey: "other", limit: 100 }))).toEqual([
      17, 18, 19, 20,
    ]);
    // The full-text index follows deletions.
    expect(ids(store.searchMessages("other", ["message"], 100))).toEqual([17, 18, 19, 20]);
  });

  it("keeps bans (expired ones dropped) and accounts", () => {
    const store = openSqliteStore(":memory:");
    stores.push(store);
    store.saveBan({ target: "10.0.0.1", source: "operator", createdAt: 1, reason: "spam" });
    store.saveBan({ target: "10.0.0.2", source: "connect-rate", createdAt: 2, expiresAt: 100 });
    store.saveBan({ target: "10.0.0.0/24", source: "operator", createdAt: 3, expiresAt: 1000 });
    expect(store.loadBans(50).map((b) => b.target)).toEqual([
      "10.0.0.1",
      "10.0.0.2",
      "10.0.0.0/24",
    ]);
    expect(store.loadBans(100).map((b) => b.target)).toEqual(["10.0.0.1", "10.0.0.0/24"]);
    store.deleteBan("10.0.0.1");
    expect(store.loadBans(100)).toEqual([
      { target: "10.0.0.0/24", source: "operator", createdAt: 3, expiresAt: 1000 },
    ]);
    const account = {
      key: "alice",
      name: "Alice",
      passwordHash: "$scrypt$x",
      createdAt: 5,
      operator: false,
    };
    expect(store.createAccount(account)).toBe(true);
    expect(store.createAccount({ ...account, name: "ALICE" })).toBe(false);
    expect(store.getAccount("alice")).toEqual(account);
    expect(store.setOperator("alice", true)).toBe(true);
    expect(store.setOperator("bob", true)).toBe(false);
    expect(store.getAccount("alice")?.operator).toBe(true);
    expect(store.getAccount("bob")).toBeUndefined();
  });
});
