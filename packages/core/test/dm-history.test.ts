import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  createClient,
  dmConversation,
  openDataDirectory,
  openSqliteStore,
  type ServerFrame,
  type SqliteStore,
} from "../src/index.js";
import { LineClient, startServer } from "./helpers.js";

function memoryStore(): SqliteStore & AsyncDisposable {
  const store = openSqliteStore(":memory:") as SqliteStore & AsyncDisposable;
  store[Symbol.asyncDispose] = async () => store.close();
  return store;
}

/** A store in a data directory: history batches are committed by the writer's worker thread. */
function diskStore(): SqliteStore & AsyncDisposable {
  const dir = mkdtempSync(join(tmpdir(), "tcpchat-dm-history-"));
  const store = openDataDirectory(dir) as SqliteStore & AsyncDisposable;
  store[Symbol.asyncDispose] = async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  };
  return store;
}

/** Sends a line and waits for the first line after it that matches. */

/** A text client with `nick`, registered to it (a fresh account). */
async function registered(port: number, nick: string): Promise<LineClient> {
  const client = await LineClient.greeted(port);
  await client.ask(`/nick ${nick}`, new RegExp(`known as ${nick}$`), 10_000);
  await client.ask("/register correct-horse", new RegExp(`^\\*\\*\\* registered ${nick}`), 10_000);
  return client;
}

/** The lines a request printed, from the sent line up to its closing `***` line. */
async function historyLines(client: LineClient, line: string): Promise<string[]> {
  const from = client.lines.length;
  client.send(line);
  await client.waitFor(/^(\*\*\* (end of history|no messages found)|!!! )/, 10_000, from);
  return client.lines.slice(from);
}

describe.each([
  ["in memory", memoryStore],
  ["on disk, written by a worker thread", diskStore],
])("direct-message history, store %s", (_where, makeStore) => {
  it("stores DMs between registered users only, and only those two read them, across a restart", async () => {
    await using store = makeStore();
    {
      await using s = await startServer({ store, modeSettleMs: 50 });
      const alice = await registered(s.port, "alice");
      const bob = await registered(s.port, "bob");
      const dave = await registered(s.port, "dave");
      const guest = await LineClient.greeted(s.port);
      await guest.ask("/nick carol", /known as carol$/, 10_000);

      await alice.ask("/msg bob hello bob", "*dm* -> bob: hello bob", 10_000);
      await bob.waitFor("*dm* <alice> hello bob");
      await bob.ask("/msg alice hi alice", "*dm* -> alice: hi alice", 10_000);
      await guest.ask("/msg alice from a guest", "*dm* -> alice: from a guest", 10_000);
      await alice.ask("/msg carol to a guest", "*dm* -> carol: to a guest", 10_000);

      const lines = await historyLines(alice, "/history bob");
      expect(lines.filter((l) => l.startsWith("*dm* [history "))).toEqual([
        expect.stringMatching(/^\*dm\* \[history [^\]]+\] <alice> -> bob: hello bob$/),
        expect.stringMatching(/^\*dm\* \[history [^\]]+\] <bob> -> alice: hi alice$/),
      ]);
      expect(lines.at(-1)).toBe("*** end of history (2 messages)");
      // The same conversation from the other side.
      const bobs = await historyLines(bob, "/history ALICE 1");
      expect(bobs.filter((l) => l.startsWith("*dm* ["))).toEqual([
        expect.stringMatching(/<bob> -> alice: hi alice$/),
      ]);
      // A third account reads only its own conversation with alice: empty.
      expect((await historyLines(dave, "/history alice")).at(-1)).toBe("*** no messages found");
      // A guest reads nothing; a guest's DMs were not stored.
      expect((await historyLines(guest, "/history alice")).at(-1)).toMatch(
        /^!!! CHAT_ERR_DM_HISTORY_ACCOUNTS: Direct messages are kept only between registered users, and you are not logged in\./,
      );
      expect((await historyLines(alice, "/history carol")).at(-1)).toMatch(
        /^!!! CHAT_ERR_DM_HISTORY_ACCOUNTS: carol is not a registered nick/,
      );
      for (const client of [alice, bob, dave, guest]) client.close();
    }
    // Stored with id and server time; nothing from or to the guest.
    const stored = store.queryMessages({
      kind: "latest",
      roomKey: dmConversation("bob", "alice"),
      limit: 10,
    });
    expect(stored.map((m) => [m.from, m.to, m.text])).toEqual([
      ["alice", "bob", "hello bob"],
      ["bob", "alice", "hi alice"],
    ]);
    expect(stored.every((m) => m.id > 0 && m.ts > 0)).toBe(true);
    expect(store.searchMessages(dmConversation("alice", "carol"), ["guest"], 10)).toEqual([]);
    expect(
      store.queryMessages({ kind: "latest", roomKey: dmConversation("alice", "carol"), limit: 9 }),
    ).toEqual([]);

    // After a restart, a JSON client logged in as bob pages the conversation by id.
    await using s = await startServer({ store, modeSettleMs: 50 });
    const client = createClient({ port: s.port, nick: "reader" });
    await client.connect();
    try {
      await client.login("bob", "correct-horse");
      const frames: ServerFrame[] = [];
      client.on("frame", (frame) => {
        if (frame.type === "dm") frames.push(frame);
      });
      const newest = stored[1]!.id.toString(36);
      await client.history({ nick: "alice", dir: "before", id: newest, limit: 10 });
      expect(frames).toEqual([
        {
          type: "dm",
          id: stored[0]!.id.toString(36),
          ts: stored[0]!.ts,
          from: "alice",
          to: "bob",
          text: "hello bob",
          history: true,
        },
      ]);
    } finally {
      await client.quit();
    }
  });
});
