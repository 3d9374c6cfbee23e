import { nameKey, type ServerFrame } from "@tcpchat/core/protocol";
import {
  appendLine,
  type ChatLine,
  type Conversation,
  createConversation,
  LINE_KIND,
} from "./conversation.js";
import { addHistoryLine, finishHistory } from "./history.js";

/** The key of a room's conversation. */
export const roomKey = (room: string): string => `#${nameKey(room)}`;
/** The key of a DM thread with `nick` (case-insensitive, as the server compares nicks). */
export const dmKey = (nick: string): string => `@${nameKey(nick)}`;

/**
 * Everything the page shows, kept up to date from server frames. Pure (no DOM, no socket): the
 * page renders it after each change, and it outlives reconnects, so history stays.
 */
export class ChatState {
  /** The session's nick, as the server last confirmed. */
  nick = "";
  /** Conversations in the order they were opened. */
  readonly conversations = new Map<string, Conversation>();
  /** Key of the conversation on screen. */
  active: string | undefined;
  /** Message ids already shown, so an echo and its ack never show a line twice. */
  private readonly seenIds = new Set<string>();
  /** Sends waiting for their ack, by ref: the ack's id makes them a line if no echo came. */
  private readonly pending = new Map<
    string,
    { key: string; text: string; kind: ChatLine["kind"] }
  >();

  /** Lines to show when a request is acknowledged (register, login), by ref. */
  private readonly ackNotes = new Map<string, string>();

  /** Shows `text` in the shown conversation when the request `ref` is acknowledged. */
  noteOnAck(ref: string, text: string): void {
    this.ackNotes.set(ref, text);
  }

  /** Remembers a send or DM so that its ack shows it (the server may not echo it). */
  expectAck(ref: string, key: string, text: string, kind: ChatLine["kind"]): void {
    this.pending.set(ref, { key, text, kind });
  }

  /** The ack of a request: a pending send becomes a line unless its echo already came. */
  acked(ref: string, id: string | undefined, ts: number): void {
    if (finishHistory(this.conversations.values(), ref, false)) return;
    const note = this.ackNotes.get(ref);
    if (note !== undefined) {
      this.ackNotes.delete(ref);
      this.note(note);
      return;
    }
    const sent = this.pending.get(ref);
    this.pending.delete(ref);
    const conversation = sent && this.conversations.get(sent.key);
    if (sent === undefined || conversation === undefined || id === undefined) return;
    this.add(conversation, { id, ts, from: this.nick, text: sent.text, kind: sent.kind });
  }

  /** A request failed: forget its pending send. */
  failed(ref: string | undefined): void {
    if (ref === undefined) return;
    this.pending.delete(ref);
    this.ackNotes.delete(ref);
    finishHistory(this.conversations.values(), ref, true);
  }

  /**
   * A new session began (first connect or a reconnect): message ids are unique only within
   * one server's run, so the dedupe set and the pending sends start afresh.
   */
  newSession(nick: string): void {
    this.nick = nick;
    this.seenIds.clear();
    this.pending.clear();
  }

  /** Rooms the session is in, for rejoining after a reconnect. */
  joinedRooms(): string[] {
    return [...this.conversations.values()]
      .filter((c) => c.kind === "room" && c.joined)
      .map((c) => c.title);
  }

  /** Shows a conversation and clears its unread count. */
  show(key: string): void {
    const conversation = this.conversations.get(key);
    if (conversation === undefined) return;
    this.active = key;
    conversation.unread = 0;
  }

  /** Opens (or finds) the DM thread with `nick`. */
  openDm(nick: string): Conversation {
    const key = dmKey(nick);
    let conversation = this.conversations.get(key);
    if (conversation === undefined) {
      conversation = createConversation(key, "dm", nick);
      this.conversations.set(key, conversation);
    }
    return conversation;
  }

  /** Adds a line to a conversation, counting it as unread when another one is shown. */
  add(conversation: Conversation, line: ChatLine): void {
    if (line.id !== undefined) {
      if (this.seenIds.has(line.id)) return;
      this.seenIds.add(line.id);
    }
    appendLine(conversation, line);
    if (this.active !== conversation.key && line.kind !== LINE_KIND.event) conversation.unread++;
  }

  /**
   * Adds a message from history (on join, an older page, /history, /search): in id order, once,
   * never unread. After a reconnect the rejoin sends history again: the lines shown say what
   * is already there.
   */
  addHistory(conversation: Conversation, line: ChatLine): void {
    const id = line.id;
    const seen =
      id !== undefined && (this.seenIds.has(id) || conversation.lines.some((l) => l.id === id));
    addHistoryLine(conversation, line, seen);
    if (id !== undefined) this.seenIds.add(id);
  }

