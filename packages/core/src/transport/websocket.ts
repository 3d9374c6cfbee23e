import type { IncomingMessage } from "node:http";
import type { Socket } from "node:net";
import {
  encodeCloseFrame,
  encodePongFrame,
  PING_FRAME,
  WebSocketFrameReader,
  type WebSocketFrameSink,
  type WsCloseCode,
} from "../framing/index.js";
import type { Session } from "../session/session.js";
import type { Transport } from "../session/transport.js";
import { answerUpgrade } from "./websocket-handshake.js";

/** Options of {@link WebSocketGateway}. */
export interface WebSocketGatewayOptions {
  /** Path that upgrades (`/ws`); other paths are plain HTTP. */
  path: string;
  /** Largest message a client may send, in bytes (tied to the line limit); longer: 1009. */
  maxPayloadBytes: number;
  /**
   * Origins (`https://chat.example.org`) whose pages may connect; a browser's upgrade from
   * another origin gets 403. Undefined: any origin. Requests without an Origin (programs, not
   * browsers) are always let through: the header only means something in a browser.
   */
  allowedOrigins: readonly string[] | undefined;
  /** Liveness: a WebSocket ping this often; no pong by the next one and the peer is dropped. */
  pingIntervalMs: number;
  /** How long a close the server began waits for the peer's close frame before dropping it. */
  lingerMs: number;
  /** A WebSocket is open: the server makes it a session. */
  onOpen(connection: WebSocketTransport): void;
  /** A whole message from the peer (text is valid UTF-8; at most `maxPayloadBytes`). */
  onMessage(connection: WebSocketTransport, payload: Buffer): void;
  /**
   * The session is over, once per connection: the peer sent a close frame, broke the framing,
   * or the socket closed. A peer that sends its close frame and then stops reading is retired
   * at once, not when its socket finally goes.
   */
  onClosed(connection: WebSocketTransport): void;
}

/** The connection a socket carries, for the listeners every socket shares. */
const CONNECTION = Symbol("tcpchat.websocket");
type CarrierSocket = Socket & { [CONNECTION]?: WebSocketTransport };

/**
 * The WebSocket binding (protocol spec, "One port"): answers upgrade requests itself (RFC 6455
 * section 4.2; permessage-deflate off so frames can be pre-encoded and shared), checks the
 * Origin, reads client frames with core's {@link WebSocketFrameReader}, and keeps peers alive
 * with pings from one shared timer.
 *
 * `ws` is not used on the server: its `handleUpgrade` builds a WebSocket, a Receiver (a
 * Writable stream) and a Sender for every connection, which made an idle WebSocket client cost
 * about twice the heap of a TCP one. Here a connection is its transport and a frame reader.
 */
export class WebSocketGateway {
  private readonly origins: Set<string> | undefined;
  private readonly pingTimer: NodeJS.Timeout;
  private readonly clients = new Set<WebSocketTransport>();

  constructor(readonly options: WebSocketGatewayOptions) {
    this.origins =
      options.allowedOrigins === undefined
        ? undefined
        : new Set(options.allowedOrigins.map((origin) => origin.toLowerCase()));
    this.pingTimer = setInterval(() => this.sweep(), options.pingIntervalMs);
    this.pingTimer.unref();
  }

  /** Whether a request asks to upgrade on this gateway's path. */
  wants(request: IncomingMessage): boolean {
    return pathOf(request.url) === this.options.path;
  }

  /** Completes (or refuses) an upgrade request. */
  upgrade(request: IncomingMessage, socket: Socket, head: Buffer): void {
    const origin = request.headers.origin;
    if (
      this.origins !== undefined &&
      origin !== undefined &&
      !this.origins.has(origin.toLowerCase())
    ) {
      socket.end("HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
      return;
    }
    const answer = answerUpgrade(request);
    if (!answer.accepted || !socket.writable) {
      socket.end(answer.response);
      return;
    }
    socket.setTimeout(0);
    socket.setNoDelay(true);
    socket.write(answer.response);
    const connection = new WebSocketTransport(socket, this);
    this.clients.add(connection);
    const carrier = socket as CarrierSocket;
    carrier[CONNECTION] = connection;
    socket.on("data", onSocketData);
    socket.on("end", onSocketEnd);
    socket.on("close", onSocketClose);
    socket.on("error", ignoreSocketError);
    this.options.onOpen(connection);
    // Bytes that came with the request head are the first frames.
    if (head.length > 0 && !socket.destroyed) connection.read(head);
    socket.resume();
  }

  /** Open WebSockets. */
  get size(): number {
    return this.clients.size;
  }

  /** Stops pinging and drops every WebSocket (server shutdown ends sessions first). */
  close(): void {
    clearInterval(this.pingTimer);
    for (const connection of [...this.clients]) connection.destroy();
  }

  /** A connection's socket closed. */
  forget(connection: WebSocketTransport): void {
    this.clients.delete(connection);
  }

  private sweep(): void {
    for (const connection of this.clients) connection.checkAlive();
  }
}

function onSocketData(this: CarrierSocket, chunk: Buffer): void {
  this[CONNECTION]?.read(chunk);
}

function onSocketEnd(this: CarrierSocket): void {
  // The peer sent FIN without (or after) a close frame: nothing more will come.
  this[CONNECTION]?.peerEnded();
}

function onSocketClose(this: CarrierSocket): void {
  const connection = this[CONNECTION];
  this[CONNECTION] = undefined;
  connection?.socketClosed();
}

function ignoreSocketError(): void {
  // Resets and broken pipes are normal for chat clients; 'close' follows and cleans up.
}

function pathOf(url: string | undefined): string {
  if (url === undefined) return "/";
  const query = url.indexOf("?");
  return query === -1 ? url : url.slice(0, query);
}

/**
 * A session's {@link Transport} over a WebSocket, and the sink of its frame reader. Frames from
 * the server are written to the socket as they come: the WebSocket codec already made them
 * whole, unmasked text frames (the same bytes for every member of a room), so nothing is encoded
 * per peer. Control frames are whole frames too, so the two never interleave.
 */
export class WebSocketTransport implements Transport, WebSocketFrameSink {
  /**
   * The session this connection carries, set by the server when it opens one. A declared field
   * rather than a symbol added later: the object keeps its shape and needs no property array.
   */
  session: Session | undefined = undefined;
  private readonly reader: WebSocketFrameReader;
  /** A pong (or any frame) came since the last ping. */
  private alive = true;
  /** The server sent its close frame: nothing else may follow it (RFC 6455 section 5.5.1). */
  private closeSent = false;
  /** `onClosed` was called. */
  private retired = false;
  /** Drops a peer that does not answer the server's close frame in time. */
  private lingerTimer: NodeJS.Timeout | undefined = undefined;

