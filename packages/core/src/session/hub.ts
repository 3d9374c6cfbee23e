import { type ChatError, type ChatErrorCode, ERROR_CODES, ProtocolError } from "../errors.js";
import type { ClientFrame, PresenceFrame, ServerFrame, ServerLimits } from "../protocol/frames.js";
import { formatErrorLine, formatGreeting } from "../protocol/lines.js";
import { nameKey, normalizeName } from "../protocol/names.js";
import { parseClientFrame } from "../protocol/parse-json.js";
import { parseTextLine, TEXT_COMMANDS } from "../protocol/parse-text.js";
import * as requests from "./requests.js";
import { Room } from "./room.js";
import { SESSION_STATE, Session, type SessionInfo } from "./session.js";
import { type HubStats, newStats } from "./stats.js";
import { refill } from "./token-bucket.js";
import type { Endpoint, Transport } from "./transport.js";

/** Longest a new session waits to be announced if it says nothing, in ms. */
const ARRIVAL_ANNOUNCE_DELAY_MS = 250;

/** Settings of a hub; every field has a default in defaults.ts (resolved by the server). */
export interface HubSettings extends ServerLimits {
  announceRoomSize: number;
  announceWindowMs: number;
  shutdownGraceMs: number;
  defaultRoom: string;
  operatorNick: string;
  software: string;
}

/** Events the hub reports to its owner (the server re-emits them). */
export interface HubEvents {
  emit(event: string, ...args: unknown[]): boolean;
  listenerCount(event: string): number;
}

/** Why a session ended. */
export interface CloseReason {
  code?: ChatErrorCode;
  reason: string;
}

/**
 * All chat state and rules: sessions, nicks, rooms, rate limits, broadcast batching.
 * Transport-agnostic (sessions talk to a {@link Transport}); the server wires sockets in.
 */
export class ChatHub {
  readonly stats: HubStats = newStats();
  readonly rooms = new Map<string, Room>();
  readonly sessions = new Set<Session>();
  readonly structuredSessions = new Set<Session>();
  readonly nicks = new Map<string, Session | null>();
  private dirtyRooms: Room[] = [];
  private dirtySessions: Session[] = [];
  private cutoffs: Session[] = [];
  private flushScheduled = false;
  private unannounced: Session[] = [];
  private arrivalTimer: NodeJS.Timeout | undefined;
  private nextSession = 0;
  private nextMessage = 0;
  private readonly operatorKey: string;

  constructor(
    readonly settings: HubSettings,
    readonly events: HubEvents,
  ) {
    this.operatorKey = nameKey(settings.operatorNick);
    // The operator's nick is reserved: nobody can pose as the operator.
    this.nicks.set(this.operatorKey, null);
  }

  /** Creates a session for an accepted connection, greets it and joins it to the default room. */
  open(transport: Transport, peer: Endpoint, now: number = Date.now()): Session {
    const id = `s${(++this.nextSession).toString(36)}`;
    const nick = this.guestNick();
    const session = new Session(id, transport, peer, now, this, {
      nick,
      nickKey: nameKey(nick),
      maxLineBytes: this.settings.maxLineBytes,
      burst: this.settings.messageBurst,
    });
    this.sessions.add(session);
    this.nicks.set(session.nickKey, session);
    this.stats.sessionsOpened += 1;
    if (this.sessions.size > this.stats.peakConnections) {
      this.stats.peakConnections = this.sessions.size;
    }
    // Written at once, not batched: the greeting must be the first line the client reads.
    session.writeNow(
      Buffer.from(`${formatGreeting(this.settings.software, nick, this.settings.defaultRoom)}\n`),
    );
    // Joined at once (it hears the room), announced once its mode is known (see announceArrival).
    this.joinRoom(session, this.settings.defaultRoom, now);
    this.unannounced.push(session);
    if (this.arrivalTimer === undefined) {
      this.arrivalTimer = setTimeout(this.announceArrivalsBound, ARRIVAL_ANNOUNCE_DELAY_MS);
      this.arrivalTimer.unref();
    }
    if (this.events.listenerCount("session-open") > 0) {
      this.events.emit("session-open", session.info());
    }
    return session;
  }

