/** Frames from the server: messages, DMs, joins and leaves, nick changes, presence, welcome. */
import {
  appendLine,
  bareRoom,
  dmKey,
  ensureBuffer,
  findBuffer,
  foldName,
  roomKey,
  STATUS_KEY,
  switchTo,
  updateBuffer,
} from "./buffers.js";
import { SELF_RECONNECT_HINT } from "./connection.js";
import { announce, errorLine, online, only, type Reduction } from "./reduction.js";
import { addHistoryLine } from "./scrollback.js";
import type { AppState, Effect, IncomingFrame } from "./types.js";

function mentions(text: string, nick: string | undefined): boolean {
  if (nick === undefined || nick === "") return false;
  return foldName(text).includes(foldName(nick));
}

/** Applies one frame from the server. */
export function onFrame(state: AppState, frame: IncomingFrame, now: number): Reduction {
  switch (frame.type) {
    case "welcome":
      return onWelcome(state, frame, now);
    case "message": {
      const next = ensureBuffer(state, "room", frame.room);
      const own = state.nick !== undefined && foldName(frame.from) === foldName(state.nick);
      const line = {
        ts: frame.ts,
        kind: frame.action ? ("action" as const) : ("message" as const),
        nick: frame.from,
        text: frame.text,
        id: frame.id,
        // Old talk neither highlights nor counts as unread.
        highlight: !frame.history && !own && mentions(frame.text, state.nick),
        ...(frame.history ? { history: true } : {}),
      };
      // History goes where its id belongs, once (it comes again after a reconnect).
      if (frame.history) return only(addHistoryLine(next, roomKey(frame.room), line));
      return only(appendLine(next, roomKey(frame.room), line));
    }
    case "dm": {
      const own = state.nick !== undefined && foldName(frame.from) === foldName(state.nick);
      const other = own ? frame.to : frame.from;
      const key = dmKey(other);
      let next = ensureBuffer(state, "dm", other);
      // Stored DMs (an older page, /history NICK) go where their id belongs, once.
      if (frame.history) {
        return only(
          addHistoryLine(next, key, {
            ts: frame.ts,
            kind: "message",
            nick: frame.from,
            text: frame.text,
            id: frame.id,
            history: true,
          }),
        );
      }
      if (findBuffer(next, key)!.lines.some((l) => l.id === frame.id)) return only(next);
      next = appendLine(next, key, {
        ts: frame.ts,
        kind: "message",
        nick: frame.from,
        text: frame.text,
        id: frame.id,
        highlight: !own,
      });
      return only(next);
    }
    case "join": {
      const key = roomKey(frame.room);
      let next = updateBuffer(state, key, (b) => ({
        ...b,
        members: addMember(b.members, frame.nick),
      }));
      next = appendLine(next, key, {
        ts: frame.ts,
        kind: "event",
        text: `--> ${frame.nick} joined #${bareRoom(frame.room)}`,
      });
      return only(next);
    }
    case "part": {
      const key = roomKey(frame.room);
      const self = state.nick !== undefined && foldName(frame.nick) === foldName(state.nick);
      let next = updateBuffer(state, key, (b) => ({
        ...b,
        members: self ? [] : b.members.filter((m) => foldName(m) !== foldName(frame.nick)),
        joined: self ? false : b.joined,
      }));
      const reason = frame.reason ? ` (${frame.reason})` : "";
      next = appendLine(next, key, {
        ts: frame.ts,
        kind: "event",
        text: `<-- ${frame.nick} left #${bareRoom(frame.room)}${reason}`,
      });
      return only(next);
    }
    case "crowd": {
      const key = roomKey(frame.room);
      const next = appendLine(state, key, {
        ts: frame.ts,
        kind: "event",
        text: `--> ${frame.joined} joined, ${frame.left} left in the last ${Math.round(frame.windowMs / 1000)}s`,
      });
      // The summary names nobody: ask for the member list again.
      return {
        state: next,
        effects: online(state) ? [{ type: "who", room: bareRoom(frame.room) }] : [],
      };
    }
    case "nick":
      return only(onNick(state, frame, now));
    case "presence": {
      const sorted = [...frame.nicks].sort((a, b) => a.localeCompare(b));
      return only(updateBuffer(state, roomKey(frame.room), (b) => ({ ...b, members: sorted })));
    }
    case "rooms": {
      const list = frame.rooms.map((r) => `#${r.name} (${r.members})`).join(", ");
      return only(
        appendLine(state, state.active, {
          ts: now,
          kind: "info",
          text: `Rooms: ${list === "" ? "none" : list}`,
        }),
      );
    }
    case "error":
      // The client reports every error frame separately (a rejected request, or
      // "server-error"), so showing them here too would show them twice.
      return only(state);
    case "notice":
      return only(appendLine(state, state.active, { ts: now, kind: "info", text: frame.text }));
    case "topic": {
      // On join, when it changes, or asked for: shown in the room's own tab.
      const next = ensureBuffer(state, "room", frame.room);
      const text =
        frame.text === ""
          ? `#${bareRoom(frame.room)} has no topic`
          : `Topic of #${bareRoom(frame.room)}: ${frame.text}${frame.by === undefined ? "" : ` (set by ${frame.by})`}`;
      return only(
        appendLine(next, roomKey(frame.room), { ts: frame.ts ?? now, kind: "info", text }),
      );
    }
    case "shutdown": {
      const error = {
        code: "CHAT_ERR_SERVER_SHUTDOWN",
        message: `The server is shutting down: ${frame.reason}`,
        hint: SELF_RECONNECT_HINT,
      };
      // Remembered, so that the connection closing next is not announced as news.
      const next = { ...state, connection: { ...state.connection, lastError: error } };
      return only(announce(next, errorLine(error, now)));
    }
    default:
      return only(state);
  }
}