  /** A line for the conversation on screen (local errors, notices). */
  note(text: string, kind: ChatLine["kind"] = LINE_KIND.event): void {
    const conversation =
      this.active === undefined ? undefined : this.conversations.get(this.active);
    if (conversation !== undefined) appendLine(conversation, { ts: Date.now(), text, kind });
  }

  /** Whether `nick` is this session. */
  isMe(nick: string): boolean {
    return nameKey(nick) === nameKey(this.nick);
  }

  /** Finds (or opens, when the session is in it) a room's conversation. */
  room(room: string): Conversation {
    const key = roomKey(room);
    let conversation = this.conversations.get(key);
    if (conversation === undefined) {
      conversation = createConversation(key, "room", room);
      this.conversations.set(key, conversation);
    }
    return conversation;
  }

  /** Applies one server frame. */
  apply(frame: ServerFrame): void {
    applyFrame(this, frame);
  }
}

function event(ts: number, text: string): ChatLine {
  return { ts, text, kind: LINE_KIND.event };
}

function applyFrame(state: ChatState, frame: ServerFrame): void {
  switch (frame.type) {
    case "welcome": {
      state.newSession(frame.nick);
      const room = state.room(frame.room);
      room.joined = true;
      if (state.active === undefined || !state.conversations.has(state.active)) {
        state.show(room.key);
      }
      return;
    }
    case "presence": {
      const room = state.room(frame.room);
      room.nicks.clear();
      for (const nick of frame.nicks) room.nicks.add(nick);
      return;
    }
    case "join": {
      const room = state.room(frame.room);
      room.nicks.add(frame.nick);
      if (state.isMe(frame.nick)) {
        room.joined = true;
        state.show(room.key);
      }
      state.add(room, event(frame.ts, `${frame.nick} joined #${frame.room}`));
      return;
    }
    case "part": {
      const room = state.room(frame.room);
      room.nicks.delete(frame.nick);
      if (state.isMe(frame.nick)) {
        room.joined = false;
        room.nicks.clear();
      }
      const reason = frame.reason ? ` (${frame.reason})` : "";
      state.add(room, event(frame.ts, `${frame.nick} left #${frame.room}${reason}`));
      return;
    }
    case "nick":
      renameEverywhere(state, frame.old, frame.new, frame.ts);
      return;
    case "message": {
      const line: ChatLine = {
        id: frame.id,
        ts: frame.ts,
        from: frame.from,
        text: frame.text,
        kind: frame.action ? LINE_KIND.action : LINE_KIND.message,
      };
      if (frame.history) state.addHistory(state.room(frame.room), { ...line, history: true });
      else state.add(state.room(frame.room), line);
      return;
    }
    case "dm": {
      const peer = state.isMe(frame.from) ? frame.to : frame.from;
      const thread = state.openDm(peer);
      const line: ChatLine = {
        id: frame.id,
        ts: frame.ts,
        from: frame.from,
        text: frame.text,
        kind: LINE_KIND.message,
      };
      if (frame.history) state.addHistory(thread, { ...line, history: true });
      else state.add(thread, line);
      return;
    }
    case "crowd":
      state.add(
        state.room(frame.room),
        event(frame.ts, `${frame.joined} joined and ${frame.left} left #${frame.room}`),
      );
      return;
    case "ack":
      state.acked(frame.ref, frame.id, frame.ts);
      return;
    case "error":
      state.failed(frame.ref);
      state.note(`${frame.code}: ${frame.message} ${frame.hint}`, LINE_KIND.error);
      return;
    case "notice":
      state.note(frame.text);
      return;
    case "shutdown":
      state.note(`The server is shutting down: ${frame.reason}`);
      return;
    default:
      // ping, pong and rooms are handled by the connection and the composer.
      return;
  }
}

function renameEverywhere(state: ChatState, old: string, renamed: string, ts: number): void {
  const me = state.isMe(old);
  if (me) state.nick = renamed;
  for (const conversation of state.conversations.values()) {
    if (conversation.kind === "room" && conversation.nicks.delete(old)) {
      conversation.nicks.add(renamed);
      state.add(conversation, event(ts, `${old} is now ${renamed}`));
    }
  }
  // The DM thread follows the peer to its new nick, so their next DM lands in it.
  const thread = state.conversations.get(dmKey(old));
  if (thread === undefined || me || dmKey(renamed) === thread.key) {
    if (thread !== undefined) thread.title = renamed;
    return;
  }
  const moved: Conversation = { ...thread, key: dmKey(renamed), title: renamed };
  state.conversations.delete(thread.key);
  state.conversations.set(moved.key, moved);
  if (state.active === thread.key) state.active = moved.key;
  state.add(moved, event(ts, `${old} is now ${renamed}`));
}