  /** Feeds bytes from the peer. Never throws: bad lines cost their sender that line. */
  receive(session: Session, chunk: Buffer, now: number = Date.now()): void {
    if (!session.open) return;
    this.stats.bytesIn += chunk.length;
    session.lastSeenAt = now;
    const lines = session.decoder.push(chunk);
    for (let i = 0; i < lines.length && session.open; i++) {
      const line = lines[i]!;
      if (typeof line === "string") this.handleLine(session, line, now);
      else {
        this.stats.framingErrors += 1;
        this.replyError(session, line);
      }
    }
  }

  /** The peer closed its sending side: a final unterminated line still counts (spec 1.5). */
  receiveEnd(session: Session, now: number = Date.now()): void {
    for (const line of session.decoder.end()) {
      if (typeof line === "string") this.handleLine(session, line, now);
    }
  }

  /** Ends a session on purpose: tells it why (if it still reads), then closes the transport. */
  disconnect(session: Session, code: ChatErrorCode, reason?: string): void {
    if (!session.open) return;
    const info = ERROR_CODES[code];
    const message = reason ?? info.message;
    session.sendFrame({ type: "error", code, message, hint: info.hint });
    this.close(session, { code, reason: message }, true);
  }

  /** Removes a session from every room and registry. `graceful` flushes what is queued first. */
  close(session: Session, why: CloseReason, graceful: boolean): void {
    if (!session.open) return;
    // What this turn already sent to its rooms and to it goes out before the close.
    for (const room of session.rooms) this.stats.deliveries += room.flush();
    session.flushPersonal();
    session.state = SESSION_STATE.closing;
    session.closeCode = why.code;
    session.closeReason = why.reason;
    this.forget(session, why.reason);
    if (graceful) session.transport.end();
    else session.transport.destroy();
  }

  /** The transport closed (by either side): forget the session if that has not happened yet. */
  transportClosed(session: Session, why: CloseReason): void {
    if (session.state === SESSION_STATE.closed) return;
    if (session.open) {
      session.state = SESSION_STATE.closing;
      session.closeCode = why.code;
      session.closeReason = why.reason;
      this.forget(session, why.reason);
    }
    session.state = SESSION_STATE.closed;
    this.sessions.delete(session);
    this.structuredSessions.delete(session);
    if (this.events.listenerCount("session-close") > 0) {
      this.events.emit("session-close", session.info(), {
        ...(session.closeCode === undefined ? {} : { code: session.closeCode }),
        reason: session.closeReason,
      });
    }
  }

  /** The operator speaks in a room (default room if none is given). */
  say(text: string, roomName?: string, now: number = Date.now()): boolean {
    const room = this.rooms.get(nameKey(roomName ?? this.settings.defaultRoom));
    if (room === undefined || text === "") return false;
    const id = this.messageId();
    this.broadcast(room, {
      type: "message",
      id,
      ts: now,
      room: room.name,
      from: this.settings.operatorNick,
      text,
    });
    this.emitMessage(id, now, room.name, this.settings.operatorNick, text, false);
    return true;
  }

  /** Sends a notice to every session (used for shutdown and operator announcements). */
  noticeAll(frame: ServerFrame): void {
    for (const session of this.sessions) session.sendFrame(frame);
  }

  /** Liveness sweep for structured sessions (spec 7): ping the quiet ones, drop the silent. */
  sweepPings(now: number = Date.now()): void {
    for (const session of this.structuredSessions) {
      if (session.pingRef !== undefined) {
        if (now - session.pingSentAt > this.settings.pingTimeoutMs) {
          this.disconnect(session, "CHAT_ERR_PING_TIMEOUT");
        }
      } else if (now - session.lastSeenAt >= this.settings.pingIntervalMs) {
        session.pingRef = `p${now.toString(36)}`;
        session.pingSentAt = now;
        session.sendFrame({ type: "ping", ref: session.pingRef });
      }
    }
  }

  /** Looks a session up by nick (case-insensitively) or by id. */
  find(target: string): Session | undefined {
    const byNick = this.nicks.get(nameKey(target));
    if (byNick) return byNick;
    for (const session of this.sessions) if (session.id === target) return session;
    return undefined;
  }

