import { dmConversation, openDataDirectory, type StoredMessage } from "@tcpchat/core";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { Cleanup, requireBuild, startClient, startServer, startTui } from "./harness.js";
import type { TmuxPane } from "./tmux.js";

const cleanup = new Cleanup();
beforeAll(requireBuild);
afterEach(() => cleanup.run());

/** Messages in the store before the server starts: "old message 001" .. "old message 120". */
const STORED = 120;

function seededStore() {
  const store = openDataDirectory(":memory:");
  const start = Date.now() - 3_600_000;
  const batch: StoredMessage[] = [];
  for (let id = 1; id <= STORED; id++) {
    batch.push({
      id,
      ts: start + id * 1000,
      room: "lobby",
      roomKey: "lobby",
      from: "archivist",
      text: `old message ${String(id).padStart(3, "0")}`,
      action: false,
    });
  }
  store.appendMessages(batch);
  return store;
}

/** The numbers of the "old message N" rows on a screen, top to bottom. */
function shownNumbers(rows: string[]): number[] {
  const numbers: number[] = [];
  for (const row of rows) {
    const match = /old message (\d{3})/.exec(row);
    if (match) numbers.push(Number(match[1]));
  }
  return numbers;
}

/** The status bar's "scrolled back N lines" figure (0 at the bottom). */
function scrolledBack(rows: string[]): number {
  for (const row of rows) {
    const match = /scrolled back (\d+) lines/.exec(row);
    if (match) return Number(match[1]);
  }
  return 0;
}

/**
 * The screen after a PageUp: scrolled further than `before` (so the key was handled; a PageUp is
 * pressed only while there is more above) and with no history request under way (the status bar
 * says "loading history" meanwhile).
 */
function settledAfter(pane: TmuxPane, before: string): Promise<string[]> {
  const from = scrolledBack(before.split("\n"));
  return pane.waitFor(
    (rows) => scrolledBack(rows) > from && !rows.some((r) => r.includes("loading history")),
    "PageUp to scroll and the older page to arrive",
  );
}

describe("TUI history in tmux against a server with a store", () => {
  it("pages older history in with PageUp, in order and without duplicates, up to its start", async () => {
    const store = seededStore();
    cleanup.add(() => store.close());
    const { port } = await startServer(cleanup, 0, { store });
    const pane = await startTui(cleanup, { port, nick: "reader", columns: 100, rows: 30 });
    // On join: the last 20 (the server's default), and nothing older.
    const joined = await pane.waitForText("old message 120");
    expect(Math.min(...shownNumbers(joined))).toBe(101);

    const seen = new Set(shownNumbers(joined));
    let screen = joined;
    for (let press = 0; press < 30; press++) {
      await pane.press("PageUp");
      const before = screen.join("\n");
      // The view moves (or stays, at the start); an older page asked for has come in.
      screen = await settledAfter(pane, before);
      const numbers = shownNumbers(screen);
      // On every screen: oldest first, each once, nothing skipped.
      for (let i = 1; i < numbers.length; i++) expect(numbers[i]).toBe(numbers[i - 1]! + 1);
      for (const n of numbers) seen.add(n);
      if (screen.some((r) => r.includes("Start of the history of #lobby"))) break;
    }
    expect(screen.some((r) => r.includes("Start of the history of #lobby"))).toBe(true);
    // The marker sits right above the first message ever stored.
    const markerRow = screen.findIndex((r) => r.includes("Start of the history"));
    expect(shownNumbers(screen.slice(markerRow, markerRow + 2))).toEqual([1]);
    expect([...seen].sort((a, b) => a - b)).toEqual(
      Array.from({ length: STORED }, (_, i) => i + 1),
    );
  });

  it("runs /search and /history in the room's tab", async () => {
    const store = seededStore();
    cleanup.add(() => store.close());
    const { port } = await startServer(cleanup, 0, { store });
    const pane = await startTui(cleanup, { port, nick: "finder" });
    await pane.waitForText("old message 120");
    await pane.type("/search message 042\r");
    const found = await pane.waitForText('Search "message 042": 1 result.');
    const resultRow = found.findIndex((r) => r.includes('Search "message 042"'));
    expect(found[resultRow - 1]).toContain("old message 042");
    await pane.type("/history since 2d\r");
    await pane.waitForText("*** 20 messages of history");
  });

  it("registers, then pages the stored DMs with a registered nick in its DM tab", async () => {
    const store = openDataDirectory(":memory:");
    cleanup.add(() => store.close());
    // 60 DMs between the accounts alice and bob, stored before this run.
    const conversation = dmConversation("alice", "bob");
    const start = Date.now() - 3_600_000;
    store.appendMessages(
      Array.from({ length: 60 }, (_, i) => ({
        id: i + 1,
        ts: start + (i + 1) * 1000,
        room: conversation,
        roomKey: conversation,
        from: i % 2 === 0 ? "alice" : "bob",
        to: i % 2 === 0 ? "bob" : "alice",
        text: `old message ${String(i + 1).padStart(3, "0")}`,
        action: false,
      })),
    );
    const { port } = await startServer(cleanup, 0, { store });
    const bob = await startClient(cleanup, port, "bob");
    await bob.register("correct-horse");
    const pane = await startTui(cleanup, { port, nick: "alice", columns: 100, rows: 30 });
    await pane.waitForText("[online]");
    await pane.type("/register correct-horse\r");
    await pane.waitForText("Registered alice");
    await pane.type("/history bob\r");
    const first = await pane.waitForText("*** 20 messages of history");
    expect(first[0]).toContain("@bob");
    expect(shownNumbers(first)).toEqual(Array.from({ length: 20 }, (_, i) => 41 + i));
    const seen = new Set(shownNumbers(first));
    let screen = first;
    for (let press = 0; press < 10; press++) {
      await pane.press("PageUp");
      const before = screen.join("\n");
      screen = await settledAfter(pane, before);
      const numbers = shownNumbers(screen);
      for (let i = 1; i < numbers.length; i++) expect(numbers[i]).toBe(numbers[i - 1]! + 1);
      for (const n of numbers) seen.add(n);
      if (screen.some((r) => r.includes("Start of the history of your conversation with bob"))) {
        break;
      }
    }
    expect(screen.some((r) => r.includes("Start of the history of your conversation"))).toBe(true);
    expect([...seen].sort((a, b) => a - b)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
  });
});
