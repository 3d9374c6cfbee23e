import { type ChatError, type ChatErrorCode, ERROR_CODES, ProtocolError } from "../errors.js";
import type { DecodedLine } from "../framing/line-decoder.js";
import type {
  ClientFrame,
  DmFrame,
  PresenceFrame,
  ServerFrame,
  ServerLimits,
} from "../protocol/frames.js";
import { formatErrorLine, formatGreeting } from "../protocol/lines.js";
import { lookalikeKeys } from "../protocol/lookalikes.js";
import { GUEST_NICK_PREFIX, nameKey, normalizeName } from "../protocol/names.js";
import { parseClientFrame } from "../protocol/parse-json.js";
import { parseTextLine } from "../protocol/parse-text.js";
import { neutralizeText } from "../protocol/text-safety.js";
import type { History } from "../store/history.js";
import type { StoredTopic } from "../store/types.js";
import * as accountRequests from "./account-requests.js";
import type { Accounts } from "./accounts.js";
import type { MessageIdSource, RoomBus } from "./bus.js";
import { type Codec, JSON_CODEC, TEXT_CODEC } from "./codec.js";
import { recordDmBetween } from "./dm-history.js";
import { ErrorReplies } from "./error-replies.js";
import * as historyRequests from "./history-requests.js";
import {
  consume,
  drainInbox,
  type InputOwner,
  MAX_LINES_PER_SLICE,
  TURN_FAIR_LINES,
  TURN_SLICE_LINES,
} from "./input.js";
import { NickRegistry } from "./nick-registry.js";
import * as operatorRequests from "./operator-requests.js";
import * as requests from "./requests.js";
import { NO_ROOMS, Room } from "./room.js";
import { SESSION_STATE, Session, type SessionInfo, type SessionLimits } from "./session.js";
import { type HubStats, newStats } from "./stats.js";
import { refill } from "./token-bucket.js";
import { Topics } from "./topics.js";
import type { Endpoint, Transport } from "./transport.js";

/** Settings of a hub; every field has a default in defaults.ts (resolved by the server). */
export interface HubSettings extends ServerLimits {
  announceRoomSize: number;
  announceWindowMs: number;
  shutdownGraceMs: number;
  defaultRoom: string;
  operatorNick: string;
  software: string;
  /** Work tokens per second and their burst: every line costs one, big replies more. */
  requestRate: number;
  requestBurst: number;
  /** Nick changes per second and their burst. */
  nickRate: number;
  nickBurst: number;
  /** Error replies per second and their burst; past them errors are summed up. */
  errorReplyRate: number;
  errorReplyBurst: number;
  /** A silent peer is settled as a text client after this long, in ms. */
  modeSettleMs: number;
  /** Time a connection has to complete its first line once it started one, in ms. */
  firstLineTimeoutMs: number;
  /** Time any later line may take to arrive, in ms. */
  lineTimeoutMs: number;
  /** How long a nick freed by a dropped connection is kept for its owner's address, in ms. */
  nickHoldMs: number;
  /** How long a session's writes may stay stuck (it does not read) before it is cut off, in ms. */
  sendStallMs: number;
  /**
   * Most writes a turn's output may take and still be flushed at the end of the I/O callback
   * that queued it (0: always at the end of the turn).
   */
  flushAtOnceWrites: number;
  /**
   * Time the input of all sessions together may take in one event-loop turn, in ms, beyond
   * each session's fair share; what is left waits in the sessions' inboxes for the next turn.
   */
  inputTurnMs: number;
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

/** How long a nick change from another node is remembered, so that each member hears it once. */
const REMOTE_NICK_MEMORY_MS = 10_000;

/** How often paused sessions are looked at again, in ms (their tokens refill meanwhile). */
const RESUME_TICK_MS = 20;

/**
 * All chat state and rules: sessions, nicks, rooms, budgets, broadcast batching.
 * Transport-agnostic (sessions talk to a {@link Transport}); the server wires sockets in.
 */
export class ChatHub implements InputOwner {
  readonly stats: HubStats = newStats();
  readonly rooms = new Map<string, Room>();
  private readonly roomsByLookalike = new Map<string, Room>();
  readonly sessions = new Set<Session>();
  readonly structuredSessions = new Set<Session>();
  readonly nicks: NickRegistry;
  readonly errors: ErrorReplies;
  /** Open sessions that never completed a line, oldest first: evictable at the cap. */
  private readonly lineless = new Set<Session>();
  /** Sessions in the middle of a line (line timeouts). */
  private readonly midLine = new Set<Session>();
  /** Sessions that had bytes left queued in their transport after a write (the stall sweep's). */
  private readonly backloggedSessions = new Set<Session>();
  /** Sessions whose reading is paused by their budget. */
  private readonly pausedSessions = new Set<Session>();
  private resumeTimer: NodeJS.Timeout | undefined;
  /**
   * The input turn: a serial that changes once per event-loop turn in which input was read, and
   * when that turn's input began (`performance.now()`). Reading is bounded per turn, all sessions
   * together, before lines are decoded and parsed (see {@link lineAllowance}).
   */
  private inputTurn = 0;
  private inputTurnStartedAt = 0;
  /** Whether the turn's end (`setImmediate`) is armed: at most once per turn. */
  private inputTurnArmed = false;
  /** Whether a session was paused this turn because the turn's time ran out (not its budget). */
  private inputTurnDeferred = false;
  /** Whether paused sessions' inboxes are being served (they get no fair share: see below). */
  private drainingPaused = false;
  private dirtyRooms: Room[] = [];
  private dirtySessions: Session[] = [];
  private cutoffs: Session[] = [];
  private flushScheduled = false;
  /** Whether a `setImmediate` flush is pending (at most one per turn, however often it flushes). */
  private immediateArmed = false;
  private unsettled: Session[] = [];
  private settleTimer: NodeJS.Timeout | undefined;
  private openCount = 0;
  private nextSession = 0;
  private nextMessage = 0;
  /** In a cluster, where message ids come from (unique across the nodes); alone, a counter. */
  private ids: MessageIdSource | undefined;
  /** Nick changes from other nodes, and who here was told of each. */
  private readonly remoteNicksTold = new Map<string, Set<Session>>();
  /** Where room batches go beyond this process; undefined when the server is alone. */
  private bus: RoomBus | undefined;
  /** Room history (undefined: the server keeps none); set by the server before it listens. */
  history: History | undefined;
  /** Registered nicks (undefined: the server keeps no accounts); set by the server. */
  accounts: Accounts | undefined;
  /** The ban list operator accounts change (undefined: bans only from the console). */
  bans: operatorRequests.BanAuthority | undefined;
  /** Room topics (in memory; the server gives it its store before it listens). */
  topics: Topics = new Topics(undefined, () => {});
  /** Bytes of replies queued to a session past which its input waits (a quarter of the queue). */
  private readonly replyPauseBytes: number;
  /** What every session of this hub is created with (shared, not copied per session). */
  readonly sessionLimits: SessionLimits;