  sessionInfos(): SessionInfo[] {
    return [...this.sessions].map((session) => session.info());
  }

  /** Writes everything queued in this turn: room batches first, then personal frames. */
  flush(): void {
    this.flushScheduled = false;
    const rooms = this.dirtyRooms;
    this.dirtyRooms = [];
    for (const room of rooms) this.stats.deliveries += room.flush();
    const sessions = this.dirtySessions;
    this.dirtySessions = [];
    for (const session of sessions) session.flushPersonal();
    if (this.cutoffs.length > 0) {
      const slow = this.cutoffs;
      this.cutoffs = [];
      for (const session of slow) this.cutOff(session);
    }
  }

  // SessionOwner

  wrote(session: Session, bytes: number): void {
    this.stats.bytesOut += bytes;
    if (session.transport.queuedBytes > this.settings.sendQueueBytes) this.cutoffs.push(session);
  }

  personalPending(session: Session): void {
    this.dirtySessions.push(session);
    this.scheduleFlush();
  }

  // Requests

  private handleLine(session: Session, line: string, now: number): void {
    let request: ClientFrame | ProtocolError | null;
    if (session.state === SESSION_STATE.structured) {
      request = parseClientFrame(line);
    } else if (session.state === SESSION_STATE.pending && line.charCodeAt(0) === 0x7b /* { */) {
      request = parseClientFrame(line);
      if (!(request instanceof ProtocolError) && request.type !== "hello") {
        request = new ProtocolError("CHAT_ERR_BAD_FRAME", {
          message: "The first JSON frame must be a hello.",
        });
      }
    } else {
      if (session.state === SESSION_STATE.pending) {
        session.state = SESSION_STATE.text;
        session.mode = "text";
      }
      request = parseTextLine(line);
    }
    if (request === null) return;
    if (request instanceof ProtocolError) {
      this.replyError(session, request, (request as { ref?: string }).ref);
      return;
    }
    this.stats.requestsIn += 1;
    if (request.type === "hello" || (request.type === "nick" && !session.announced)) {
      // Settle the name first, so the room hears "alice joined" rather than a guest's rename.
      this.handleRequest(session, request, now);
      this.announceArrival(session, now);
      return;
    }
    // A text client's first line: the room hears it arrive before it hears it speak.
    this.announceArrival(session, now);
    this.handleRequest(session, request, now);
  }

  /**
   * Announces a session's arrival in its rooms. Deferred from the greeting until its first line
   * (or {@link ARRIVAL_ANNOUNCE_DELAY_MS}), so that a structured client's hello (nick, room) is
   * applied first: the room hears "alice joined", not "guest-1f3a joined" and a nick change.
   */
  announceArrival(session: Session, now: number = Date.now()): void {
    if (session.announced || !session.open) return;
    session.announced = true;
    for (const room of session.rooms) {
      this.announce(room, "join", session.nick, undefined, now);
      if (this.events.listenerCount("join") > 0) {
        this.events.emit("join", { room: room.name, nick: session.nick });
      }
    }
  }

  private readonly announceArrivalsBound = (): void => {
    this.arrivalTimer = undefined;
    const sessions = this.unannounced;
    this.unannounced = [];
    const now = Date.now();
    for (const session of sessions) this.announceArrival(session, now);
  };

  private handleRequest(session: Session, request: ClientFrame, now: number): void {
    switch (request.type) {
      case "hello":
        return requests.hello(this, session, request, now);
      case "send":
        return requests.sendToRoom(this, session, request, now);
      case "dm":
        return requests.directMessage(this, session, request, now);
      case "join": {
        const room = this.joinRoom(session, request.room, now, request.ref);
        if (room !== undefined) this.ack(session, request.ref, now);
        return;
      }
      case "part":
        return requests.partRoom(this, session, request.room, request.ref, now);
      case "nick":
        return requests.changeNick(this, session, request.nick, request.ref, now);
      case "who":
        return requests.who(this, session, request.room, request.ref, now);
      case "rooms":
        session.sendFrame({ type: "rooms", rooms: this.roomList() });
        return this.ack(session, request.ref, now);
      case "ping":
        session.sendFrame(
          request.ref === undefined ? { type: "pong" } : { type: "pong", ref: request.ref },
        );
        return;
      case "pong":
        if (request.ref === session.pingRef) session.pingRef = undefined;
        return;
      case "help":
        for (const usage of Object.values(TEXT_COMMANDS)) session.sendLine(`*** ${usage}`);
        session.sendLine("*** lines not starting with / are messages to your current room");
        return this.ack(session, request.ref, now);
      case "quit":
        return this.close(
          session,
          { reason: `quit${request.reason ? `: ${request.reason}` : ""}` },
          true,
        );
    }
  }

