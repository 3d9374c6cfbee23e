import { describe, expect, it } from "vitest";
import { activeBuffer, findBuffer, roomKey, STATUS_KEY } from "./buffers.js";
import { SELF_RECONNECT_HINT } from "./connection.js";
import { statusBar, tabBar } from "./format.js";
import { initialState, OUTBOX_LIMIT, reduce } from "./reducer.js";
import type { Action, AppState, Effect, IncomingFrame } from "./types.js";

const NOW = 1_700_000_000_000;

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
function welcomeFrame(nick: string, room: string, session: string): IncomingFrame {
  return { type: "welcome", proto: 1, server: "t", session, nick, room, limits: TEST_LIMITS };
}
const TEST_LIMITS = {
  maxLineBytes: 16384,
  maxNameLength: 32,
  maxRoomsPerSession: 20,
  messageRate: 20,
  messageBurst: 40,
  sendQueueBytes: 1048576,
  pingIntervalMs: 30000,
  pingTimeoutMs: 10000,
};
function typeText(text: string): Action[] {
  return [...text].map((ch) => ({ type: "key", name: ch, ch }) as Action);
}
function key(name: string): Action {
  return { type: "key", name };
}
const welcome = frame(welcomeFrame("me", "lobby", "s1"));

function connected(): AppState {
  return run(
    initialState({ server: "127.0.0.1:3000" }),
    { type: "connection", status: "connecting", now: NOW },
    { type: "connection", status: "open", now: NOW },
    welcome,
    frame({ type: "presence", room: "lobby", nicks: ["me", "alice", "민수"], count: 3 }),
  ).state;
}

function text(state: AppState, key = state.active): string[] {
  return findBuffer(state, key)!.lines.map((l) => l.text);
}

describe("reducer: sending", () => {
  it("sends typed Korean text to the current room and clears the input", () => {
    const { state, effects } = run(connected(), ...typeText("안녕하세요"), key("enter"));
    expect(effects).toContainEqual({
      type: "send",
      room: "lobby",
      text: "안녕하세요",
      action: false,
    });
    expect(state.input.text).toBe("");
    expect(state.history.entries).toEqual(["안녕하세요"]);
  });

  it("sends /me as an action and //text as a literal slash", () => {
    const { effects } = run(
      connected(),
      ...typeText("/me waves"),
      key("enter"),
      ...typeText("//etc"),
      key("enter"),
    );
    expect(effects).toContainEqual({ type: "send", room: "lobby", text: "waves", action: true });
    expect(effects).toContainEqual({ type: "send", room: "lobby", text: "/etc", action: false });
  });

  it("reports an unknown command with its hint instead of sending it", () => {
    const { state, effects } = run(connected(), ...typeText("/frobnicate"), key("enter"));
    expect(effects.filter((e) => e.type === "send")).toEqual([]);
    const last = activeBuffer(state).lines.at(-1)!;
    expect(last.kind).toBe("error");
    expect(last.code).toBe("CHAT_ERR_UNKNOWN_COMMAND");
    expect(last.hint).toMatch(/\/help/);
  });

  it("keeps the input line intact while messages arrive", () => {
    const { state } = run(
      connected(),
      ...typeText("half 입력"),
      key("left"),
      frame({ type: "message", id: "1", ts: NOW, room: "lobby", from: "alice", text: "hi" }),
    );
    expect(state.input).toEqual({ text: "half 입력", cursor: "half 입".length });
    expect(text(state).at(-1)).toBe("hi");
  });
});

