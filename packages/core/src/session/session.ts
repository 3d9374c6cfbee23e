import type { ChatErrorCode } from "../errors.js";
import { LineDecoder } from "../framing/line-decoder.js";
import { formatTextLine } from "../protocol/format-text.js";
import type { ServerFrame } from "../protocol/frames.js";
import type { Room } from "./room.js";
import type { Endpoint, Transport } from "./transport.js";

/** Session lifecycle (as const, not an enum). */
export const SESSION_STATE = {
  /** Greeted; the first line decides text or structured mode. */
  pending: "pending",
  text: "text",
  structured: "structured",
  /** Closing: nothing more is read or broadcast to it. */
  closing: "closing",
  closed: "closed",
} as const;
export type SessionState = (typeof SESSION_STATE)[keyof typeof SESSION_STATE];

/** What the hub needs to know when a session writes: bytes out and slow-consumer checks. */
export interface SessionOwner {
  wrote(session: Session, bytes: number): void;
  personalPending(session: Session): void;
}

/** Public snapshot of a session, for front ends and operators. */
export interface SessionInfo {
  id: string;
  nick: string;
  address: string;
  port: number;
  mode: "pending" | "text" | "structured";
  rooms: string[];
  connectedAt: number;
  queuedBytes: number;
}

/**
 * One connection's state. Kept small on purpose (idle memory per connection is a product
 * figure): no per-session closures or timers, buffers allocated only while in use.
 */
export class Session {
  state: SessionState = SESSION_STATE.pending;
  nick: string;
  nickKey: string;
  readonly rooms: Room[] = [];
  current: Room | undefined;
  readonly decoder: LineDecoder;
  /** Token bucket for the message rate (spec 7), as two numbers. */
  tokens: number;
  tokensAt: number;
  /** Last time a line arrived, and the outstanding server ping (structured mode liveness). */
  lastSeenAt: number;
  pingRef: string | undefined;
  pingSentAt = 0;
  private personal: Buffer[] | null = null;
  closeCode: ChatErrorCode | undefined;
  closeReason = "";
  /** Whether the rooms have heard this session arrive (deferred until its mode is known). */
  announced = false;
  /** The mode it spoke in, kept after it closes (state then says closed). */
  mode: "pending" | "text" | "structured" = "pending";

  constructor(
    readonly id: string,
    readonly transport: Transport,
    readonly peer: Endpoint,
    readonly connectedAt: number,
    private readonly owner: SessionOwner,
    init: { nick: string; nickKey: string; maxLineBytes: number; burst: number },
  ) {
    this.nick = init.nick;
    this.nickKey = init.nickKey;
    this.decoder = new LineDecoder({ maxLineBytes: init.maxLineBytes });
    this.tokens = init.burst;
    this.tokensAt = connectedAt;
    this.lastSeenAt = connectedAt;
  }

  get structured(): boolean {
    return this.state === SESSION_STATE.structured;
  }

  get open(): boolean {
    return this.state !== SESSION_STATE.closing && this.state !== SESSION_STATE.closed;
  }

  /** Queues a frame for this session alone, encoded for its mode; written at the turn's end. */
  sendFrame(frame: ServerFrame): void {
    if (!this.open) return;
    if (this.structured) {
      this.queuePersonal(Buffer.from(`${JSON.stringify(frame)}\n`, "utf8"));
    } else {
      const line = formatTextLine(frame);
      if (line !== null) this.queuePersonal(Buffer.from(`${line}\n`, "utf8"));
    }
  }

  /** Queues a text-mode line for this session alone (structured sessions get a notice frame). */
  sendLine(line: string): void {
    if (!this.open) return;
    if (this.structured) this.sendFrame({ type: "notice", text: line.replace(/^\*\*\* /, "") });
    else this.queuePersonal(Buffer.from(`${line}\n`, "utf8"));
  }

  queuePersonal(bytes: Buffer): void {
    if (this.personal === null) {
      this.personal = [bytes];
      this.owner.personalPending(this);
    } else {
      this.personal.push(bytes);
    }
  }

  /** Writes this turn's personal frames in one write. */
  flushPersonal(): void {
    const parts = this.personal;
    if (parts === null) return;
    this.personal = null;
    if (!this.open) return;
    this.writeNow(parts.length === 1 ? parts[0]! : Buffer.concat(parts));
  }

  /** Hands bytes to the transport now (called by flushes only). */
  writeNow(bytes: Buffer): void {
    if (!this.open) return;
    this.transport.write(bytes);
    this.owner.wrote(this, bytes.length);
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
    };
  }
}
