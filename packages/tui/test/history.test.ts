import { openDataDirectory, type StoredMessage } from "@tcpchat/core";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { Cleanup, requireBuild, startServer, startTui } from "./harness.js";

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

describe("TUI history in tmux against a server with a store", () => {
  it("pages older history in with PageUp, in order and without duplicates, up to its start", async () => {
    const store = seededStore();
    cleanup.add(() => store.close());
    const { port } = await startServer(cleanup, 0, { store });
    const pane = await startTui(cleanup, { port, nick: "reader", columns: 100, rows: 30 });
    // On join: the last 20 (the server's default), and nothing older.
    const joined = await pane.waitForText("old message 120");
    expect(Math.min(...shownNumbers(joined))).toBe(101);

    const seen = new Set<number>();
    let screen = joined;
    for (let press = 0; press < 30; press++) {
      await pane.press("PageUp");
      const before = screen.join("\n");
      // The view moves, or (at the top) fills with the older page when it arrives.
      screen = await pane
        .waitFor((rows) => rows.join("\n") !== before, "the view to change", 3000)
        .catch(() => pane.capture());
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
});
