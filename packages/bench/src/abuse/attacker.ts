import { connect, type Socket } from "node:net";
import type { AttackerSigns } from "./handling.js";
import { errorCodeOf, LineWatch } from "./line-watch.js";

/** Options of {@link openConnection}. */
export interface OpenOptions {
  host: string;
  port: number;
  /** Read what the server sends (true), or never read it (false: the socket is paused at once). */
  reads: boolean;
  /** The attack's start on `performance.now()`'s clock: signs are timed from it. */
  startMs: number;
}

/**
 * One connection of an attack (or of its helpers), with what it saw: lines heard, bytes it
 * wrote, and when the server closed it. Bounded: the bench destroys it when the attack ends.
 */
export class AttackerConnection {
  readonly watch = new LineWatch();
  readonly signs: AttackerSigns = {};
  /** Bytes handed to `socket.write`. */
  appBytes = 0;
  /** The server ended the stream (EOF seen). */
  ended = false;
  closed = false;
  #ourClose = false;

  constructor(
    readonly socket: Socket,
    readonly options: OpenOptions,
  ) {
    socket.on("error", () => this.#serverClosed());
    socket.on("close", () => {
      this.closed = true;
      this.#serverClosed();
    });
    socket.on("end", () => {
      this.ended = true;
      this.#serverClosed();
    });
    if (options.reads)
      socket.on("data", (chunk: Buffer) => this.watch.push(chunk, this.elapsedMs()));
    else socket.pause();
  }

  /** Local port (undefined until connected). */
  get localPort(): number | undefined {
    return this.socket.localPort;
  }

  /** Milliseconds since the attack began. */
  elapsedMs(): number {
    return performance.now() - this.options.startMs;
  }

  /** Records that the server closed or reset this connection (the first time counts). */
  noteServerClose(atMs = this.elapsedMs()): void {
    if (this.#ourClose || this.signs.closedAtMs !== undefined) return;
    this.signs.closedAtMs = Math.max(0, atMs);
  }

  #serverClosed(): void {
    this.noteServerClose();
    if (this.ended) this.signs.closeCode ??= errorCodeOf(this.watch.heard.lastLine);
  }

  /**
   * Writes `chunk` (or what it returns, each time) again and again, as fast as the socket takes it (waiting for 'drain' when
   * write() says the buffer is full), until `maxBytes` are written, `stopAtMs` passes or the
   * connection closes.
   */
  async flood(chunk: Buffer | (() => Buffer), maxBytes: number, stopAtMs: number): Promise<void> {
    while (this.appBytes < maxBytes && performance.now() < stopAtMs && !this.closed) {
      const next = typeof chunk === "function" ? chunk() : chunk;
      const ok = this.socket.write(next);
      this.appBytes += next.length;
      if (!ok) await this.#drained(stopAtMs);
      else await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  #drained(stopAtMs: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.socket.off("drain", done);
        this.socket.off("close", done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, stopAtMs - performance.now()));
      this.socket.once("drain", done);
      this.socket.once("close", done);
    });
  }

  /** Writes one line (or several) now. */
  send(text: string): void {
    if (this.closed) return;
    const bytes = Buffer.from(text);
    this.appBytes += bytes.length;
    this.socket.write(bytes);
  }

  /**
   * After the attack: a connection that did not read reads now what the server left for it, up
   * to `maxMs` or `maxBytes`, to find throttle lines and, if the stream ends, the last line.
   */
  async readLeftovers(maxMs: number, maxBytes: number): Promise<void> {
    if (this.options.reads || this.socket.destroyed) return;
    let read = 0;
    await new Promise<void>((resolve) => {
      const finish = () => {
        clearTimeout(timer);
        this.socket.off("data", onData);
        this.socket.off("close", finish);
        this.socket.off("end", finish);
        this.socket.pause();
        resolve();
      };
      const onData = (chunk: Buffer) => {
        this.watch.push(chunk, undefined);
        read += chunk.length;
        if (read >= maxBytes) finish();
      };
      const timer = setTimeout(finish, maxMs);
      this.socket.on("data", onData);
      this.socket.once("close", finish);
      this.socket.once("end", finish);
      this.socket.resume();
    });
    if (this.watch.heard.throttleLines > 0) this.signs.throttledLate = true;
  }

  /** Closes the connection from this side (not counted as the server's doing). */
  destroy(): void {
    if (this.signs.closedAtMs === undefined) this.#ourClose = true;
    this.socket.destroy();
  }
}

/** Opens a connection; resolves once TCP is connected (or rejects if it cannot be). */
export function openConnection(options: OpenOptions): Promise<AttackerConnection> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: options.host, port: options.port });
    const attacker = new AttackerConnection(socket, options);
    const onError = (err: Error) => reject(err);
    socket.once("error", onError);
    socket.once("connect", () => {
      socket.off("error", onError);
      socket.setNoDelay(true);
      resolve(attacker);
    });
  });
}

/** Waits until `predicate` holds, polling every `everyMs`, or until `timeoutMs` passes. */
export async function waitFor(
  predicate: () => boolean,
  timeoutMs: number,
  everyMs = 20,
): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (!predicate()) {
    if (performance.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
  return true;
}