  constructor(
    readonly settings: HubSettings,
    readonly events: HubEvents,
  ) {
    this.nicks = new NickRegistry(settings.operatorNick, settings.nickHoldMs);
    this.errors = new ErrorReplies(settings, this.stats);
    this.replyPauseBytes = Math.max(1, Math.floor(settings.sendQueueBytes / 4));
    this.sessionLimits = {
      maxLineBytes: settings.maxLineBytes,
      burst: settings.messageBurst,
      workBurst: settings.requestBurst,
      nickBurst: settings.nickBurst,
      errorBurst: settings.errorReplyBurst,
      sendQueueBytes: settings.sendQueueBytes,
    };
  }

  /**
   * Joins a cluster: rooms created from now on publish their members' frames to `bus`, and
   * message ids come from `ids`, so that they are unique across nodes. Called before listening.
   */
  attachBus(bus: RoomBus, ids: MessageIdSource): void {
    this.bus = bus;
    this.ids = ids;
    this.nicks.cluster = bus;
  }

  /**
   * Frames another node published for a room: queued behind this turn's batch and written to
   * this node's members through the same encode-once path as local frames. Ignored when no
   * member of the room is here any more.
   */
  deliverRemote(roomKey: string, frames: readonly ServerFrame[]): void {
    const room = this.rooms.get(roomKey);
    if (room === undefined || frames.length === 0) return;
    this.recordRemote(roomKey, frames);
    if (room.pendingFrames === 0) {
      this.dirtyRooms.push(room);
      this.scheduleFlush();
    }
    room.appendRemote(frames);
  }

  /**
   * Every node records every message of the rooms it relays (another node's, live or fetched
   * from the room's log), with the id its node gave it: ids are unique across the cluster
   * (cluster/message-ids.ts), so a join, a history page or a search here sees them all.
   */
  recordRemote(roomKey: string, frames: readonly ServerFrame[]): void {
    const history = this.history;
    if (history === undefined) return;
    for (const frame of frames) {
      if (frame.type !== "message" || frame.history === true) continue;
      const id = Number.parseInt(frame.id, 36);
      if (!Number.isSafeInteger(id)) continue;
      history.record({
        id,
        ts: frame.ts,
        room: frame.room,
        roomKey,
        from: frame.from,
        text: frame.text,
        action: frame.action === true,
      });
    }
  }

  /**
   * For an operator on another node of a cluster: disconnects the session holding a nick here.
   * Returns the nick as spelt, or null when no open session here holds it.
   */
  kickLocal(nickKey: string, code: ChatErrorCode, reason: string | undefined): string | null {
    const target = this.nicks.get(nickKey);
    if (target === undefined || target === null || !target.open) return null;
    const nick = target.nick;
    this.disconnect(target, code, reason);
    return nick;
  }

  /**
   * Kicks a nick held on another node of the cluster; `done` gets the nick as spelt there, or
   * null when no node holds it (or its node did not answer). Alone, `done(null)` at once.
   */
  kickRemote(
    nick: string,
    code: ChatErrorCode,
    reason: string | undefined,
    done: (nick: string | null) => void,
  ): void {
    if (this.bus === undefined) return done(null);
    this.bus.kickRemote(nameKey(nick), code, reason).then(done, () => done(null));
  }

  /**
   * Disconnects every open session whose peer address `pick` picks, telling it why (for an
   * operator's `/ban --kick` on another node of a cluster). Returns how many.
   */
  disconnectAddresses(
    pick: (address: string) => boolean,
    code: ChatErrorCode,
    reason: string | undefined,
  ): number {
    let count = 0;
    for (const session of [...this.sessions]) {
      if (!session.open || !pick(session.peer.address)) continue;
      this.disconnect(session, code, reason);
      count += 1;
    }
    return count;
  }