  constructor(
    readonly socket: Socket,
    private readonly gateway: WebSocketGateway,
  ) {
    this.reader = new WebSocketFrameReader(gateway.options.maxPayloadBytes);
  }

  /** Reads a chunk of the peer's frames. */
  read(chunk: Buffer): void {
    this.reader.push(chunk, this);
  }

  write(chunk: Buffer): void {
    if (!this.closeSent && !this.socket.writableEnded) this.socket.write(chunk);
  }

  get queuedBytes(): number {
    return this.socket.writableLength;
  }

  /**
   * Closes after what is queued. `last` (a text-mode error line from the hub) becomes the close
   * reason (1008), which a browser shows as `CloseEvent.reason`; without it the code is 1000.
   */
  end(last?: Buffer): void {
    if (last === undefined) this.sendClose(1000, "");
    else this.sendClose(1008, closeReason(last));
  }

  destroy(): void {
    this.socket.destroy();
  }

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    if (!this.socket.destroyed) this.socket.resume();
  }

  /** @internal A message from the reader. */
  onMessage(payload: Buffer): void {
    this.alive = true;
    if (!this.retired) this.gateway.options.onMessage(this, payload);
  }

  /** @internal A ping from the peer: answered with the same payload. */
  onPing(payload: Buffer): void {
    this.alive = true;
    if (!this.closeSent && !this.socket.writableEnded) this.socket.write(encodePongFrame(payload));
  }

  /** @internal A pong from the peer. */
  onPong(): void {
    this.alive = true;
  }

  /**
   * @internal The peer's close frame: echoed with its status code (none if it sent none) unless
   * the server's close went first, then the server closes TCP (section 7.1.1).
   */
  onClose(code: number): void {
    if (!this.closeSent) {
      this.closeSent = true;
      this.socket.write(encodeCloseFrame(code === 1005 ? undefined : code));
    }
    this.socket.end();
    this.armLinger();
    this.retire();
  }

  /** @internal The peer broke the protocol: the connection fails with `code` (section 7.1.7). */
  onFail(code: WsCloseCode, reason: string): void {
    this.sendClose(code, reason);
    this.socket.end();
    this.retire();
  }

  /** @internal The peer's FIN. */
  peerEnded(): void {
    this.socket.end();
    this.retire();
  }

  /** @internal The socket closed. */
  socketClosed(): void {
    if (this.lingerTimer !== undefined) clearTimeout(this.lingerTimer);
    this.lingerTimer = undefined;
    this.gateway.forget(this);
    this.retire();
  }

  /** @internal The ping sweep: drops a peer silent since the last one, pings the others. */
  checkAlive(): void {
    if (!this.alive) {
      this.socket.destroy();
      return;
    }
    this.alive = false;
    if (!this.closeSent && !this.socket.writableEnded) this.socket.write(PING_FRAME);
  }

  private sendClose(code: number, reason: string): void {
    if (this.closeSent || this.socket.destroyed) return;
    this.closeSent = true;
    if (!this.socket.writableEnded) this.socket.write(encodeCloseFrame(code, reason));
    this.armLinger();
  }

  /** A closing peer gets `lingerMs` to finish the handshake and take its bytes. */
  private armLinger(): void {
    if (this.lingerTimer !== undefined || this.socket.destroyed) return;
    const socket = this.socket;
    this.lingerTimer = setTimeout(() => socket.destroy(), this.gateway.options.lingerMs);
    this.lingerTimer.unref();
  }

  private retire(): void {
    if (this.retired) return;
    this.retired = true;
    this.gateway.options.onClosed(this);
  }
}

/** A close reason from a text line: its first line (the frame encoder cuts it to 123 bytes). */
function closeReason(line: Buffer): string {
  return line.toString("utf8").replace(/\r?\n[\s\S]*$/, "");
}
