import type { Socket } from "node:net";
import { classifyFirstBytes, FIRST_BYTES, SNIFF_MAX_BYTES } from "./sniff.js";

/** Where a sniffed connection goes: what its first bytes said (silence is text). */
export type SniffedKind = "tls" | "http" | "json" | "text";

/** What the sniffer hands over when a connection's kind is known. */
export interface SniffResult<Context> {
  kind: SniffedKind;
  /** The bytes read while sniffing (null: none); the receiver feeds or unshifts them. */
  bytes: Buffer | null;
  /** The peer ended its side while being sniffed ('end' will not be emitted again). */
  ended: boolean;
  /** Nothing (or not enough to decide) arrived by the deadline: taken for text by silence. */
  silent: boolean;
  /** What the caller gave {@link FirstBytesSniffer.watch} for this socket. */
  context: Context;
}

/** A socket being sniffed. Lives only until its deadline: nothing is left on the socket. */
interface Pending<Context> {
  socket: Socket;
  /** When sniffing started; 0 once the kind is known. */
  since: number;
  bytes: Buffer | undefined;
  context: Context;
}

/**
 * Reads the first bytes of connections to route them (protocol spec, "One port"). A peer that
 * stays silent is taken for a text client once `timeoutMs` has passed: nc users type nothing
 * before they have read the greeting.
 *
 * Idle memory per connection is a product figure, so nothing is added to a socket: its state
 * waits in a small record that is dropped by its deadline, the two listeners are shared by
 * every socket (`this` is the socket), and one timer serves every pending socket. All wait the
 * same time, so the order sockets start in is their deadline order and the pending list is a
 * plain queue. Once a kind is known the listeners are gone: it costs nothing after the first
 * chunk.
 */
export class FirstBytesSniffer<Context> {
  private pending: Array<Pending<Context>> = [];
  private readonly bySocket = new Map<Socket, Pending<Context>>();
  private timer: NodeJS.Timeout | undefined;
  private readonly onData: (this: Socket, chunk: Buffer) => void;
  private readonly onEnd: (this: Socket) => void;

  constructor(
    private readonly timeoutMs: number,
    private readonly route: (socket: Socket, result: SniffResult<Context>) => void,
  ) {
    const sniffer = this;
    this.onData = function onSniffData(this: Socket, chunk: Buffer): void {
      sniffer.data(this, chunk);
    };
    this.onEnd = function onSniffEnd(this: Socket): void {
      const entry = sniffer.bySocket.get(this);
      if (entry !== undefined) sniffer.settle(entry, FIRST_BYTES.text, true, false);
    };
  }

  /** Starts sniffing a socket (it should be flowing or about to be resumed). */
  watch(socket: Socket, context: Context, now: number = Date.now()): void {
    const entry: Pending<Context> = { socket, since: now, bytes: undefined, context };
    this.bySocket.set(socket, entry);
    socket.on("data", this.onData);
    socket.on("end", this.onEnd);
    this.pending.push(entry);
    if (this.timer === undefined) this.arm(now);
  }

  /** Sockets whose kind is not known yet. */
  get waiting(): number {
    return this.bySocket.size;
  }

  /** Stops the timer and destroys every socket still being sniffed (server shutdown). */
  destroyPending(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.pending = [];
    const sockets = [...this.bySocket.keys()];
    this.bySocket.clear();
    for (const socket of sockets) socket.destroy();
  }

  private data(socket: Socket, chunk: Buffer): void {
    const entry = this.bySocket.get(socket);
    if (entry === undefined) return;
    const bytes = entry.bytes === undefined ? chunk : Buffer.concat([entry.bytes, chunk]);
    entry.bytes = bytes;
    const kind = classifyFirstBytes(bytes);
    if (kind === FIRST_BYTES.needMore && bytes.length < SNIFF_MAX_BYTES) return;
    this.settle(entry, kind === FIRST_BYTES.needMore ? FIRST_BYTES.text : kind, false, false);
  }

  /** Hands a socket over: its kind is known (or its time is up). */
  private settle(
    entry: Pending<Context>,
    kind: SniffedKind,
    ended: boolean,
    silent: boolean,
  ): void {
    const { socket, context } = entry;
    const bytes = entry.bytes ?? null;
    entry.since = 0;
    entry.bytes = undefined;
    this.bySocket.delete(socket);
    socket.off("data", this.onData);
    socket.off("end", this.onEnd);
    this.route(socket, { kind, bytes, ended, silent, context });
  }

  private arm(now: number): void {
    const head = this.pending[0];
    if (head === undefined) return;
    const wait = Math.max(1, head.since + this.timeoutMs - now);
    this.timer = setTimeout(this.timerBound, wait);
    this.timer.unref();
  }

  /**
   * Timers run before the loop polls for I/O: on a busy server, first bytes that reached the
   * kernel before the deadline would not have been read yet. Deadlines are judged after this
   * turn's poll instead (setImmediate), so bytes already there still count.
   */
  private readonly timerBound = (): void => {
    setImmediate(this.expireBound);
  };

  private readonly expireBound = (): void => {
    this.timer = undefined;
    const now = Date.now();
    let done = 0;
    for (const entry of this.pending) {
      // Settled entries (since 0) leave the queue as soon as they reach its head.
      if (entry.since !== 0 && now - entry.since < this.timeoutMs) break;
      done += 1;
      if (entry.since === 0) continue;
      if (entry.socket.destroyed) {
        this.bySocket.delete(entry.socket);
        continue;
      }
      // Silence (or the start of a method and nothing more) is a text client.
      this.settle(entry, FIRST_BYTES.text, false, true);
    }
    while (done < this.pending.length && this.pending[done]!.since === 0) done += 1;
    this.pending.splice(0, done);
    this.arm(now);
  };
}
