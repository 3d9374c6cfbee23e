import { OLDER_HISTORY_PAGE_SIZE } from "@tcpchat/core";
import { describe, expect, it } from "vitest";
import { findBuffer, roomKey } from "./buffers.js";
import { initialState, reduce } from "./reducer.js";
import type { Action, AppState, Effect, IncomingFrame } from "./types.js";

const NOW = 1_700_000_000_000;
const LIMITS = {
  maxLineBytes: 16384,
  maxNameLength: 32,
  maxRoomsPerSession: 20,
  messageRate: 20,
  messageBurst: 40,
  sendQueueBytes: 1048576,
  pingIntervalMs: 30000,
  pingTimeoutMs: 10000,
};

function run(state: AppState, ...actions: Action[]): { state: AppState; effects: Effect[] } {
  const effects: Effect[] = [];
  for (const action of actions) {
    const r = reduce(state, action);
    state = r.state;
    effects.push(...r.effects);
  }
  return { state, effects };
}
function frame(f: IncomingFrame): Action {
  return { type: "frame", frame: f, now: NOW };
}
function stored(id: number, history = true): Action {
  return frame({
    type: "message",
    id: id.toString(36),
    ts: NOW + id,
    room: "lobby",
    from: "old",
    text: `m${id}`,
    ...(history ? { history: true } : {}),
  });
}
function typed(line: string): Action[] {
  return [
    ...[...line].map((ch) => ({ type: "key", name: ch, ch }) as Action),
    { type: "key", name: "enter" },
  ];
}
const LOBBY = roomKey("lobby");

/** Connected, with ids from..to shown as join history, on a pane of `rows` rows. */
function withHistory(from: number, to: number, rows = 10): AppState {
  const actions: Action[] = [
    { type: "connection", status: "open", now: NOW },
    frame({
      type: "welcome",
      proto: 1,
      server: "t",
      session: "s",
      nick: "me",
      room: "lobby",
      limits: LIMITS,
    }),
    { type: "resize", pageRows: rows },
  ];
  for (let id = from; id <= to; id++) actions.push(stored(id));
  return run(initialState({ server: "x" }), ...actions).state;
}
function messages(state: AppState): string[] {
  return findBuffer(state, LOBBY)!
    .lines.filter((l) => l.id !== undefined)
    .map((l) => l.text);
}
function range(from: number, to: number): string[] {
  return Array.from({ length: to - from + 1 }, (_, i) => `m${from + i}`);
}

describe("scrollback: PageUp at the top asks for older history", () => {
  it("asks for the page before the oldest id shown, once, and inserts it above in order", () => {
    let { state, effects } = run(withHistory(131, 150), { type: "key", name: "pageup" });
    expect(effects).toEqual([]);
    ({ state, effects } = run(state, { type: "key", name: "pageup" }));
    expect(effects).toEqual([
      {
        type: "history",
        bufferKey: LOBBY,
        target: "lobby",
        dm: false,
        query: { dir: "before", id: (131).toString(36), limit: OLDER_HISTORY_PAGE_SIZE },
      },
    ]);
    // A second PageUp while the page is on its way asks nothing more.
    const again = run(state, { type: "key", name: "pageup" });
    expect(again.effects).toEqual([]);
    const scrollBefore = findBuffer(state, LOBBY)!.scroll;
    const page: Action[] = [];
    for (let id = 81; id <= 130; id++) page.push(stored(id));
    state = run(state, ...page, { type: "history-done", bufferKey: LOBBY, now: NOW }).state;
    expect(messages(state)).toEqual(range(81, 150));
    // Counted from the bottom: the lines on screen stay where they were.
    expect(findBuffer(state, LOBBY)!.scroll).toBe(scrollBefore);
    expect(findBuffer(state, LOBBY)!.unread).toBe(0);
    // The Connected line stays below what was said before it.
    expect(findBuffer(state, LOBBY)!.lines[0]!.text).toBe("m81");
  });

  it("says where history starts and stops asking", () => {
    let { state } = run(withHistory(11, 20), { type: "key", name: "pageup" });
    const page: Action[] = [];
    for (let id = 1; id <= 10; id++) page.push(stored(id));
    state = run(state, ...page, { type: "history-done", bufferKey: LOBBY, now: NOW }).state;
    const lines = findBuffer(state, LOBBY)!.lines;
    expect(lines[0]!.text).toBe("*** Start of the history of #lobby.");
    expect(messages(state)).toEqual(range(1, 20));
    const more = run(state, { type: "key", name: "pageup" }, { type: "key", name: "pageup" });
    expect(more.effects).toEqual([]);
  });

  it("shows a message once when it comes again (reconnect, /history)", () => {
    let state = withHistory(1, 5);
    state = run(state, stored(6, false), stored(4), stored(6), stored(7)).state;
    expect(messages(state)).toEqual(range(1, 7));
  });
});

