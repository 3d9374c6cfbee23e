import type { ChatErrorCode } from "../errors.js";
import { LineDecoder } from "../framing/line-decoder.js";
import type { ServerFrame } from "../protocol/frames.js";
import { type Codec, encodeBatch, TEXT_CODEC } from "./codec.js";
import { NO_ROOMS, type Room } from "./room.js";
import type { TelnetInput } from "./telnet-session.js";
import type { Endpoint, Transport } from "./transport.js";

/** Session lifecycle (as const, not an enum). The mode is the codec, not a state. */
export const SESSION_STATE = {
  open: "open",
  /** Closing: nothing more is read from it or broadcast to it. */
  closing: "closing",
  closed: "closed",
} as const;
export type SessionState = (typeof SESSION_STATE)[keyof typeof SESSION_STATE];

/** A session's mode, as front ends and logs show it. */
export type SessionMode = "pending" | "text" | "structured";

/** What the hub needs to know when a session queues or writes bytes. */
export interface SessionOwner {
  /** What its sessions are created with: one object per owner, not a field per session. */
  readonly sessionLimits: SessionLimits;
  wrote(session: Session, bytes: number): void;
  /** Bytes are left queued in the session's transport (the stall sweep watches it until drained). */
  backlogged(session: Session): void;
  personalPending(session: Session): void;
  /** The session's queue passed the send-queue limit: it is cut off at the end of the turn. */
  overLimit(session: Session): void;
}

/** Public snapshot of a session, for front ends and operators. */
export interface SessionInfo {
  id: string;
  nick: string;
  address: string;
  port: number;
  mode: SessionMode;
  rooms: string[];
  connectedAt: number;
  queuedBytes: number;
  /** The client name its hello gave (neutralized), if any. */
  client?: string;
}

/** Most frames a session holds before its mode is settled; past it, it is settled as text. */
const MAX_HELD_FRAMES = 256;

/** Limits every session of a hub shares: one object per hub, not numbers per session. */
export interface SessionLimits {
  maxLineBytes: number;
  burst: number;
  workBurst: number;
  nickBurst: number;
  errorBurst: number;
  sendQueueBytes: number;
}

/**
 * Longest a session's output waits for a join's history (see {@link Session.waitForHistory}),
 * in ms: a cluster's log that does not answer must not silence the session.
 */
const HISTORY_WAIT_MS = 2000;

/** Output held back while a join's history is read (see {@link Session.waitForHistory}). */
interface HistoryWait {
  /** Histories still on their way. */
  waits: number;
  /** Where the history goes among the held frames, if the mode is not settled yet. */
  mark: number;
  /** Bytes written meanwhile, in order, and their total. */
  bytes: Buffer[];
  size: number;
  timer: ReturnType<typeof setTimeout>;
}

/**
 * State most sessions never use (nick changes, error replies, pings, the close, accounts, a
 * stalled or half-closed peer): kept out of the session until first needed, so that an idle
 * connection does not pay a field (8 bytes) for each.
 */
class RareState {
  nickTokens: number;
  nickTokensAt: number;
  errorTokens: number;
  errorTokensAt: number;
  suppressedErrors = 0;
  suppressedSince = 0;
  suppressedCode = "";
  pingRef: string | undefined = undefined;
  pingSentAt = 0;
  closeCode: ChatErrorCode | undefined = undefined;
  closeReason = "";
  clientName: string | undefined = undefined;
  account: string | undefined = undefined;
  operator = false;
  authPending = false;
  historyWait: HistoryWait | null = null;
  endPending = false;
  stalledSince = 0;

  constructor(limits: SessionLimits, connectedAt: number) {
    // Full buckets as of the connect: what they would hold had they been kept from the start.
    this.nickTokens = limits.nickBurst;
    this.nickTokensAt = connectedAt;
    this.errorTokens = limits.errorBurst;
    this.errorTokensAt = connectedAt;
  }
}