describe("reducer: tabs, unread counts and the read marker", () => {
  it("counts unread messages in hidden tabs and flags mentions and DMs", () => {
    let { state } = run(connected(), ...typeText("/join dev"), key("enter"));
    expect(state.active).toBe(roomKey("dev"));
    ({ state } = run(
      state,
      frame({ type: "message", id: "1", ts: NOW, room: "lobby", from: "alice", text: "one" }),
      frame({ type: "message", id: "2", ts: NOW, room: "lobby", from: "alice", text: "two" }),
      frame({ type: "join", ts: NOW, room: "lobby", nick: "bob" }),
    ));
    const lobby = findBuffer(state, roomKey("lobby"))!;
    expect(lobby.unread).toBe(2);
    expect(lobby.highlight).toBe(false);
    ({ state } = run(
      state,
      frame({ type: "message", id: "3", ts: NOW, room: "lobby", from: "alice", text: "hey ME" }),
    ));
    expect(findBuffer(state, roomKey("lobby"))!.highlight).toBe(true);
    ({ state } = run(
      state,
      frame({ type: "dm", id: "4", ts: NOW, from: "alice", to: "me", text: "psst" }),
    ));
    const dm = findBuffer(state, "@alice")!;
    expect(dm.unread).toBe(1);
    expect(dm.highlight).toBe(true);
    expect(
      tabBar(state, 100)
        .map((s) => s.text)
        .join(""),
    ).toContain("@alice(1)");
  });

  it("clears the count on switching and keeps a read marker above the first unread line", () => {
    let { state } = run(
      connected(),
      frame({ type: "message", id: "1", ts: NOW, room: "lobby", from: "alice", text: "seen" }),
      ...typeText("/join dev"),
      key("enter"),
      frame({ type: "message", id: "2", ts: NOW, room: "lobby", from: "alice", text: "unseen" }),
    );
    ({ state } = run(state, { type: "key", name: "M-2" }));
    const lobby = activeBuffer(state);
    expect(lobby.name).toBe("lobby");
    expect(lobby.unread).toBe(0);
    const markerLine = lobby.lines.find((l) => l.seq >= lobby.readMarker!)!;
    expect(markerLine.text).toBe("unseen");
  });

  it("cycles through tabs with Ctrl+N and Ctrl+P", () => {
    let { state } = run(connected(), ...typeText("/join dev"), key("enter"));
    const names = () => activeBuffer(state).name;
    expect(names()).toBe("dev");
    ({ state } = run(state, key("C-n")));
    expect(state.active).toBe(STATUS_KEY);
    ({ state } = run(state, key("C-p")));
    expect(names()).toBe("dev");
    ({ state } = run(state, key("C-p")));
    expect(names()).toBe("lobby");
  });

  it("opens a DM tab for /msg and shows the sent text once even if the server echoes it", () => {
    let { state, effects } = run(connected(), ...typeText("/msg alice 안녕"), key("enter"));
    expect(effects).toContainEqual({ type: "dm", to: "alice", text: "안녕" });
    ({ state } = run(
      state,
      { type: "dm-sent", to: "alice", text: "안녕", id: "9", ts: NOW },
      frame({ type: "dm", id: "9", ts: NOW, from: "me", to: "alice", text: "안녕" }),
    ));
    expect(text(state, "@alice")).toEqual(["안녕"]);
  });

  it("scrolls back by pages, keeps a scrolled view still when lines arrive, and caps lines", () => {
    let state = { ...connected(), maxLines: 50 };
    for (let i = 0; i < 80; i++) {
      state = run(
        state,
        frame({ type: "message", id: `${i}`, ts: NOW, room: "lobby", from: "a", text: `m${i}` }),
      ).state;
    }
    expect(activeBuffer(state).lines.length).toBe(50);
    state = run(state, { type: "resize", pageRows: 11 }, key("pageup")).state;
    expect(activeBuffer(state).scroll).toBe(10);
    state = run(
      state,
      frame({ type: "message", id: "x", ts: NOW, room: "lobby", from: "a", text: "new" }),
    ).state;
    expect(activeBuffer(state).scroll).toBe(11);
    expect(
      statusBar(state, NOW, 120)
        .map((s) => s.text)
        .join(""),
    ).toContain("scrolled back 11");
    state = run(state, key("pagedown"), key("pagedown")).state;
    expect(activeBuffer(state).scroll).toBe(0);
  });
});