describe("scrollback: /history, /search, /register, /login", () => {
  it("sends /history N for the tab's room and reports the count", () => {
    const { state, effects } = run(withHistory(5, 6), ...typed("/history 30"));
    expect(effects).toEqual([
      {
        type: "history",
        bufferKey: LOBBY,
        target: "lobby",
        dm: false,
        query: { limit: 30 },
      },
    ]);
    const done = run(state, stored(4), stored(5), {
      type: "history-done",
      bufferKey: LOBBY,
      now: NOW,
    });
    expect(messages(done.state)).toEqual(range(4, 6));
    expect(findBuffer(done.state, LOBBY)!.lines.at(-1)!.text).toBe(
      "*** 2 messages of history (in place, each shown once).",
    );
  });

  it("lists search results at the bottom, even ones already shown", () => {
    const { state, effects } = run(withHistory(1, 3), ...typed("/search m2"));
    expect(effects).toEqual([{ type: "search", bufferKey: LOBBY, room: "lobby", text: "m2" }]);
    const done = run(state, stored(2), { type: "history-done", bufferKey: LOBBY, now: NOW });
    const texts = findBuffer(done.state, LOBBY)!.lines.map((l) => l.text);
    expect(texts.slice(-2)).toEqual(["m2", '*** Search "m2": 1 result.']);
  });

  it("sends /register and /login, and keeps neither password in the input history", () => {
    const { state, effects } = run(
      withHistory(1, 1),
      ...typed("/register s3cret-pw"),
      ...typed("/login me s3cret-pw"),
    );
    expect(effects).toEqual([
      { type: "register", password: "s3cret-pw" },
      { type: "login", name: "me", password: "s3cret-pw" },
    ]);
    expect(state.history.entries.some((e) => e.includes("s3cret"))).toBe(false);
  });

  it("gives the core parser's usage error for a bad /history", () => {
    const { state, effects } = run(withHistory(1, 1), ...typed("/history since never"));
    expect(effects).toEqual([]);
    expect(findBuffer(state, LOBBY)!.lines.at(-1)!.code).toBe("CHAT_ERR_BAD_ARGUMENT");
  });
});

describe("scrollback: a refused older page", () => {
  it("shows the error once and stops asking on PageUp", () => {
    let { state, effects } = run(withHistory(1, 3), { type: "key", name: "pageup" });
    expect(effects).toHaveLength(1);
    state = run(state, {
      type: "history-done",
      bufferKey: LOBBY,
      now: NOW,
      error: { code: "CHAT_ERR_HISTORY_OFF", message: "This server keeps no history.", hint: "" },
    }).state;
    expect(findBuffer(state, LOBBY)!.lines.at(-1)!.code).toBe("CHAT_ERR_HISTORY_OFF");
    ({ effects } = run(state, { type: "key", name: "pageup" }, { type: "key", name: "pageup" }));
    expect(effects).toEqual([]);
  });
});