  /** The room a request names (`#` optional), or the session's current room if it names none. */
  roomNamed(session: Session, rawName: string | undefined): Room | undefined {
    if (rawName === undefined) return session.current;
    return this.rooms.get(nameKey(rawName.startsWith("#") ? rawName.slice(1) : rawName));
  }

  joinRoom(session: Session, rawName: string, now: number, ref?: string): Room | undefined {
    const name = normalizeName(rawName, "room", this.settings.maxNameLength);
    if (name instanceof ProtocolError) {
      this.replyError(session, name, ref);
      return undefined;
    }
    const key = nameKey(name);
    let room = this.rooms.get(key);
    if (room?.members.has(session)) {
      session.current = room;
      session.sendFrame(this.presence(room));
      return room;
    }
    if (session.rooms.length >= this.settings.maxRoomsPerSession) {
      this.replyError(session, new ProtocolError("CHAT_ERR_TOO_MANY_ROOMS"), ref);
      return undefined;
    }
    if (room === undefined) {
      room = new Room(name, key);
      this.rooms.set(key, room);
    }
    this.stats.deliveries += room.flush();
    room.members.add(session);
    if (session.structured) room.structuredMembers += 1;
    else room.textMembers += 1;
    session.rooms.push(room);
    session.current = room;
    if (session.announced) this.announce(room, "join", session.nick, undefined, now);
    if (room.members.size > this.settings.announceRoomSize || session.structured) {
      // The joiner does not see a summed-up join; it gets the member list instead.
      if (session.structured) session.sendFrame(this.presence(room));
      else session.sendLine(`*** you are in #${room.name} with ${room.members.size - 1} others`);
    }
    if (session.announced && this.events.listenerCount("join") > 0) {
      this.events.emit("join", { room: room.name, nick: session.nick });
    }
    return room;
  }

  leaveRoom(session: Session, room: Room, reason: string, now: number): void {
    this.stats.deliveries += room.flush();
    room.members.delete(session);
    if (session.structured) room.structuredMembers -= 1;
    else room.textMembers -= 1;
    const index = session.rooms.indexOf(room);
    if (index !== -1) session.rooms.splice(index, 1);
    if (session.current === room) session.current = session.rooms[session.rooms.length - 1];
    if (room.members.size === 0 && room.pendingFrames === 0 && room.crowdTimer === undefined) {
      this.rooms.delete(room.key);
      return;
    }
    if (!session.announced) return;
    this.announce(room, "part", session.nick, reason, now);
    if (this.events.listenerCount("part") > 0)
      this.events.emit("part", { room: room.name, nick: session.nick, reason });
  }

  // Helpers

  private announce(
    room: Room,
    kind: "join" | "part",
    nick: string,
    reason: string | undefined,
    now: number,
  ): void {
    if (room.members.size + (kind === "part" ? 1 : 0) <= this.settings.announceRoomSize) {
      this.broadcast(
        room,
        kind === "join"
          ? { type: "join", ts: now, room: room.name, nick }
          : { type: "part", ts: now, room: room.name, nick, ...(reason ? { reason } : {}) },
      );
      return;
    }
    if (kind === "join") room.crowdJoined += 1;
    else room.crowdLeft += 1;
    if (room.crowdTimer === undefined) {
      room.crowdTimer = setTimeout(() => this.announceCrowd(room), this.settings.announceWindowMs);
      room.crowdTimer.unref();
    }
  }

  private announceCrowd(room: Room): void {
    room.crowdTimer = undefined;
    if (room.crowdJoined + room.crowdLeft > 0) {
      this.broadcast(room, {
        type: "crowd",
        ts: Date.now(),
        room: room.name,
        joined: room.crowdJoined,
        left: room.crowdLeft,
        windowMs: this.settings.announceWindowMs,
      });
      room.crowdJoined = 0;
      room.crowdLeft = 0;
    }
    if (room.members.size === 0) {
      this.stats.deliveries += room.flush();
      this.rooms.delete(room.key);
    }
  }

