import { connect, type Socket } from "node:net";
import { connect as connectTls } from "node:tls";
import { TELNET_COMMAND, TELNET_OPTION, TelnetFilter } from "@tcpchat/core";
import { JSON_HELLO } from "../load/json-requests.js";
import {
  checkUpgradeResponse,
  encodeClientMessages,
  upgradeRequest,
  WS_OPCODES,
  WsFrameReader,
} from "../load/ws-frames.js";
import type { AttackerSigns } from "./handling.js";
import { errorCodeOf, LineWatch } from "./line-watch.js";

/**
 * What an attacker speaks: text lines over TCP (like `nc`), JSON lines over TCP, WebSocket
 * (JSON lines in frames, upgraded on `/ws`), text lines inside TLS, or telnet (option
 * negotiation first, then text lines ending in CR LF, the server's commands filtered out of
 * what it hears).
 */
export const ATTACKER_KINDS = {
  text: "text",
  json: "json",
  ws: "ws",
  tls: "tls",
  telnet: "telnet",
} as const;
/** One kind of attacker. */
export type AttackerKind = (typeof ATTACKER_KINDS)[keyof typeof ATTACKER_KINDS];
/** Every kind of client the server speaks, in the order the bench reports them. */
export const ATTACKER_KIND_LIST: readonly AttackerKind[] = Object.values(ATTACKER_KINDS);

/** Whether `kind` speaks the JSON-lines protocol (JSON over TCP, or over WebSocket). */
export function speaksJson(kind: AttackerKind | undefined): boolean {
  return kind === ATTACKER_KINDS.json || kind === ATTACKER_KINDS.ws;
}

/**
 * What a telnet client sends on connecting: it offers 8-bit input and window size and asks the
 * server to suppress go-ahead. The server's first sight of a command makes it a telnet session.
 */
const TELNET_OPENING = Buffer.from([
  TELNET_COMMAND.IAC,
  TELNET_COMMAND.DO,
  3, // SUPPRESS-GO-AHEAD
  TELNET_COMMAND.IAC,
  TELNET_COMMAND.WILL,
  31, // NAWS
  TELNET_COMMAND.IAC,
  TELNET_COMMAND.WILL,
  TELNET_OPTION.TRANSMIT_BINARY,
]);

/** Options of {@link openConnection}. */
export interface OpenOptions {
  host: string;
  port: number;
  /** Read what the server sends (true), or never read it (false: the socket is paused at once). */
  reads: boolean;
  /** The attack's start on `performance.now()`'s clock: signs are timed from it. */
  startMs: number;
  /** What the connection speaks (default text). */
  kind?: AttackerKind;
  /** With `tls`: the PEM certificate to trust. */
  tlsCa?: string;
  /**
   * The local address to connect from (default: the system's choice). Another loopback address
   * (127.0.0.2) makes the attackers a peer of their own, apart from the chatters on 127.0.0.1.
   */
  localAddress?: string;
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
  /** A WebSocket attacker: what it reads goes through the frame reader first. */
  #frames: WsFrameReader | undefined;
  /** A telnet attacker: the server's negotiation is taken out of what it reads. */
  #telnet: TelnetFilter | undefined;
  #chunkMs: number | undefined;