/**
 * One connection's state. Kept small on purpose (idle memory per connection is a product
 * figure): no per-session closures or timers, buffers allocated only while in use.
 */
export class Session {
  state: SessionState = SESSION_STATE.open;
  /**
   * How frames are encoded for it: null until its mode is settled (by its first line, or as
   * text when it stays silent), then fixed. Rooms read it at every flush.
   */
  codec: Codec | null = null;
  /**
   * The codec its transport dictates (WebSocket), or null: every settle takes it, whatever
   * mode is asked, because such a peer can read nothing else.
   */
  wireCodec: Codec | null = null;
  nick: string;
  nickKey: string;
  /**
   * Replaced, never changed in place: most sessions are in one room, and their list is that
   * room's {@link Room.alone}, shared by its members.
   */
  rooms: readonly Room[] = NO_ROOMS;
  current: Room | undefined;
  /** Made on the first bytes (see {@link decoder}): a silent connection has none. */
  private lineDecoder: LineDecoder | null = null;
  /** Set on the first IAC byte from a text-mode peer (see telnet-session.ts). */
  telnet: TelnetInput | undefined;
  /** Token bucket for messages, joins and parts (spec 7), as two numbers. */
  tokens: number;
  tokensAt: number;
  /** Token bucket for work: every line costs from it; empty, the session is not read. */
  workTokens: number;
  workTokensAt: number;
  /** Last time a line arrived (structured mode liveness). */
  lastSeenAt: number;
  /** Lines completed so far (0: it may still be evicted at the connection cap). */
  linesIn = 0;
  /** The hub's input turn in which this session was last read (its fair share is once a turn). */
  inputTurn = 0;
  /** When the line being received started arriving (0: no partial line). */
  partialSince = 0;
  /** Input read but not processed yet (reading is paused while it is not null). */
  inbox: Buffer[] | null = null;
  /** Past the send-queue limit: nothing more is written, it is cut off at the end of the turn. */
  overLimit = false;
  private personal: Buffer[] | null = null;
  /** Bytes in `personal`, charged to the send queue as they are queued. */
  personalBytes = 0;
  /** Frames for it while its mode is not settled, in order. */
  private held: ServerFrame[] | null = null;
  /** Whether the rooms have heard this session arrive (deferred until its mode is known). */
  announced = false;
  /** Where it came from (see {@link peer}): two fields, not an object of their own. */
  readonly address: string;
  readonly port: number;
  /** See {@link RareState}; null until one of its fields is first written. */
  private rare: RareState | null = null;

  constructor(
    /** Serial number in its hub; the id (`s` + base 36) is derived from it when asked. */
    readonly serial: number,
    readonly transport: Transport,
    peer: Endpoint,
    readonly connectedAt: number,
    private readonly owner: SessionOwner,
  ) {
    const limits = owner.sessionLimits;
    this.nick = "";
    this.nickKey = "";
    this.address = peer.address;
    this.port = peer.port;
    this.tokens = limits.burst;
    this.workTokens = limits.workBurst;
    this.tokensAt = connectedAt;
    this.workTokensAt = connectedAt;
    this.lastSeenAt = connectedAt;
  }

  /** The session's id, unique in its hub (`s1`, `s2`, ... `sa`, in base 36). */
  get id(): string {
    return `s${this.serial.toString(36)}`;
  }

  private get limits(): SessionLimits {
    return this.owner.sessionLimits;
  }

  /** Where the session came from (a new object on each call). */
  get peer(): Endpoint {
    return { address: this.address, port: this.port };
  }

  /** Splits its input into lines; made when the first bytes arrive. */
  get decoder(): LineDecoder {
    if (this.lineDecoder === null) {
      this.lineDecoder = new LineDecoder({ maxLineBytes: this.limits.maxLineBytes });
    }
    return this.lineDecoder;
  }

  private get more(): RareState {
    if (this.rare === null) this.rare = new RareState(this.limits, this.connectedAt);
    return this.rare;
  }