describe("reducer: room topics", () => {
  it("shows a topic in its room's tab, set or cleared, even when another tab is active", () => {
    let state = connected();
    state = run(
      state,
      frame({ type: "topic", room: "lobby", text: "be kind", by: "alice", ts: NOW }),
    ).state;
    expect(text(state, roomKey("lobby")).at(-1)).toBe("Topic of #lobby: be kind (set by alice)");
    state = run(state, frame({ type: "topic", room: "rust", text: "" })).state;
    expect(text(state, roomKey("rust")).at(-1)).toBe("#rust has no topic");
    expect(text(state, roomKey("lobby")).at(-1)).toBe("Topic of #lobby: be kind (set by alice)");
  });
});

describe("reducer: completion", () => {
  it("completes nicks of the current room, the latest speaker first", () => {
    let { state } = run(
      connected(),
      frame({ type: "presence", room: "lobby", nicks: ["me", "alice", "albert"], count: 3 }),
      frame({ type: "message", id: "1", ts: NOW, room: "lobby", from: "albert", text: "x" }),
      ...typeText("al"),
      key("tab"),
    );
    expect(state.input.text).toBe("albert: ");
    ({ state } = run(state, key("tab")));
    expect(state.input.text).toBe("alice: ");
  });

  it("completes /commands", () => {
    const { state } = run(connected(), ...typeText("/jo"), key("tab"));
    expect(state.input.text).toBe("/join ");
  });
});

