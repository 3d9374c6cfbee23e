import { describe, expect, it } from "vitest";
import { ChatState } from "./chat-state.js";
import { backoffMs, MAX_BACKOFF_MS } from "./connection.js";

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
const welcome = (nick: string) =>
  ({
    type: "welcome",
    proto: 1,
    server: "t",
    session: "s",
    nick,
    room: "lobby",
    limits: LIMITS,
  }) as const;

describe("ChatState", () => {
  it("tracks nicks, unread counts and renames from frames", () => {
    const state = new ChatState();
    state.apply(welcome("alice"));
    state.apply({ type: "presence", room: "lobby", nicks: ["alice", "bob"], count: 2 });
    state.apply({ type: "join", ts: 1, room: "dev", nick: "alice" });
    expect(state.active).toBe("#dev");
    state.apply({ type: "message", id: "1", ts: 2, room: "lobby", from: "bob", text: "hi" });
    state.apply({ type: "message", id: "1", ts: 2, room: "lobby", from: "bob", text: "hi" });
    const lobby = state.conversations.get("#lobby")!;
    expect(lobby.unread).toBe(1);
    expect(lobby.lines.filter((line) => line.text === "hi")).toHaveLength(1);
    state.apply({ type: "nick", ts: 3, old: "bob", new: "robert" });
    expect([...lobby.nicks].sort()).toEqual(["alice", "robert"]);
    state.show("#lobby");
    expect(lobby.unread).toBe(0);
  });

  it("shows an acked send once whether or not the server echoes it, and forgets ids per session", () => {
    const state = new ChatState();
    state.apply(welcome("alice"));
    state.expectAck("r1", "#lobby", "mine", "message");
    state.apply({ type: "ack", ref: "r1", id: "7", ts: 1 });
    state.apply({ type: "message", id: "7", ts: 1, room: "lobby", from: "alice", text: "mine" });
    const lobby = state.conversations.get("#lobby")!;
    expect(lobby.lines.map((line) => line.text)).toEqual(["mine"]);
    state.apply(welcome("alice"));
    state.apply({ type: "message", id: "7", ts: 2, room: "lobby", from: "bob", text: "new run" });
    expect(lobby.lines.map((line) => line.text)).toEqual(["mine", "new run"]);
  });

  it("puts a DM in the thread of the peer, whichever side sent it", () => {
    const state = new ChatState();
    state.apply(welcome("alice"));
    state.apply({ type: "dm", id: "1", ts: 1, from: "Bob", to: "alice", text: "yo" });
    state.apply({ type: "dm", id: "2", ts: 2, from: "alice", to: "bob", text: "hey" });
    expect(state.conversations.get("@bob")?.lines.map((line) => line.text)).toEqual(["yo", "hey"]);
    state.show("@bob");
    state.apply({ type: "nick", ts: 3, old: "bob", new: "robert" });
    expect(state.conversations.has("@bob")).toBe(false);
    expect(state.active).toBe("@robert");
    state.apply({ type: "dm", id: "3", ts: 4, from: "robert", to: "alice", text: "still me" });
    expect(state.conversations.get("@robert")?.lines.map((line) => line.text)).toEqual([
      "yo",
      "hey",
      "bob is now robert",
      "still me",
    ]);
  });
});

describe("backoffMs", () => {
  it("doubles from half a second up to the cap, within the jitter", () => {
    expect(backoffMs(0, () => 0.5)).toBe(500);
    expect(backoffMs(3, () => 0.5)).toBe(4000);
    expect(backoffMs(30, () => 1)).toBe(MAX_BACKOFF_MS * 1.25);
    expect(backoffMs(1, () => 0)).toBe(750);
  });
});
