import { describe, expect, it } from "vitest";
import { openDataDirectory, openSqliteStore, type StoredMessage } from "../src/index.js";
import { LineClient, startServer } from "./helpers.js";
import { useDataDirs } from "./temp-store.js";

const dataDir = useDataDirs("tcpchat-search-thread-");

/** `count` messages in #lobby: "deploy" in every third, "lunch" in every fifth. */
function messages(count: number): StoredMessage[] {
  return Array.from({ length: count }, (_, i) => ({
    id: i + 1,
    ts: 1_700_000_000_000 + i,
    room: "lobby",
    roomKey: "lobby",
    from: `user${i % 7}`,
    text: `${i % 3 === 0 ? "deploy" : "build"} ${i % 5 === 0 ? "lunch" : "review"} ${i}`,
    action: false,
  }));
}

describe("full-text search on the store's search thread", () => {
  it("answers as the main connection does, without holding the event loop", async () => {
    const store = openDataDirectory(dataDir());
    try {
      store.appendMessages(messages(20_000));
      let spentMs: number | undefined;
      const answer = store.searchInBackground("lobby", ["deploy", "lunch"], 50, (ms) => {
        spentMs = ms;
      });
      expect(answer).toBeInstanceOf(Promise);
      // The loop turns while the thread searches (a search on the main connection would finish
      // before any callback could run).
      let turned = false;
      setImmediate(() => {
        turned = true;
      });
      const found = await answer!;
      expect(turned).toBe(true);
      expect(found.map((m) => m.id)).toEqual(
        store.searchMessages("lobby", ["deploy", "lunch"], 50).map((m) => m.id),
      );
      expect(found).toHaveLength(50);
      expect(found[0]!.text).toMatch(/^deploy lunch /);
      expect(spentMs).toBeGreaterThanOrEqual(0);
    } finally {
      await store.close();
    }
  });

  it("is not there for a store in memory (searches stay on the main connection)", () => {
    const store = openSqliteStore(":memory:");
    try {
      expect(store.searchInBackground("lobby", ["deploy"], 10)).toBeUndefined();
    } finally {
      store.close();
    }
  });

  it("a server on a data directory answers /search from the thread, messages said just before included", async () => {
    const store = openDataDirectory(dataDir());
    store.appendMessages(messages(1000));
    const s = await startServer({ store, modeSettleMs: 50 });
    try {
      const alice = await LineClient.greeted(s.port);
      alice.send("zanzibar is where the deploy went");
      await alice.waitFor(/<\S+> zanzibar is where the deploy went$/);
      const from = alice.lines.length;
      alice.send("/search zanzibar deploy");
      await alice.waitFor("*** end of history (1 message)", 5000, from);
      expect(
        alice.lines.slice(from).some((l) => l.includes("zanzibar is where the deploy went")),
      ).toBe(true);
      alice.close();
    } finally {
      await s[Symbol.asyncDispose]();
      await store.close();
    }
  });
});