describe("reducer: connection life", () => {
  const refused = {
    code: "CHAT_ERR_CONN_REFUSED",
    message: "Connection refused: the host answered, but nothing listens on that port.",
    hint: "Is the server running, and is the port right?",
  };

  it("shows a reconnect countdown and the error with its hint once per distinct failure", () => {
    const { state } = run(
      connected(),
      { type: "reconnecting", attempt: 1, delayMs: 4000, error: refused, now: NOW },
      { type: "reconnecting", attempt: 2, delayMs: 8000, error: refused, now: NOW + 5000 },
    );
    expect(state.connection.status).toBe("reconnecting");
    const bar = statusBar(state, NOW + 6000, 120)
      .map((s) => s.text)
      .join("");
    expect(bar).toContain("reconnecting in 7s (attempt 2)");
    const errors = activeBuffer(state).lines.filter((l) => l.kind === "error");
    expect(errors).toHaveLength(1);
    // The server was reached before: checking the port is not the advice, waiting is.
    expect(errors[0]!.hint).toBe(
      "The server is not back yet; the TUI keeps trying. What you type meanwhile is queued.",
    );
  });

  it("keeps core's hint when the very first connection is refused (the address may be wrong)", () => {
    const { state } = run(
      initialState({ server: "127.0.0.1:3000" }),
      { type: "connection", status: "connecting", now: NOW },
      { type: "reconnecting", attempt: 1, delayMs: 1000, error: refused, now: NOW },
    );
    const lines = activeBuffer(state).lines;
    expect(lines.find((l) => l.kind === "error")!.hint).toBe(refused.hint);
    expect(lines.at(-1)!.text).toMatch(/^Reconnecting automatically/);
  });

  it("never tells the user to reconnect while it reconnects by itself", () => {
    const closed = {
      code: "CHAT_ERR_CONN_CLOSED",
      message: "The connection closed.",
      hint: "Reconnect.",
    };
    // Lost without warning: the error, with what the TUI does about it, once.
    const lost = run(connected(), {
      type: "reconnecting",
      attempt: 1,
      delayMs: 1000,
      error: closed,
      now: NOW,
    }).state;
    const lostLines = activeBuffer(lost).lines;
    expect(lostLines.at(-1)).toMatchObject({
      kind: "error",
      code: "CHAT_ERR_CONN_CLOSED",
      hint: SELF_RECONNECT_HINT,
    });
    // The hint says it already: no second line about reconnecting.
    expect(lostLines.some((l) => l.text.startsWith("Reconnecting automatically"))).toBe(false);

    // The server announced its shutdown: the close that follows is no news.
    const { state } = run(
      connected(),
      frame({ type: "shutdown", reason: "maintenance", deadlineMs: 200 }),
      {
        type: "reconnecting",
        attempt: 1,
        delayMs: 1000,
        error: closed,
        now: NOW,
      },
    );
    const shown = activeBuffer(state).lines.filter((l) => l.kind !== "message");
    const errors = shown.filter((l) => l.kind === "error");
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({
      code: "CHAT_ERR_SERVER_SHUTDOWN",
      text: "The server is shutting down: maintenance",
      hint: SELF_RECONNECT_HINT,
    });
    for (const line of shown)
      expect(`${line.text} ${line.hint ?? ""}`).not.toMatch(/\bReconnect\./);
    expect(state.connection.status).toBe("reconnecting");
  });

  it("queues what is typed while disconnected, visibly, and sends it after the welcome", () => {
    let { state, effects } = run(
      connected(),
      { type: "reconnecting", attempt: 1, delayMs: 1000, error: refused, now: NOW },
      ...typeText("다시 연결되면"),
      key("enter"),
    );
    expect(effects.filter((e) => e.type === "send")).toEqual([]);
    expect(state.outbox).toHaveLength(1);
    const queuedLine = activeBuffer(state).lines.at(-1)!;
    expect(queuedLine.kind).toBe("queued");
    expect(
      statusBar(state, NOW, 120)
        .map((s) => s.text)
        .join(""),
    ).toContain("1 queued");
    ({ state, effects } = run(state, { type: "connection", status: "open", now: NOW }, welcome));
    expect(effects).toContainEqual({
      type: "send",
      room: "lobby",
      text: "다시 연결되면",
      action: false,
      queueId: 1,
    });
    ({ state } = run(state, { type: "queued-sent", queueId: 1 }));
    expect(state.outbox).toHaveLength(0);
    expect(activeBuffer(state).lines.some((l) => l.kind === "queued")).toBe(false);
  });

  it("times a queued line with the key press that sent it, and leaves the status tab unread-free", () => {
    const { state } = run(
      connected(),
      { type: "reconnecting", attempt: 1, delayMs: 1000, error: refused, now: NOW },
      ...typeText("later"),
      { type: "key", name: "enter", now: NOW + 42 },
    );
    expect(activeBuffer(state).lines.at(-1)).toMatchObject({ kind: "queued", ts: NOW + 42 });
    expect(findBuffer(state, STATUS_KEY)!.unread).toBe(0);
  });

  it("refuses visibly once the queue is full", () => {
    let state = run(connected(), { type: "connection", status: "closed", now: NOW }).state;
    for (let i = 0; i <= OUTBOX_LIMIT; i++)
      state = run(state, ...typeText(`m${i}`), key("enter")).state;
    expect(state.outbox).toHaveLength(OUTBOX_LIMIT);
    expect(activeBuffer(state).lines.at(-1)!.kind).toBe("error");
  });

  it("rejoins rooms and restores the nick after a reconnect", () => {
    let { state } = run(
      connected(),
      ...typeText("/join dev"),
      key("enter"),
      ...typeText("/nick 민준"),
      key("enter"),
    );
    ({ state } = run(state, frame({ type: "nick", ts: NOW, old: "me", new: "민준" })));
    expect(state.nick).toBe("민준");
    const { effects } = run(
      state,
      { type: "reconnecting", attempt: 1, delayMs: 10, error: refused, now: NOW },
      frame(welcomeFrame("guest-1", "lobby", "s2")),
    );
    expect(effects).toContainEqual({ type: "join", room: "dev" });
    expect(effects).toContainEqual({ type: "nick", nick: "민준" });
  });

  it("shows a policy refusal with the server's reason and stays closed", () => {
    const { state } = run(initialState({ server: "h:1" }), {
      type: "connect-failed",
      error: {
        code: "CHAT_ERR_REFUSED_DENIED",
        message: "Denied by rule 10.0.0.0/8",
        hint: "Contact the operator.",
      },
      now: NOW,
    });
    expect(state.active).toBe(STATUS_KEY);
    const last = activeBuffer(state).lines.at(-1)!;
    expect(last.text).toBe("Denied by rule 10.0.0.0/8");
    expect(
      statusBar(state, NOW, 120)
        .map((s) => s.text)
        .join(""),
    ).toContain("offline: CHAT_ERR_REFUSED_DENIED");
  });
});