  /** For an operator's `/ban NICK` on another node: who holds the nick here, from where. */
  addressOf(nickKey: string): { nick: string; address: string } | null {
    const holder = this.nicks.get(nickKey);
    if (holder === undefined || holder === null || !holder.open) return null;
    return { nick: holder.nick, address: holder.peer.address };
  }

  /**
   * The address of the session holding `nick` on another node of the cluster; `done` gets null
   * when no node holds it (or its node did not answer). Alone, `done(null)` at once.
   */
  remoteAddressOf(
    nick: string,
    done: (found: { nick: string; address: string } | null) => void,
  ): void {
    if (this.bus === undefined) return done(null);
    this.bus.remoteAddress(nameKey(nick)).then(done, () => done(null));
  }

  /**
   * Disconnects the sessions `target` covers on the other nodes of the cluster; `done` gets how
   * many. Alone, `done(0)` at once.
   */
  kickCoveredRemote(
    target: string,
    code: ChatErrorCode,
    reason: string | undefined,
    done: (count: number) => void,
  ): void {
    if (this.bus === undefined) return done(0);
    this.bus.kickCovered(target, code, reason).then(done, () => done(0));
  }

  /** A topic set on another node: shown to the room's members here, if it has any. */
  showRemoteTopic(topic: StoredTopic): void {
    const room = this.rooms.get(topic.roomKey);
    if (room === undefined) return;
    this.deliverRemote(room.key, [
      operatorRequests.topicFrame(room.name, topic.text === "" ? undefined : topic),
    ]);
  }

  /** Whether this node keeps history (a cluster fetches a room's past only for one that does). */
  get keepsHistory(): boolean {
    return this.history !== undefined;
  }

  /** Which of a room's message ids this node's history has (null: it keeps no history). */
  knownMessageIds(roomKey: string, ids: readonly number[]): Promise<Set<number>> | null {
    return this.history === undefined ? null : this.history.knownIds(roomKey, ids);
  }

  /**
   * Runs `read` once the room's history here is complete: at once, unless the room just opened
   * on this node of a cluster and is still fetching what was said while it had no member here.
   */
  whenHistoryReady(roomKey: string, read: () => void): void {
    const pending = this.bus?.historyPending(roomKey);
    if (pending === undefined) read();
    else pending.then(read, read);
  }

  /** In a cluster: a local nick change goes to the other nodes of its small rooms. */
  publishNick(session: Session, frame: ServerFrame): void {
    if (this.bus === undefined) return;
    for (const room of session.rooms) {
      if (room.members.size > this.settings.announceRoomSize) continue;
      this.bus.publish(room.key, [frame]);
    }
  }

  /**
   * A nick change on another node, heard in one of the rooms it shares with this node (it
   * arrives once per shared room): each member here hears it once, after what the room said
   * before it, as for a local change.
   */
  announceRemoteNick(frame: ServerFrame, roomKey: string): void {
    const room = this.rooms.get(roomKey);
    if (room === undefined || room.members.size > this.settings.announceRoomSize) return;
    const key = JSON.stringify(frame);
    let told = this.remoteNicksTold.get(key);
    if (told === undefined) {
      told = new Set();
      this.remoteNicksTold.set(key, told);
      // Every room's copy arrives within moments; the memory of it does not need to last.
      setTimeout(() => this.remoteNicksTold.delete(key), REMOTE_NICK_MEMORY_MS).unref();
    }
    this.stats.deliveries += room.flush();
    const encoded = new Map<Codec, Buffer | null>();
    for (const member of room.members) {
      if (told.has(member)) continue;
      told.add(member);
      member.sendNow(frame, encoded);
      this.stats.deliveries += 1;
    }
  }

  /** A nick this node gave out was claimed first on another node: its session gets a guest nick. */
  nickLost(nickKey: string, now: number = Date.now()): void {
    const session = this.nicks.get(nickKey);
    if (session === undefined || session === null || !session.open) return;
    requests.loseNick(this, session, this.guestNick(session, now), now);
  }

  /** Whether this hub is a node of a cluster. */
  get clustered(): boolean {
    return this.bus !== undefined;
  }

  /**
   * The members of a room that has none here, from the cluster (null when no node has any).
   * Answers later: `reply` runs once the cluster has answered.
   */
  remotePresence(rawName: string, reply: (presence: PresenceFrame | null) => void): void {
    if (this.bus === undefined) return reply(null);
    this.bus.lookupRoom(nameKey(rawName)).then(
      (found) =>
        reply(
          found === null
            ? null
            : { type: "presence", room: found.name, nicks: found.nicks, count: found.nicks.length },
        ),
      () => reply(null),
    );
  }

  /**
   * Every room of the cluster with its members on every node (in a cluster); `reply` gets null
   * when the cluster cannot answer (Redis away), and then this node's rooms are what is known.
   */
  clusterRooms(reply: (rooms: Array<{ name: string; members: number }> | null) => void): void {
    if (this.bus === undefined) return reply(null);
    this.bus.listRooms().then(reply, () => reply(null));
  }

  /** How a nick held on another node of the cluster is spelt; undefined if none holds it. */
  remoteNick(nick: string): string | undefined {
    return this.bus?.remoteNick(nameKey(nick));
  }

  /** Sends a direct message to the node holding its target (in a cluster). */
  sendRemoteDm(toKey: string, frame: DmFrame, fromAccount: string | undefined): void {
    // Counted as a delivery by the node that writes it.
    this.bus?.sendDm(toKey, frame, fromAccount);
  }