  /** Token bucket for nick changes. */
  get nickTokens(): number {
    return this.rare === null ? this.limits.nickBurst : this.rare.nickTokens;
  }
  set nickTokens(value: number) {
    this.more.nickTokens = value;
  }
  get nickTokensAt(): number {
    return this.rare === null ? this.connectedAt : this.rare.nickTokensAt;
  }
  set nickTokensAt(value: number) {
    this.more.nickTokensAt = value;
  }
  /** Token bucket for error replies; errors past it are counted and summed up. */
  get errorTokens(): number {
    return this.rare === null ? this.limits.errorBurst : this.rare.errorTokens;
  }
  set errorTokens(value: number) {
    this.more.errorTokens = value;
  }
  get errorTokensAt(): number {
    return this.rare === null ? this.connectedAt : this.rare.errorTokensAt;
  }
  set errorTokensAt(value: number) {
    this.more.errorTokensAt = value;
  }
  /** Error replies not sent since the last summary, when the first was, and its code. */
  get suppressedErrors(): number {
    return this.rare === null ? 0 : this.rare.suppressedErrors;
  }
  set suppressedErrors(value: number) {
    this.more.suppressedErrors = value;
  }
  get suppressedSince(): number {
    return this.rare === null ? 0 : this.rare.suppressedSince;
  }
  set suppressedSince(value: number) {
    this.more.suppressedSince = value;
  }
  get suppressedCode(): string {
    return this.rare === null ? "" : this.rare.suppressedCode;
  }
  set suppressedCode(value: string) {
    this.more.suppressedCode = value;
  }
  /** The outstanding server ping (structured mode liveness), and when it was sent. */
  get pingRef(): string | undefined {
    return this.rare?.pingRef;
  }
  set pingRef(value: string | undefined) {
    this.more.pingRef = value;
  }
  get pingSentAt(): number {
    return this.rare === null ? 0 : this.rare.pingSentAt;
  }
  set pingSentAt(value: number) {
    this.more.pingSentAt = value;
  }
  /** Why it closed: the code, if an error ended it, and the reason in words. */
  get closeCode(): ChatErrorCode | undefined {
    return this.rare?.closeCode;
  }
  set closeCode(value: ChatErrorCode | undefined) {
    this.more.closeCode = value;
  }
  get closeReason(): string {
    return this.rare === null ? "" : this.rare.closeReason;
  }
  set closeReason(value: string) {
    this.more.closeReason = value;
  }
  /** The client name from its hello, neutralized and capped. */
  get clientName(): string | undefined {
    return this.rare?.clientName;
  }
  set clientName(value: string | undefined) {
    this.more.clientName = value;
  }

  /** The account it is logged in to (its key), if any. */
  get account(): string | undefined {
    return this.rare?.account;
  }
  set account(value: string | undefined) {
    if (value !== undefined || this.rare !== null) this.more.account = value;
  }
  /** Logged in to an operator account: may /kick from its client. */
  get operator(): boolean {
    return this.rare === null ? false : this.rare.operator;
  }
  set operator(value: boolean) {
    if (value || this.rare !== null) this.more.operator = value;
  }
  /** A password is being hashed or checked for it (one at a time). */
  get authPending(): boolean {
    return this.rare === null ? false : this.rare.authPending;
  }
  set authPending(value: boolean) {
    if (value || this.rare !== null) this.more.authPending = value;
  }
  /** The peer ended its side while input was still waiting in the inbox. */
  get endPending(): boolean {
    return this.rare === null ? false : this.rare.endPending;
  }
  set endPending(value: boolean) {
    if (value || this.rare !== null) this.more.endPending = value;
  }
  /** When the transport last had bytes queued after a sweep found it empty (0: drained). */
  get stalledSince(): number {
    return this.rare === null ? 0 : this.rare.stalledSince;
  }
  set stalledSince(value: number) {
    if (value !== 0 || this.rare !== null) this.more.stalledSince = value;
  }