describe("reducer: leaving", () => {
  it("clears the input on Ctrl+C and quits on Ctrl+C or Ctrl+D with an empty line", () => {
    let { state, effects } = run(connected(), ...typeText("draft"), key("C-c"));
    expect(state.input.text).toBe("");
    expect(effects).toEqual([]);
    ({ state, effects } = run(state, key("C-d")));
    expect(effects).toEqual([{ type: "quit", reason: undefined }]);
    expect(state.quitting).toBe(true);
  });

  it("quits with a reason on /quit", () => {
    const { effects } = run(connected(), ...typeText("/quit 잘 있어요"), key("enter"));
    expect(effects).toEqual([{ type: "quit", reason: "잘 있어요" }]);
  });
});

describe("reducer: failed requests", () => {
  it("names the message that was not sent, with the code and hint", () => {
    const { state } = run(connected(), {
      type: "request-failed",
      error: { code: "CHAT_ERR_RATE_LIMITED", message: "Too fast.", hint: "Slow down." },
      bufferKey: roomKey("lobby"),
      now: NOW,
      text: "잃어버린 메시지",
    });
    const last = activeBuffer(state).lines.at(-1)!;
    expect(last).toMatchObject({
      kind: "error",
      code: "CHAT_ERR_RATE_LIMITED",
      hint: "Slow down.",
    });
    expect(last.text).toBe("Too fast. Not sent: 잃어버린 메시지");
  });
});

describe("reducer: paste", () => {
  it("asks before sending many pasted lines and sends them in order on yes", () => {
    let { state, effects } = run(connected(), { type: "paste", text: "one\r\n둘\nthree\n" });
    expect(state.pendingPaste?.lines).toEqual(["one", "둘", "three"]);
    expect(effects).toEqual([]);
    ({ state, effects } = run(state, { type: "key", name: "y", ch: "y" }));
    expect(effects.map((e) => (e.type === "send" ? e.text : ""))).toEqual(["one", "둘", "three"]);
    expect(state.pendingPaste).toBeUndefined();
  });

  it("drops the paste on no and inserts a single pasted line into the input", () => {
    let { state } = run(
      connected(),
      { type: "paste", text: "a\nb" },
      { type: "key", name: "n", ch: "n" },
    );
    expect(state.pendingPaste).toBeUndefined();
    ({ state } = run(state, { type: "paste", text: "just 한 줄\n" }));
    expect(state.input.text).toBe("just 한 줄");
  });
});

describe("reducer: history", () => {
  it("marks history lines, shows each once across a rejoin, and counts none as unread", () => {
    let { state } = run(connected(), ...typeText("/join dev"), key("enter"));
    const old = (id: string, text: string): Action =>
      frame({
        type: "message",
        id,
        ts: NOW - 60_000,
        room: "lobby",
        from: "alice",
        text,
        history: true,
      });
    ({ state } = run(state, old("1", "hey ME, earlier"), old("2", "later")));
    const lobby = findBuffer(state, roomKey("lobby"))!;
    const messages = (buffer = lobby) => buffer.lines.filter((l) => l.id !== undefined);
    expect(messages().map((l) => [l.text, l.history])).toEqual([
      ["hey ME, earlier", true],
      ["later", true],
    ]);
    expect(lobby.unread).toBe(0);
    expect(lobby.highlight).toBe(false);
    // A reconnect joins again and gets the same history: nothing is shown twice.
    ({ state } = run(
      state,
      old("2", "later"),
      frame({ type: "message", id: "3", ts: NOW, room: "lobby", from: "alice", text: "now" }),
    ));
    expect(messages(findBuffer(state, roomKey("lobby"))!).map((l) => l.text)).toEqual([
      "hey ME, earlier",
      "later",
      "now",
    ]);
    expect(findBuffer(state, roomKey("lobby"))!.unread).toBe(1);
  });
});