  /**
   * A direct message from another node for a session here, stored when both ends are logged
   * in. Returns the recipient's account (null: a guest), or undefined if its target is gone.
   */
  deliverDm(toKey: string, frame: DmFrame, fromAccount?: string): string | null | undefined {
    const target = this.nicks.get(toKey);
    if (target === undefined || target === null || !target.open) return undefined;
    target.sendFrame(frame);
    this.stats.deliveries += 1;
    const serial = Number.parseInt(frame.id, 36);
    const toAccount = target.account;
    if (fromAccount !== undefined && toAccount !== undefined && Number.isSafeInteger(serial)) {
      recordDmBetween(this, fromAccount, toAccount, frame, serial);
    }
    return toAccount ?? null;
  }

  /** A DM sent from here that another node delivered to a logged-in recipient: stored here too. */
  recordSentDm(frame: DmFrame, fromAccount: string, toAccount: string): void {
    const serial = Number.parseInt(frame.id, 36);
    if (Number.isSafeInteger(serial)) recordDmBetween(this, fromAccount, toAccount, frame, serial);
  }

  /** Open sessions (closing ones excluded): what the connection cap counts. */
  get openSessions(): number {
    return this.openCount;
  }

  /**
   * Creates a session for an accepted connection, greets it and joins it to the default room.
   * With `wireCodec` (WebSocket) there is no text greeting and no settling by silence: such a
   * peer opens with a hello (or a first frame) and every frame it gets is in that codec.
   */
  open(
    transport: Transport,
    peer: Endpoint,
    now: number = Date.now(),
    wireCodec: Codec | null = null,
  ): Session {
    const s = this.settings;
    const session = new Session(++this.nextSession, transport, peer, now, this);
    this.nicks.take(session, this.guestNick(session, now));
    this.sessions.add(session);
    this.lineless.add(session);
    this.openCount += 1;
    this.stats.sessionsOpened += 1;
    if (this.sessions.size > this.stats.peakConnections) {
      this.stats.peakConnections = this.sessions.size;
    }
    session.wireCodec = wireCodec;
    // Written at once, not batched: the greeting must be the first line the client reads.
    if (wireCodec === null) {
      session.writeNow(Buffer.from(`${formatGreeting(s.software, session.nick, s.defaultRoom)}\n`));
    }
    // Joined at once (it hears the room, held until its mode is known), announced once its mode
    // is settled (see settleSilent).
    const lobby = this.joinRoom(session, s.defaultRoom, now);
    if (lobby !== undefined) {
      operatorRequests.sendJoinTopic(this, session, lobby);
      historyRequests.sendJoinHistory(this, session, lobby);
    }
    if (wireCodec === null) this.unsettled.push(session);
    if (this.settleTimer === undefined && wireCodec === null) {
      this.settleTimer = setTimeout(this.settleSilentBound, s.modeSettleMs);
      this.settleTimer.unref();
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
    if (session.inbox !== null) {
      // Paused: bytes already read when the pause took effect wait behind the inbox.
      session.inbox.push(chunk);
      return;
    }
    consume(this, session, chunk, now);
    this.flushIfSmall();
  }

  /** The peer closed its sending side: a final unterminated line still counts (spec 1.5). */
  receiveEnd(session: Session, now: number = Date.now()): void {
    if (session.inbox !== null) {
      // Input is still waiting for budget: the end is handled once it has been served.
      session.endPending = true;
      return;
    }
    for (const line of session.decoder.end()) {
      if (typeof line === "string") this.handleDecoded(session, line, now);
    }
    this.close(session, { reason: "client closed the connection" }, true);
  }

  /** Ends a session on purpose: tells it why (if it still reads), then closes the transport. */
  disconnect(session: Session, code: ChatErrorCode, reason?: string): void {
    if (!session.open) return;
    const info = ERROR_CODES[code];
    const message = reason ?? info.message;
    if (session.codec === null) this.settleAsText(session, Date.now());
    session.sendFrame({ type: "error", code, message, hint: info.hint });
    this.close(session, { code, reason: message }, true);
  }

  /** Removes a session from every room and registry. `graceful` flushes what is queued first. */
  close(session: Session, why: CloseReason, graceful: boolean): void {
    if (!session.open) return;
    if (session.codec === null) this.settleAsText(session, Date.now());
    // What this turn already sent to its rooms and to it goes out before the close.
    for (const room of session.rooms) this.stats.deliveries += room.flush();
    session.flushPersonal();
    this.retire(session, why);
    if (graceful) session.transport.end();
    else session.transport.destroy();
  }

  /** The transport closed (by either side): forget the session if that has not happened yet. */
  transportClosed(session: Session, why: CloseReason): void {
    if (session.state === SESSION_STATE.closed) return;
    if (session.open) this.retire(session, why);
    session.state = SESSION_STATE.closed;
    this.sessions.delete(session);
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
    const safe = neutralizeText(text);
    const serial = this.messageSerial();
    const id = this.messageIdOf(serial);
    this.broadcast(room, {
      type: "message",
      id,
      ts: now,
      room: room.name,
      from: this.settings.operatorNick,
      text: safe,
    });
    this.emitMessage(id, serial, now, room, this.settings.operatorNick, safe, false);
    return true;
  }

  /** The operator sends a direct message to a connected nick. */
  operatorDm(to: string, text: string, now: number = Date.now()): boolean {
    const target = this.nicks.get(to);
    if (target === undefined || target === null || !target.open || text === "") return false;
    const safe = neutralizeText(text);
    const serial = this.messageSerial();
    const id = this.messageIdOf(serial);
    const from = this.settings.operatorNick;
    target.sendFrame({ type: "dm", id, ts: now, from, to: target.nick, text: safe });
    this.stats.deliveries += 1;
    if (this.events.listenerCount("dm") > 0) {
      this.events.emit("dm", { id, ts: now, from, to: target.nick, text: safe });
    }
    return true;
  }

  /** Sends a notice to every session (used for shutdown and operator announcements). */
  noticeAll(frame: ServerFrame): void {
    for (const session of this.sessions) {
      // A peer still silent is a text client (spec 2): it reads the notice as a line.
      if (session.codec === null) this.settleAsText(session, Date.now());
      session.sendFrame(frame);
    }
  }

  /**
   * The hub's periodic chores (about once a second): liveness pings for structured sessions
   * (spec 7), line timeouts, stuck writers, error summaries and expired nick holds.
   */
  sweep(now: number = Date.now()): void {
    this.sweepPings(now);
    for (const session of [...this.midLine]) {
      const limit =
        session.linesIn === 0 ? this.settings.firstLineTimeoutMs : this.settings.lineTimeoutMs;
      if (now - session.partialSince > limit) {
        this.stats.lineTimeouts += 1;
        this.disconnect(
          session,
          "CHAT_ERR_LINE_TIMEOUT",
          `A line took more than ${Math.round(limit / 1000)} s to arrive, so the server closed the connection.`,
        );
      }
    }
    // Only sessions that had bytes left queued after a write can be stalled: an idle crowd of
    // thousands costs the sweep nothing.
    for (const session of this.backloggedSessions) {
      if (!session.open || session.transport.queuedBytes === 0) {
        session.stalledSince = 0;
        this.backloggedSessions.delete(session);
      } else if (session.stalledSince === 0) session.stalledSince = now;
      else if (now - session.stalledSince > this.settings.sendStallMs) {
        this.stats.stallCutoffs += 1;
        this.cutOff(
          session,
          `its writes made no progress for ${Math.round(this.settings.sendStallMs / 1000)} s (the client stopped reading)`,
        );
      }
    }
    this.errors.sweep(now);
    this.nicks.expire(now);
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

  /**
   * At the connection cap: closes the oldest open session that never completed a line and has
   * been connected at least `minAgeMs`, so that silent or dripping sockets cannot lock real
   * users out. Returns the evicted session, if any.
   */
  evictLineless(now: number, minAgeMs: number): Session | undefined {
    for (const session of this.lineless) {
      if (now - session.connectedAt < minAgeMs) return undefined;
      this.stats.evictions += 1;
      this.disconnect(session, "CHAT_ERR_EVICTED");
      return session;
    }
    return undefined;
  }

  /** Looks a session up by nick (case-insensitively) or by id. */
  find(target: string): Session | undefined {
    const byNick = this.nicks.get(target);
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
    for (const room of rooms) {
      this.stats.deliveries += room.flush();
      // A room kept for its last member's part to reach the other nodes of a cluster.
      if (room.members.size === 0 && room.crowdTimer === undefined && this.bus !== undefined) {
        if (this.rooms.get(room.key) === room) this.deleteRoom(room);
      }
    }
    const sessions = this.dirtySessions;
    this.dirtySessions = [];
    for (const session of sessions) session.flushPersonal();
    if (this.cutoffs.length > 0) {
      const slow = this.cutoffs;
      this.cutoffs = [];
      for (const session of slow) {
        this.cutOff(
          session,
          `send queue passed ${this.settings.sendQueueBytes} bytes (the client stopped reading)`,
        );
      }
    }
  }

  // SessionOwner

  wrote(_session: Session, bytes: number): void {
    this.stats.bytesOut += bytes;
  }

  backlogged(session: Session): void {
    this.backloggedSessions.add(session);
  }

  personalPending(session: Session): void {
    this.dirtySessions.push(session);
    this.scheduleFlush();
  }

  overLimit(session: Session): void {
    this.cutoffs.push(session);
    this.scheduleFlush();
  }

  // InputOwner

  lineAllowance(session: Session, now: number): number {
    if (session.overLimit) return 0;
    if (session.queuedBytes > this.replyPauseBytes) return 0;
    const tokens = refill(
      session.workTokens,
      session.workTokensAt,
      now,
      this.settings.requestRate,
      this.settings.requestBurst,
    );
    session.workTokens = tokens;
    session.workTokensAt = now;
    if (tokens < 1) return 0;
    return this.turnAllowance(session, Math.min(MAX_LINES_PER_SLICE, Math.floor(tokens)));
  }

  /**
   * What the turn lets a session be served of `allowance` lines. While the turn's time lasts:
   * a session read from its socket gets its first slice of the turn whole, as before; later
   * slices, and slices from an inbox, are short, so that the clock is read often (a slice of
   * `help` frames, each answered with ten lines, must not overrun the turn by tens of ms). Once
   * the time has run out, a session read from its socket still gets its fair share; any other
   * waits (paused, its input in its inbox, in order) for the next turn. However many
   * connections flood at once, a turn stays about `inputTurnMs` long (plus one slice) and the
   * chatters' lines are heard in it.
   */
  private turnAllowance(session: Session, allowance: number): number {
    if (!this.inputTurnArmed) {
      this.inputTurnArmed = true;
      this.inputTurn += 1;
      this.inputTurnStartedAt = performance.now();
      setImmediate(this.inputTurnEndBound);
    }
    // Its first slice of the turn, unless it is served from its inbox: a session that sent more
    // than it was served before only shares the turn's time, with the others waiting.
    const fresh = session.inputTurn !== this.inputTurn && !this.drainingPaused;
    session.inputTurn = this.inputTurn;
    if (performance.now() - this.inputTurnStartedAt < this.settings.inputTurnMs) {
      return fresh ? allowance : Math.min(allowance, TURN_SLICE_LINES);
    }
    if (fresh) return Math.min(allowance, TURN_FAIR_LINES);
    this.inputTurnDeferred = true;
    return 0;
  }

  /**
   * The end of a turn that read input (the check phase, after every socket's reads): the next
   * input counts against a new turn, and sessions the turn's time left waiting are served now,
   * ahead of the next reads, instead of at the next resume tick.
   */
  private readonly inputTurnEndBound = (): void => {
    this.inputTurnArmed = false;
    if (!this.inputTurnDeferred) return;
    this.inputTurnDeferred = false;
    this.resumePaused(Date.now());
    // What they said goes out in this turn (a flush armed now would wait for the next one).
    if (this.flushScheduled) this.flush();
  };

  /** Charges a session's work budget (may go below zero: a big reply is paid off over time). */
  chargeWork(session: Session, cost: number): void {
    session.workTokens -= cost;
  }

  midLineChanged(session: Session, midLine: boolean, now: number): void {
    if (midLine) {
      session.partialSince = now;
      this.midLine.add(session);
    } else {
      session.partialSince = 0;
      this.midLine.delete(session);
    }
  }

  paused(session: Session): void {
    if (this.pausedSessions.has(session)) return;
    this.pausedSessions.add(session);
    this.stats.readPauses += 1;
    session.transport.pause();
    if (this.resumeTimer === undefined) {
      this.resumeTimer = setInterval(this.resumeBound, RESUME_TICK_MS);
      this.resumeTimer.unref();
    }
  }

  private readonly resumeBound = (): void => this.resumePaused(Date.now());

  /** Serves paused sessions whose budget has refilled; resumes reading when their inbox is empty. */
  resumePaused(now: number): void {
    this.drainingPaused = true;
    try {
      this.drainPaused(now);
    } finally {
      this.drainingPaused = false;
    }
    if (this.pausedSessions.size === 0 && this.resumeTimer !== undefined) {
      clearInterval(this.resumeTimer);
      this.resumeTimer = undefined;
    }
  }

  private drainPaused(now: number): void {
    for (const session of [...this.pausedSessions]) {
      // The turn's time ran out: the sessions not reached yet come first in the next turn.
      if (this.inputTurnDeferred) break;
      if (!session.open) {
        this.pausedSessions.delete(session);
        continue;
      }
      if (!drainInbox(this, session, now)) {
        // Round robin: a session that was served this turn (or was not due) goes last.
        this.pausedSessions.delete(session);
        this.pausedSessions.add(session);
        continue;
      }
      this.pausedSessions.delete(session);
      if (session.endPending) this.receiveEnd(session, now);
      else session.transport.resume();
    }
  }

  handleDecoded(session: Session, line: DecodedLine, now: number): void {
    session.workTokens -= 1;
    session.linesIn += 1;
    if (session.linesIn === 1) this.lineless.delete(session);
    if (typeof line === "string") this.handleLine(session, line, now);
    else {
      this.stats.framingErrors += 1;
      if (session.codec === null) this.settleAsText(session, now);
      this.replyError(session, line);
    }
  }

  // Requests

  private handleLine(session: Session, line: string, now: number): void {
    let request: ClientFrame | ProtocolError | null;
    const firstLine = session.linesIn === 1;
    if (session.structured) {
      request = parseClientFrame(line);
    } else if (firstLine && line.charCodeAt(0) === 0x7b /* { */) {
      // A JSON hello as the first line settles structured mode, even when a silent start had
      // already been taken for text (a slow link's hello arrives after the settle delay).
      request = parseClientFrame(line);
      if (!(request instanceof ProtocolError) && request.type !== "hello") {
        request = new ProtocolError("CHAT_ERR_BAD_FRAME", {
          message: "The first JSON frame must be a hello.",
        });
      }
      if (request instanceof ProtocolError) this.settleAsText(session, now);
    } else {
      if (session.codec === null) this.settleAsText(session, now);
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

  /** Settles a session as a text client and gives it what it was sent meanwhile. */
  settleAsText(session: Session, now: number): void {
    if (session.codec !== null) return;
    session.settle(TEXT_CODEC);
    session.releaseHeld();
    void now;
  }

  /**
   * Settles a session as a structured client (its hello), with `messages` runs when it asked
   * for them (spec 4.6); held frames follow the welcome.
   */
  settleAsStructured(session: Session, compact: boolean): void {
    session.settle(JSON_CODEC, compact);
    this.structuredSessions.add(session);
  }

  /**
   * Announces a session's arrival in its rooms. Deferred from the greeting until its mode is
   * settled (its first line, or {@link HubSettings.modeSettleMs} of silence), so that a
   * structured client's hello (nick, room) is applied first: the room hears "alice joined",
   * not "guest-1f3a joined" and a nick change.
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

  private readonly settleSilentBound = (): void => {
    this.settleTimer = undefined;
    const sessions = this.unsettled;
    this.unsettled = [];
    const now = Date.now();
    const later: Session[] = [];
    for (const session of sessions) {
      if (!session.open) continue;
      if (session.codec === null && now - session.connectedAt < this.settings.modeSettleMs) {
        later.push(session);
        continue;
      }
      // A silent peer is a text client (nc users type nothing before they have read).
      this.settleAsText(session, now);
      this.announceArrival(session, now);
    }
    if (later.length > 0) {
      this.unsettled.push(...later);
      const wait = this.settings.modeSettleMs - (now - later[0]!.connectedAt);
      this.settleTimer = setTimeout(this.settleSilentBound, Math.max(1, wait));
      this.settleTimer.unref();
    }
  };

  private handleRequest(session: Session, request: ClientFrame, now: number): void {
    switch (request.type) {
      case "hello":
        return requests.hello(this, session, request, now);
      case "send":
        return requests.sendToRoom(this, session, request, now);
      case "dm":
        return requests.directMessage(this, session, request, now);
      case "join":
        return requests.joinRequest(this, session, request.room, request.ref, now);
      case "part":
        return requests.partRoom(this, session, request.room, request.ref, now);
      case "nick":
        return requests.changeNick(this, session, request.nick, request.ref, now);
      case "who":
        return requests.who(this, session, request.room, request.ref, now);
      case "rooms":
        return requests.rooms(this, session, request.ref, now);
      case "ping":
        session.sendFrame(
          request.ref === undefined ? { type: "pong" } : { type: "pong", ref: request.ref },
        );
        return;
      case "pong":
        if (request.ref === session.pingRef) session.pingRef = undefined;
        return;
      case "help":
        return requests.help(this, session, request.ref, now);
      case "history":
        return historyRequests.historyRequest(this, session, request, now);
      case "search":
        return historyRequests.searchRequest(this, session, request, now);
      case "register":
        return accountRequests.register(this, session, request, now);
      case "auth":
        return accountRequests.auth(this, session, request, now);
      case "kick":
        return accountRequests.kick(this, session, request, now);
      case "ban":
        return operatorRequests.ban(this, session, request, now);
      case "unban":
        return operatorRequests.unban(this, session, request, now);
      case "topic":
        return operatorRequests.topic(this, session, request, now);
      case "quit":
        return requests.quit(this, session, request.reason);
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
      const lookalikes = lookalikeKeys(name);
      const existing =
        this.roomsByLookalike.get(lookalikes[0]) ?? this.roomsByLookalike.get(lookalikes[1]);
      if (existing !== undefined) {
        this.replyError(
          session,
          new ProtocolError("CHAT_ERR_NAME_CONFUSABLE", {
            message: `Room name #${name} looks like the existing room #${existing.name}.`,
            hint: `Join #${existing.name}, or pick a name that reads differently.`,
          }),
          ref,
        );
        return undefined;
      }
      room = new Room(name, key, lookalikes[0], this.bus);
      this.rooms.set(key, room);
      this.bus?.roomOpened(key, name);
      for (const lookalike of lookalikes) this.roomsByLookalike.set(lookalike, room);
    }
    this.stats.deliveries += room.flush();
    room.add(session);
    this.bus?.memberChanged(room.key, session.nick, true);
    session.rooms = session.rooms.length === 0 ? room.alone : [...session.rooms, room];
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
    room.remove(session);
    this.bus?.memberChanged(room.key, session.nick, false);
    if (session.rooms.includes(room)) {
      const left = session.rooms.filter((other) => other !== room);
      // Replaced, never changed in place: a one-room list is shared by the room's members.
      session.rooms = left.length === 0 ? NO_ROOMS : left.length === 1 ? left[0]!.alone : left;
    }
    if (session.current === room) session.current = session.rooms[session.rooms.length - 1];
    if (room.members.size === 0 && room.pendingFrames === 0 && room.crowdTimer === undefined) {
      // In a cluster the room lives on on other nodes: they hear the part, in turn with this
      // turn's other batches, and the room goes once it is flushed (see flush).
      if (this.bus !== undefined && session.announced) {
        this.broadcast(room, {
          type: "part",
          ts: now,
          room: room.name,
          nick: session.nick,
          reason,
        });
        return;
      }
      this.deleteRoom(room);
      return;
    }
    if (!session.announced) return;
    this.announce(room, "part", session.nick, reason, now);
    if (this.events.listenerCount("part") > 0)
      this.events.emit("part", { room: room.name, nick: session.nick, reason });
  }

  private deleteRoom(room: Room): void {
    this.rooms.delete(room.key);
    this.bus?.roomClosed(room.key);
    for (const lookalike of lookalikeKeys(room.name)) {
      if (this.roomsByLookalike.get(lookalike) === room) this.roomsByLookalike.delete(lookalike);
    }
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
      this.deleteRoom(room);
    }
  }

  broadcast(room: Room, frame: ServerFrame): void {
    if (room.pendingFrames === 0) {
      this.dirtyRooms.push(room);
      this.scheduleFlush();
    }
    room.append(frame);
  }

  /**
   * Takes a session out of every room and registry, once, whatever ends it. Its codec is not
   * touched: rooms read members' codecs at flush, so leaving cannot change what others get.
   */
  private retire(session: Session, why: CloseReason): void {
    session.state = SESSION_STATE.closing;
    session.closeCode = why.code;
    session.closeReason = why.reason;
    this.openCount -= 1;
    this.lineless.delete(session);
    this.midLine.delete(session);
    this.pausedSessions.delete(session);
    this.backloggedSessions.delete(session);
    this.structuredSessions.delete(session);
    this.errors.forget(session);
    session.inbox = null;
    const now = Date.now();
    for (const room of [...session.rooms]) this.leaveRoom(session, room, why.reason, now);
    // A nick freed by a dropped connection (not by /quit) waits for its owner for a while.
    this.nicks.release(session, why.code !== undefined || !why.reason.startsWith("quit"), now);
  }

  private cutOff(session: Session, reason: string): void {
    if (!session.open) return;
    this.stats.sendQueueCutoffs += 1;
    const code: ChatErrorCode = "CHAT_ERR_SEND_QUEUE_FULL";
    // The reason goes after what is queued: it arrives only if the client reads again soon.
    const line = formatErrorLine(code, ERROR_CODES[code].message, ERROR_CODES[code].hint);
    this.retire(session, { code, reason });
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
        message: `You are sending faster than ${this.settings.messageRate} messages/s (burst ${this.settings.messageBurst}); this was not done. Retry in ${waitMs} ms.`,
      }),
      ref,
    );
  }

  /** Replies with an error, within the session's error-reply budget (spec 6.2). */
  replyError(session: Session, error: ChatError, ref?: string): void {
    this.errors.reply(session, error, ref, Date.now());
  }

  ack(session: Session, ref: string | undefined, now: number): void {
    if (ref !== undefined && session.structured) session.sendFrame({ type: "ack", ref, ts: now });
  }

  /**
   * A room message was said: tell the owner and queue it for history. `serial` is the number
   * `id` was made from (history keys messages by it; parsing it back from `id` cost a slice and a
   * parseInt per message), and the room gives its key without folding its name again.
   */
  emitMessage(
    id: string,
    serial: number,
    ts: number,
    room: Room,
    from: string,
    text: string,
    action: boolean,
  ): void {
    if (this.events.listenerCount("message") > 0)
      this.events.emit("message", { id, ts, room: room.name, from, text, action });
    this.history?.record({
      id: serial,
      ts,
      room: room.name,
      roomKey: room.key,
      from,
      text,
      action,
    });
  }

  /** The store failed (a read; writes report through the history writer): tell the owner. */
  storeFailed(what: string, error: unknown): void {
    if (this.events.listenerCount("store-error") > 0) this.events.emit("store-error", what, error);
  }

  /** Message ids continue after `lastId` (the store's last), so they stay unique across restarts. */
  continueMessageIdsAfter(lastId: number): void {
    if (lastId > this.nextMessage) this.nextMessage = lastId;
    this.ids?.continueAfter(lastId);
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
    let count = room.members.size;
    if (this.bus !== undefined) {
      count += this.bus.remoteCount(room.key);
      for (const nick of this.bus.remoteMembers(room.key)) {
        if (nicks.length >= limit) break;
        nicks.push(nick);
      }
    }
    const frame: PresenceFrame = { type: "presence", room: room.name, nicks, count };
    if (nicks.length < count) frame.truncated = true;
    return frame;
  }

  roomList(): Array<{ name: string; members: number }> {
    return [...this.rooms.values()].map((room) => ({
      name: room.name,
      members: room.members.size + (this.bus?.remoteCount(room.key) ?? 0),
    }));
  }

  messageId(): string {
    return this.messageIdOf(this.messageSerial());
  }

  /** The next message's serial: the number its id encodes in base 36, and history stores it by. */
  messageSerial(): number {
    // performance.now() is finer than a millisecond: ids of two nodes order by time within one.
    return this.ids === undefined
      ? ++this.nextMessage
      : this.ids.next(performance.timeOrigin + performance.now());
  }

  /** The wire id of a message serial: base 36 (spec 4.4). */
  messageIdOf(serial: number): string {
    return serial.toString(36);
  }

  /** A free random guest nick for a session. */
  guestNick(session: Session, now: number): string {
    for (;;) {
      const nick = `${GUEST_NICK_PREFIX}${Math.floor(Math.random() * 0xffffff)
        .toString(16)
        .padStart(6, "0")}`;
      if (this.nicks.conflict(session, nick, now) === null) return nick;
    }
  }

  /**
   * Output is written at the end of the turn (`setImmediate`, armed once per turn), so that what
   * every connection sent in the turn shares one write per member, unless {@link receive} finds
   * it small enough to write at once (see {@link HubSettings.flushAtOnceWrites}).
   */
  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    if (this.immediateArmed) return;
    this.immediateArmed = true;
    setImmediate(this.flushBound);
  }

  private readonly flushBound = (): void => {
    this.immediateArmed = false;
    if (this.flushScheduled) this.flush();
  };

  /**
   * Called when the peer's bytes have been handled (the end of the I/O callback): output that
   * takes few writes goes now, since there is little to batch it with and waiting for the end
   * of the turn would only add the other connections' reads to its latency.
   */
  private flushIfSmall(): void {
    const limit = this.settings.flushAtOnceWrites;
    if (this.flushScheduled && limit > 0 && this.pendingWrites(limit) <= limit) this.flush();
  }

  /** Writes the queued output would take, counted up to just past `limit`. */
  private pendingWrites(limit: number): number {
    let writes = this.dirtySessions.length + this.cutoffs.length;
    for (let i = 0; i < this.dirtyRooms.length && writes <= limit; i++) {
      writes += this.dirtyRooms[i]!.members.size;
    }
    return writes;
  }
}