  get structured(): boolean {
    return this.codec !== null && this.codec.mode === "structured";
  }

  get mode(): SessionMode {
    return this.codec === null ? "pending" : this.codec.mode;
  }

  get open(): boolean {
    return this.state === SESSION_STATE.open;
  }

  /** Bytes waiting for this peer: queued in this turn plus queued in the transport. */
  get queuedBytes(): number {
    return this.personalBytes + this.transport.queuedBytes;
  }

  /**
   * Settles the mode. Frames held meanwhile are released by {@link releaseHeld}, so that a
   * structured client reads its welcome before them.
   */
  settle(codec: Codec, compact = false): void {
    const binding = this.wireCodec ?? codec;
    this.codec = compact ? (binding.compact ?? binding) : binding;
  }

  /** Writes the frames held while the mode was unsettled, in order, before anything newer. */
  releaseHeld(): void {
    const held = this.held;
    if (held === null || this.codec === null) return;
    this.held = null;
    const wait = this.rare?.historyWait ?? null;
    if (wait !== null && wait.mark > 0) {
      // A join's history is awaited: what was held before it (the welcome, the topic) goes now,
      // the rest waits behind the history.
      const before = encodeBatch(this.codec, held.slice(0, wait.mark));
      const after = held.slice(wait.mark);
      wait.mark = 0;
      this.rare!.historyWait = null;
      this.flushPersonal();
      if (before !== null) this.writeNow(before);
      this.rare!.historyWait = wait;
      const rest = after.length > 0 ? encodeBatch(this.codec, after) : null;
      if (rest !== null) this.writeNow(rest);
      return;
    }
    const bytes = encodeBatch(this.codec, held);
    if (bytes === null) return;
    // Room batches of this turn are written before personal frames: write now, in order.
    this.flushPersonal();
    this.writeNow(bytes);
  }

  /** Keeps frames for a session whose mode is not settled yet. */
  hold(frames: readonly ServerFrame[]): void {
    if (this.held === null) this.held = [];
    for (const frame of frames) this.held.push(frame);
    if (this.held.length > MAX_HELD_FRAMES) {
      // A silent peer is a text client (spec 2): it gets what it missed, as text, now.
      this.settle(TEXT_CODEC);
      this.releaseHeld();
    }
  }

  /** Queues a frame for this session alone, encoded for its mode; written at the turn's end. */
  sendFrame(frame: ServerFrame): void {
    if (!this.open) return;
    if (this.codec === null) {
      this.hold([frame]);
      return;
    }
    const bytes = this.codec.encode(frame);
    if (bytes !== null) this.queuePersonal(bytes);
  }

  /**
   * Writes a frame now, after what is queued for it: for frames that must keep their place
   * between room batches (a nick change). `encoded` caches the bytes per codec across peers.
   */
  sendNow(frame: ServerFrame, encoded: Map<Codec, Buffer | null>): void {
    if (!this.open) return;
    if (this.codec === null) {
      this.hold([frame]);
      return;
    }
    let bytes = encoded.get(this.codec);
    if (bytes === undefined) {
      bytes = this.codec.encode(frame);
      encoded.set(this.codec, bytes);
    }
    this.flushPersonal();
    if (bytes !== null) this.writeNow(bytes);
  }

  /** Queues a text-mode line for this session alone (structured sessions get a notice frame). */
  sendLine(line: string): void {
    if (!this.open) return;
    if (this.codec === TEXT_CODEC) this.queuePersonal(Buffer.from(`${line}\n`, "utf8"));
    else this.sendFrame({ type: "notice", text: line.replace(/^\*\*\* /, "") });
  }

