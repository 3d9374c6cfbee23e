import type { Socket } from "node:net";
import { classifyFirstBytes, FIRST_BYTES, SNIFF_MAX_BYTES } from "./sniff.js";

/** Where a sniffed connection goes: what its first bytes said (silence is text). */
export type SniffedKind = "tls" | "http" | "json" | "text";

/** What the sniffer hands over when a connection's kind is known. */
export interface SniffResult {
  kind: SniffedKind;
  /** The bytes read while sniffing (null: none); the receiver feeds or unshifts them. */
  bytes: Buffer | null;
  /** The peer ended its side while being sniffed ('end' will not be emitted again). */
  ended: boolean;
}

const SNIFFER = Symbol("tcpchat.sniffer");
/** When sniffing started (0 once the kind is known); the deadline is this plus the timeout. */
const SNIFF_SINCE = Symbol("tcpchat.sniffSince");
const SNIFF_BYTES = Symbol("tcpchat.sniffBytes");
type SniffedSocket = Socket & {
  [SNIFFER]?: FirstBytesSniffer;
  [SNIFF_SINCE]?: number;
  [SNIFF_BYTES]?: Buffer | undefined;
};

/**
 * Reads the first bytes of connections to route them (protocol spec, "One port"). A peer that
 * stays silent is taken for a text client once `timeoutMs` has passed: nc users type nothing
 * before they have read the greeting.
 *
 * Idle memory per connection is a product figure, so nothing here is per connection but a few
 * fields on the socket: the handlers are shared (`this` is the socket) and one timer serves
 * every pending socket. Every socket waits the same time, so the order sockets start in is
 * their deadline order and the pending list is a plain queue. Once a kind is known the
 * sniffer's listeners are gone: it costs nothing after the first chunk.
 */
export class FirstBytesSniffer {
  private pending: SniffedSocket[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly timeoutMs: number,
    private readonly route: (socket: Socket, result: SniffResult) => void,
  ) {}

  /** Starts sniffing a socket (it should be flowing or about to be resumed). */
  watch(socket: Socket, now: number = Date.now()): void {
    const sniffed = socket as SniffedSocket;
    sniffed[SNIFFER] = this;
    sniffed[SNIFF_SINCE] = now;
    sniffed[SNIFF_BYTES] = undefined;
    socket.on("data", onSniffData);
    socket.on("end", onSniffEnd);
    this.pending.push(sniffed);
    if (this.timer === undefined) this.arm(now);
  }

  /** Sockets still waiting for their first bytes (including settled ones not yet swept). */
  get pendingCount(): number {
    return this.pending.length;
  }

  /** Stops the timer and destroys every socket still being sniffed (server shutdown). */
  destroyPending(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    const pending = this.pending;
    this.pending = [];
    for (const socket of pending) if (socket[SNIFF_SINCE] !== 0) socket.destroy();
  }

  /** Hands a socket over: its kind is known (or its time is up). */
  settle(socket: SniffedSocket, kind: SniffedKind, ended: boolean): void {
    const bytes = socket[SNIFF_BYTES] ?? null;
    socket[SNIFF_SINCE] = 0;
    socket[SNIFF_BYTES] = undefined;
    socket.off("data", onSniffData);
    socket.off("end", onSniffEnd);
    this.route(socket, { kind, bytes, ended });
  }

  private arm(now: number): void {
    const head = this.pending[0];
    if (head === undefined) return;
    const wait = Math.max(1, (head[SNIFF_SINCE] ?? now) + this.timeoutMs - now);
    this.timer = setTimeout(this.expireBound, wait);
    this.timer.unref();
  }

  private readonly expireBound = (): void => {
    this.timer = undefined;
    const now = Date.now();
    let done = 0;
    for (const socket of this.pending) {
      const since = socket[SNIFF_SINCE] ?? 0;
      if (since !== 0 && now - since < this.timeoutMs) break;
      done += 1;
      if (since === 0 || socket.destroyed) continue;
      // Silence (or the start of a method and nothing more) is a text client.
      this.settle(socket, FIRST_BYTES.text, false);
    }
    this.pending.splice(0, done);
    // Settled sockets leave the queue only at their deadline; skip them now so the timer is
    // armed for one that is still waiting.
    let skip = 0;
    while (skip < this.pending.length && (this.pending[skip]![SNIFF_SINCE] ?? 0) === 0) skip += 1;
    if (skip > 0) this.pending.splice(0, skip);
    this.arm(now);
  };
}

function onSniffData(this: SniffedSocket, chunk: Buffer): void {
  const sniffer = this[SNIFFER];
  if (sniffer === undefined || this[SNIFF_SINCE] === 0) return;
  const held = this[SNIFF_BYTES];
  const bytes = held === undefined ? chunk : Buffer.concat([held, chunk]);
  this[SNIFF_BYTES] = bytes;
  const kind = classifyFirstBytes(bytes);
  if (kind === FIRST_BYTES.needMore && bytes.length < SNIFF_MAX_BYTES) return;
  sniffer.settle(this, kind === FIRST_BYTES.needMore ? FIRST_BYTES.text : kind, false);
}

function onSniffEnd(this: SniffedSocket): void {
  const sniffer = this[SNIFFER];
  if (sniffer === undefined || this[SNIFF_SINCE] === 0) return;
  sniffer.settle(this, FIRST_BYTES.text, true);
}