  constructor(
    readonly socket: Socket,
    readonly options: OpenOptions,
  ) {
    if (options.kind === ATTACKER_KINDS.ws) {
      this.#frames = new WsFrameReader({
        data: (buf, start, end) => this.watch.push(buf.subarray(start, end), this.#chunkMs),
        control: (opcode, payload) => {
          // A close frame's reason is the server's last word (the error line of a cut-off).
          if (opcode === WS_OPCODES.close && payload.length > 2) {
            this.watch.push(`${payload.subarray(2).toString("utf8")}\n`, this.#chunkMs);
          }
        },
        error: () => this.socket.destroy(),
      });
    }
    if (options.kind === ATTACKER_KINDS.telnet)
      this.#telnet = new TelnetFilter({ requestBinaryInput: false });
    socket.on("error", () => this.#serverClosed());
    socket.on("close", () => {
      this.closed = true;
      this.#serverClosed();
    });
    socket.on("end", () => {
      this.ended = true;
      this.#serverClosed();
    });
    if (options.reads) socket.on("data", (chunk: Buffer) => this.#heard(chunk, this.elapsedMs()));
    else socket.pause();
  }

  /** What the server sent: lines, or WebSocket frames holding lines. */
  #heard(chunk: Buffer, nowMs: number | undefined): void {
    if (this.#telnet !== undefined) {
      this.watch.push(this.#telnet.push(chunk).data, nowMs);
      return;
    }
    if (this.#frames === undefined) {
      this.watch.push(chunk, nowMs);
      return;
    }
    this.#chunkMs = nowMs;
    this.#frames.push(chunk);
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

  /**
   * Lines (each ending in LF) as this connection puts them on the wire: WebSocket messages of
   * whole lines (at most 8 KiB each, under the server's message limit), CR LF line ends for
   * telnet, the bytes as they are otherwise.
   */
  encode(text: string): Buffer {
    const kind = this.options.kind;
    if (kind === ATTACKER_KINDS.ws) return encodeClientMessages(Buffer.from(text));
    if (kind === ATTACKER_KINDS.telnet) return Buffer.from(text.replace(/\r?\n/g, "\r\n"));
    return Buffer.from(text);
  }

  /** Writes one line (or several) now, encoded for this connection's kind. */
  send(text: string): void {
    this.sendBytes(this.encode(text));
  }

  /** Writes bytes already encoded for this connection's kind. */
  sendBytes(bytes: Buffer): void {
    if (this.closed) return;
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
        this.#heard(chunk, undefined);
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

/**
 * Opens a connection; resolves once it is ready to attack (or rejects if it cannot be): TCP
 * connected; for JSON lines, `hello` sent; for TLS, the handshake done; for WebSocket, the
 * upgrade answered with 101 and `hello` sent.
 */
export function openConnection(options: OpenOptions): Promise<AttackerConnection> {
  const kind = options.kind ?? ATTACKER_KINDS.text;
  return new Promise((resolve, reject) => {
    const tcp = connect({
      host: options.host,
      port: options.port,
      localAddress: options.localAddress,
    });
    // TLS goes over a TCP socket of its own making, so that it leaves from `localAddress` too.
    const socket =
      kind === ATTACKER_KINDS.tls
        ? connectTls({ socket: tcp, host: options.host, ca: options.tlsCa })
        : tcp;
    const onError = (err: Error) => reject(err);
    socket.once("error", onError);
    // Under TLS the TCP socket's own errors (a refused connect) reach it first; later ones the
    // TLS socket reports too, so this listener only keeps them from being thrown.
    if (socket !== tcp) tcp.on("error", onError);
    const ready = (attacker: AttackerConnection) => {
      socket.off("error", onError);
      socket.setNoDelay(true);
      resolve(attacker);
    };
    if (kind === ATTACKER_KINDS.tls) {
      socket.once("secureConnect", () => ready(new AttackerConnection(socket, options)));
      return;
    }
    socket.once("connect", () => {
      if (kind === ATTACKER_KINDS.json) {
        const attacker = new AttackerConnection(socket, options);
        attacker.send(JSON_HELLO);
        ready(attacker);
      } else if (kind === ATTACKER_KINDS.ws) {
        upgrade(socket, options).then((attacker) => {
          attacker.send(JSON_HELLO);
          ready(attacker);
        }, reject);
      } else if (kind === ATTACKER_KINDS.telnet) {
        const attacker = new AttackerConnection(socket, options);
        attacker.sendBytes(TELNET_OPENING);
        ready(attacker);
      } else ready(new AttackerConnection(socket, options));
    });
  });
}

/** Upgrades a connected socket to WebSocket; the attacker takes the socket after the 101. */
function upgrade(socket: Socket, options: OpenOptions): Promise<AttackerConnection> {
  const { request, accept } = upgradeRequest(options.host, options.port, "/ws");
  return new Promise((resolve, reject) => {
    let head = "";
    const onData = (chunk: Buffer) => {
      head += chunk.toString("latin1");
      const end = head.indexOf("\r\n\r\n");
      if (end === -1) return;
      socket.off("data", onData);
      const problem = checkUpgradeResponse(head.slice(0, end + 2), accept);
      if (problem !== null) {
        socket.destroy();
        reject(new Error(problem));
        return;
      }
      const attacker = new AttackerConnection(socket, options);
      const rest = chunk.subarray(chunk.length - (head.length - (end + 4)));
      if (rest.length > 0) socket.unshift(rest);
      resolve(attacker);
    };
    socket.on("data", onData);
    socket.write(request);
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