  /** Queues bytes for this session alone, charging them to its send queue at once. */
  queuePersonal(bytes: Buffer): void {
    if (this.overLimit) return;
    if (this.personal === null) {
      this.personal = [bytes];
      this.owner.personalPending(this);
    } else {
      this.personal.push(bytes);
    }
    this.personalBytes += bytes.length;
    if (this.queuedBytes > this.limits.sendQueueBytes) this.passLimit();
  }

  /** Writes this turn's personal frames in one write. */
  flushPersonal(): void {
    const parts = this.personal;
    if (parts === null) return;
    this.personal = null;
    this.personalBytes = 0;
    if (!this.open) return;
    this.writeNow(parts.length === 1 ? parts[0]! : Buffer.concat(parts));
  }

  /**
   * A join's history is on its way (from a cluster's log, or a store that answers later): until
   * {@link historyArrived}, what the session is written waits, so that it reads the history
   * before its join and the talk that followed, as it does when the store answers at once.
   */
  waitForHistory(): void {
    const more = this.more;
    if (more.historyWait === null) {
      // What the join queued for it alone (the topic) goes before the history, as it does when
      // the store answers at once.
      if (this.codec !== null) this.flushPersonal();
      const timer = setTimeout(() => this.stopWaitingForHistory(), HISTORY_WAIT_MS);
      timer.unref();
      more.historyWait = { waits: 0, mark: this.held?.length ?? 0, bytes: [], size: 0, timer };
    }
    more.historyWait.waits++;
  }

  /** The history waited for: written before everything that waited behind it. */
  historyArrived(frames: readonly ServerFrame[]): void {
    const wait = this.rare?.historyWait ?? null;
    if (wait === null) {
      // Past the wait's deadline: it goes out as history does when the store answers at once.
      for (const frame of frames) this.sendFrame(frame);
      if (this.codec !== null) this.flushPersonal();
      return;
    }
    if (this.codec === null) {
      // Not settled: it takes its place among the held frames, before those held since.
      if (frames.length > 0) {
        this.held ??= [];
        this.held.splice(wait.mark, 0, ...frames);
        wait.mark += frames.length;
      }
    } else if (this.open && !this.overLimit) {
      const bytes = encodeBatch(this.codec, frames);
      if (bytes !== null) this.deliver(bytes);
    }
    if (--wait.waits === 0) this.stopWaitingForHistory();
  }

  private stopWaitingForHistory(): void {
    const wait = this.rare?.historyWait ?? null;
    if (wait === null) return;
    this.rare!.historyWait = null;
    clearTimeout(wait.timer);
    for (const bytes of wait.bytes) this.writeNow(bytes);
  }

  /** Hands bytes to the transport now (called by flushes only). */
  writeNow(bytes: Buffer): void {
    if (!this.open || this.overLimit) return;
    const wait = this.rare?.historyWait ?? null;
    if (wait !== null) {
      wait.bytes.push(bytes);
      wait.size += bytes.length;
      // Bounded like a send queue: past it the order gives way, not the memory.
      if (wait.size > this.limits.sendQueueBytes) this.stopWaitingForHistory();
      return;
    }
    this.deliver(bytes);
  }

  private deliver(bytes: Buffer): void {
    this.transport.write(bytes);
    this.owner.wrote(this, bytes.length);
    const queued = this.transport.queuedBytes;
    if (queued > 0) {
      this.owner.backlogged(this);
      if (queued > this.limits.sendQueueBytes) this.passLimit();
    }
  }

  private passLimit(): void {
    // Stop serving it within this turn: what is queued stays, nothing more is added.
    this.overLimit = true;
    this.personal = null;
    this.personalBytes = 0;
    this.owner.overLimit(this);
  }

  info(): SessionInfo {
    return {
      id: this.id,
      nick: this.nick,
      address: this.address,
      port: this.port,
      mode: this.mode,
      rooms: this.rooms.map((room) => room.name),
      connectedAt: this.connectedAt,
      queuedBytes: this.transport.queuedBytes,
      ...(this.clientName === undefined ? {} : { client: this.clientName }),
    };
  }
}
