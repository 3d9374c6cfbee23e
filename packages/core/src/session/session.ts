import type { ChatErrorCode } from "../errors.js";
import { LineDecoder } from "../framing/line-decoder.js";
import type { ServerFrame } from "../protocol/frames.js";
import { type Codec, encodeBatch, TEXT_CODEC } from "./codec.js";
import type { Room } from "./room.js";
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
  wrote(session: Session, bytes: number): void;
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
  readonly rooms: Room[] = [];
  current: Room | undefined;
  readonly decoder: LineDecoder;
  /** Set on the first IAC byte from a text-mode peer (see telnet-session.ts). */
  telnet: TelnetInput | undefined;
  /** Token bucket for messages, joins and parts (spec 7), as two numbers. */
  tokens: number;
  tokensAt: number;
  /** Token bucket for work: every line costs from it; empty, the session is not read. */
  workTokens: number;
  workTokensAt: number;
  /** Token bucket for nick changes. */
  nickTokens: number;
  nickTokensAt: number;
  /** Token bucket for error replies; errors past it are counted and summed up. */
  errorTokens: number;
  errorTokensAt: number;
  /** Error replies not sent since the last summary, when the first was, and its code. */
  suppressedErrors = 0;
  suppressedSince = 0;
  suppressedCode = "";
  /** Last time a line arrived, and the outstanding server ping (structured mode liveness). */
  lastSeenAt: number;
  pingRef: string | undefined;
  pingSentAt = 0;
  /** Lines completed so far (0: it may still be evicted at the connection cap). */
  linesIn = 0;
  /** When the line being received started arriving (0: no partial line). */
  partialSince = 0;
  /** When the transport last had bytes queued after a sweep found it empty (0: drained). */
  stalledSince = 0;
  /** Input read but not processed yet (reading is paused while it is not null). */
  inbox: Buffer[] | null = null;
  /** The peer ended its side while input was still waiting in the inbox. */
  endPending = false;
  /** Past the send-queue limit: nothing more is written, it is cut off at the end of the turn. */
  overLimit = false;
  private personal: Buffer[] | null = null;
  /** Bytes in `personal`, charged to the send queue as they are queued. */
  personalBytes = 0;
  /** Frames for it while its mode is not settled, in order. */
  private held: ServerFrame[] | null = null;
  closeCode: ChatErrorCode | undefined;
  closeReason = "";
  /** Whether the rooms have heard this session arrive (deferred until its mode is known). */
  announced = false;
  /** The account it is logged in to (its key), if any. */
  account: string | undefined;
  /** Logged in to an operator account: may /kick from its client. */
  operator = false;
  /** A password is being hashed or checked for it (one at a time). */
  authPending = false;
  /** The client name from its hello, neutralized and capped. */
  clientName: string | undefined;

  constructor(
    readonly id: string,
    readonly transport: Transport,
    readonly peer: Endpoint,
    readonly connectedAt: number,
    private readonly owner: SessionOwner,
    init: {
      nick: string;
      nickKey: string;
      maxLineBytes: number;
      burst: number;
      workBurst: number;
      nickBurst: number;
      errorBurst: number;
      sendQueueBytes: number;
    },
  ) {
    this.nick = init.nick;
    this.nickKey = init.nickKey;
    this.decoder = new LineDecoder({ maxLineBytes: init.maxLineBytes });
    this.tokens = init.burst;
    this.workTokens = init.workBurst;
    this.nickTokens = init.nickBurst;
    this.errorTokens = init.errorBurst;
    this.tokensAt = connectedAt;
    this.workTokensAt = connectedAt;
    this.nickTokensAt = connectedAt;
    this.errorTokensAt = connectedAt;
    this.lastSeenAt = connectedAt;
    this.sendQueueBytes = init.sendQueueBytes;
  }

  private readonly sendQueueBytes: number;

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
  settle(codec: Codec): void {
    this.codec = this.wireCodec ?? codec;
  }

  /** Writes the frames held while the mode was unsettled, in order, before anything newer. */
  releaseHeld(): void {
    const held = this.held;
    if (held === null || this.codec === null) return;
    this.held = null;
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
    if (this.queuedBytes > this.sendQueueBytes) this.passLimit();
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

  /** Hands bytes to the transport now (called by flushes only). */
  writeNow(bytes: Buffer): void {
    if (!this.open || this.overLimit) return;
    this.transport.write(bytes);
    this.owner.wrote(this, bytes.length);
    if (this.transport.queuedBytes > this.sendQueueBytes) this.passLimit();
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
      address: this.peer.address,
      port: this.peer.port,
      mode: this.mode,
      rooms: this.rooms.map((room) => room.name),
      connectedAt: this.connectedAt,
      queuedBytes: this.transport.queuedBytes,
      ...(this.clientName === undefined ? {} : { client: this.clientName }),
    };
  }
}
