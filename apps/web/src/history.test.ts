import { OLDER_HISTORY_PAGE_SIZE } from "@tcpchat/core/protocol";
import { describe, expect, it } from "vitest";
import { ChatState } from "./chat-state.js";
import { olderRequest } from "./history.js";

const LIMITS = {
  maxLineBytes: 16384,
  maxNameLength: 32,
  maxRoomsPerSession: 20,
  messageRate: 20,
  messageBurst: 40,
  sendQueueBytes: 1 << 20,
  pingIntervalMs: 30000,
  pingTimeoutMs: 30000,
};

function joined(): ChatState {
  const state = new ChatState();
  state.apply({
    type: "welcome",
    proto: 1,
    server: "t",
    session: "s",
    nick: "me",
    room: "lobby",
    limits: LIMITS,
  });
  return state;
}
function stored(state: ChatState, id: number, room = "lobby"): void {
  state.apply({
    type: "message",
    id: id.toString(36),
    ts: id,
    room,
    from: "old",
    text: `m${id}`,
    history: true,
  });
}
const texts = (state: ChatState, key = "#lobby") =>
  state.conversations.get(key)!.lines.map((l) => l.text);
const range = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => `m${from + i}`);

describe("history in the page's state", () => {
  it("marks history lines and never counts them as unread", () => {
    const state = joined();
    state.apply({ type: "join", ts: 1, room: "dev", nick: "me" });
    for (let id = 1; id <= 3; id++) stored(state, id);
    const lobby = state.conversations.get("#lobby")!;
    expect(state.active).toBe("#dev");
    expect(lobby.unread).toBe(0);
    expect(lobby.lines.every((l) => l.history === true)).toBe(true);
  });

  it("asks for the page before the oldest id and puts it on top, in order, once", () => {
    const state = joined();
    for (let id = 101; id <= 120; id++) stored(state, id);
    const lobby = state.conversations.get("#lobby")!;
    const frame = olderRequest(lobby, "w1");
    expect(frame).toEqual({
      type: "history",
      ref: "w1",
      room: "lobby",
      limit: OLDER_HISTORY_PAGE_SIZE,
      dir: "before",
      id: (101).toString(36),
    });
    expect(olderRequest(lobby, "w2")).toBeUndefined();
    for (let id = 51; id <= 100; id++) stored(state, id);
    stored(state, 110);
    state.apply({ type: "ack", ref: "w1", ts: 0 });
    expect(texts(state)).toEqual(range(51, 120));
    expect(lobby.historyStart).toBe(false);
    olderRequest(lobby, "w3");
    for (let id = 1; id <= 50 - 1; id++) stored(state, id + 1);
    state.apply({ type: "ack", ref: "w3", ts: 0 });
    expect(lobby.historyStart).toBe(true);
    expect(olderRequest(lobby, "w4")).toBeUndefined();
  });
});