  broadcast(room: Room, frame: ServerFrame): void {
    if (room.pendingFrames === 0) {
      this.dirtyRooms.push(room);
      this.scheduleFlush();
    }
    room.append(frame);
  }

  private forget(session: Session, reason: string): void {
    for (const room of [...session.rooms]) this.leaveRoom(session, room, reason, Date.now());
    if (this.nicks.get(session.nickKey) === session) this.nicks.delete(session.nickKey);
  }

  private cutOff(session: Session): void {
    if (!session.open) return;
    this.stats.sendQueueCutoffs += 1;
    const code: ChatErrorCode = "CHAT_ERR_SEND_QUEUE_FULL";
    const reason = `send queue passed ${this.settings.sendQueueBytes} bytes (the client stopped reading)`;
    // The reason goes after what is queued: it arrives only if the client reads again soon.
    const line = formatErrorLine(code, ERROR_CODES[code].message, ERROR_CODES[code].hint);
    session.state = SESSION_STATE.closing;
    session.closeCode = code;
    session.closeReason = reason;
    this.forget(session, "send queue full");
    session.transport.end(Buffer.from(`${line}\n`, "utf8"));
  }

  takeToken(session: Session, now: number): boolean {
    const tokens = refill(
      session.tokens,
      session.tokensAt,
      now,
      this.settings.messageRate,
      this.settings.messageBurst,
    );
    session.tokensAt = now;
    if (tokens < 1) {
      session.tokens = tokens;
      return false;
    }
    session.tokens = tokens - 1;
    return true;
  }

  rateLimited(session: Session, ref: string | undefined): void {
    this.stats.rateLimited += 1;
    const waitMs = Math.ceil(((1 - session.tokens) * 1000) / this.settings.messageRate);
    this.replyError(
      session,
      new ProtocolError("CHAT_ERR_RATE_LIMITED", {
        message: `You are sending faster than ${this.settings.messageRate} messages/s (burst ${this.settings.messageBurst}); this message was not sent. Retry in ${waitMs} ms.`,
      }),
      ref,
    );
  }

  replyError(session: Session, error: ChatError, ref?: string): void {
    session.sendFrame({
      type: "error",
      code: error.code,
      message: error.message,
      hint: error.hint,
      ...(ref === undefined ? {} : { ref }),
    });
  }

  ack(session: Session, ref: string | undefined, now: number): void {
    if (ref !== undefined && session.structured) session.sendFrame({ type: "ack", ref, ts: now });
  }

  emitMessage(
    id: string,
    ts: number,
    room: string,
    from: string,
    text: string,
    action: boolean,
  ): void {
    if (this.events.listenerCount("message") > 0)
      this.events.emit("message", { id, ts, room, from, text, action });
  }

  /**
   * The member list of a room. Sent unasked (on join and hello) it is cut to `limit` nicks,
   * so that a connect storm into a big room is not quadratic; `who` asks for all of them.
   */
  presence(room: Room, limit = this.settings.announceRoomSize): PresenceFrame {
    const nicks: string[] = [];
    for (const member of room.members) {
      if (nicks.length >= limit) break;
      nicks.push(member.nick);
    }
    const frame: PresenceFrame = {
      type: "presence",
      room: room.name,
      nicks,
      count: room.members.size,
    };
    if (nicks.length < room.members.size) frame.truncated = true;
    return frame;
  }

  roomList(): Array<{ name: string; members: number }> {
    return [...this.rooms.values()].map((room) => ({
      name: room.name,
      members: room.members.size,
    }));
  }

  messageId(): string {
    return (++this.nextMessage).toString(36);
  }

  private guestNick(): string {
    for (;;) {
      const nick = `guest-${Math.floor(Math.random() * 0xffffff)
        .toString(16)
        .padStart(6, "0")}`;
      if (!this.nicks.has(nick)) return nick;
    }
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(this.flushBound);
  }

  private readonly flushBound = (): void => this.flush();
}
