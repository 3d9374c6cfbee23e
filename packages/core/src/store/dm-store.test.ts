import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { MIGRATIONS } from "./migrations.js";
import { DATA_FILE_NAME, openDataDirectory, type SqliteStore } from "./sqlite-store.js";
import { dmConversation, type StoredMessage } from "./types.js";

const dirs: string[] = [];
const stores: SqliteStore[] = [];
afterEach(() => {
  for (const store of stores.splice(0)) store.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
function open(dir: string): SqliteStore {
  const store = openDataDirectory(dir, { lockTimeoutMs: 50 });
  stores.push(store);
  return store;
}

const ALICE_BOB = dmConversation("bob", "alice");

function dm(id: number, from: string, to: string): StoredMessage {
  return {
    id,
    ts: 1_000_000 + id,
    room: ALICE_BOB,
    roomKey: ALICE_BOB,
    from,
    text: `dm ${id}`,
    action: false,
    to,
  };
}

describe("direct messages in the SQLite store", () => {
  it("names the conversation by both accounts, in either order, with a key no room can have", () => {
    expect(dmConversation("alice", "bob")).toBe(ALICE_BOB);
    expect(ALICE_BOB).toBe("@alice @bob");
    expect(ALICE_BOB).toContain(" ");
  });

  it("upgrades a version-1 database in place and keeps DMs apart from rooms", () => {
    const dir = mkdtempSync(join(tmpdir(), "tcpchat-dm-"));
    dirs.push(dir);
    // A data directory written before direct messages were stored.
    const old = new Database(join(dir, DATA_FILE_NAME));
    old.exec("CREATE TABLE schema_version (version INTEGER NOT NULL)");
    old.exec(MIGRATIONS[0]!);
    old.prepare("INSERT INTO schema_version (version) VALUES (1)").run();
    old
      .prepare(
        "INSERT INTO messages (id, ts, room, room_key, sender, body, action) VALUES (1, 1, 'lobby', 'lobby', 'alice', 'dm in a room', 0)",
      )
      .run();
    old.close();

    const store = open(dir);
    store.appendMessages([dm(2, "alice", "bob"), dm(3, "bob", "alice")]);
    const room = store.queryMessages({ kind: "latest", roomKey: "lobby", limit: 10 });
    expect(room).toEqual([
      {
        id: 1,
        ts: 1,
        room: "lobby",
        roomKey: "lobby",
        from: "alice",
        text: "dm in a room",
        action: false,
      },
    ]);
    const thread = store.queryMessages({
      kind: "before",
      roomKey: ALICE_BOB,
      limit: 10,
      anchor: { id: 3 },
    });
    expect(thread).toEqual([dm(2, "alice", "bob")]);
    // A room's full-text search never reaches a DM with the same words.
    expect(store.searchMessages("lobby", ["dm"], 10).map((m) => m.id)).toEqual([1]);
    expect(store.lastMessageId()).toBe(3);
  });
});