function addMember(members: readonly string[], nick: string): string[] {
  if (members.some((m) => foldName(m) === foldName(nick))) return [...members];
  return [...members, nick].sort((a, b) => a.localeCompare(b));
}

function onNick(
  state: AppState,
  frame: Extract<IncomingFrame, { type: "nick" }>,
  now: number,
): AppState {
  const oldKey = foldName(frame.old);
  const self = state.nick !== undefined && foldName(state.nick) === oldKey;
  let next: AppState = self ? { ...state, nick: frame.new, wantedNick: frame.new } : state;
  const text = self
    ? `*** You are now known as ${frame.new}`
    : `*** ${frame.old} is now known as ${frame.new}`;
  for (const buffer of state.buffers) {
    const inRoom = buffer.members.some((m) => foldName(m) === oldKey);
    const isDm = buffer.kind === "dm" && foldName(buffer.name) === oldKey;
    if (!inRoom && !isDm && !(self && buffer.key === state.active)) continue;
    next = updateBuffer(next, buffer.key, (b) => ({
      ...b,
      members: inRoom
        ? addMember(
            b.members.filter((m) => foldName(m) !== oldKey),
            frame.new,
          )
        : b.members,
    }));
    next = appendLine(next, buffer.key, { ts: frame.ts ?? now, kind: "event", text });
  }
  return next;
}

function onWelcome(
  state: AppState,
  frame: Extract<IncomingFrame, { type: "welcome" }>,
  now: number,
): Reduction {
  const reconnect = state.nick !== undefined;
  const previousNick = state.nick;
  let next = ensureBuffer({ ...state, nick: frame.nick }, "room", frame.room);
  const welcomeKey = roomKey(frame.room);
  next = updateBuffer(next, welcomeKey, (b) => ({ ...b, joined: true }));
  if (next.active === STATUS_KEY && !reconnect) next = switchTo(next, welcomeKey);
  next = {
    ...next,
    connection: { ...next.connection, status: "open", attempt: 0, retryAt: undefined },
  };
  next = announce(next, {
    ts: now,
    kind: "info",
    text: `Connected to ${state.server} as ${frame.nick} (#${frame.room}).`,
  });
  const effects: Effect[] = [{ type: "who", room: frame.room }];
  // After a reconnect the new session is only in the welcome room: rejoin the others.
  for (const b of next.buffers) {
    if (b.kind === "room" && b.joined && b.key !== welcomeKey) {
      effects.push({ type: "join", room: b.name });
    }
  }
  const wanted = state.wantedNick ?? previousNick;
  if (wanted !== undefined && foldName(wanted) !== foldName(frame.nick)) {
    effects.push({ type: "nick", nick: wanted });
  }
  // Flush what was typed while offline, in order.
  const outbox = next.outbox.map((q) => ({ ...q, sending: true }));
  for (const q of next.outbox) {
    if (q.sending) continue;
    effects.push(
      "room" in q.target
        ? { type: "send", room: q.target.room, text: q.text, action: q.action, queueId: q.id }
        : { type: "dm", to: q.target.dm, text: q.text, queueId: q.id },
    );
  }
  return { state: { ...next, outbox }, effects };
}
