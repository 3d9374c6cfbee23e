import type { IncomingMessage } from "node:http";
import type { Socket } from "node:net";
import { type WebSocket, WebSocketServer } from "ws";
import type { Transport } from "../session/transport.js";

/** Options of {@link WebSocketGateway}. */
export interface WebSocketGatewayOptions {
  /** Path that upgrades (`/ws`); other paths are plain HTTP. */
  path: string;
  /** Largest message a client may send, in bytes (tied to the line limit). */
  maxPayloadBytes: number;
  /**
   * Origins (`https://chat.example.org`) whose pages may connect; a browser's upgrade from
   * another origin gets 403. Undefined: any origin. Requests without an Origin (programs, not
   * browsers) are always let through: the header only means something in a browser.
   */
  allowedOrigins: readonly string[] | undefined;
  /** Liveness: a WebSocket ping this often; no pong by the next one and the peer is dropped. */
  pingIntervalMs: number;
  /** A WebSocket is open: the server makes it a session. */
  onOpen(ws: WebSocket, socket: Socket, request: IncomingMessage): void;
  /**
   * The peer sent a close frame (or broke the framing): the session is over now, though `ws`
   * may keep the socket for up to 30 s waiting for a peer that no longer reads to finish the
   * closing handshake. Its `close` event follows later.
   */
  onPeerClosing(ws: WebSocket): void;
}

const ALIVE = Symbol("tcpchat.alive");
type TrackedWebSocket = WebSocket & { [ALIVE]?: boolean };
/** The WebSocket a socket carries, for the one shared close-frame watcher. */
const CARRIES = Symbol("tcpchat.websocket");
type CarrierSocket = Socket & { [CARRIES]?: WebSocket };

/**
 * The WebSocket binding (protocol spec, "One port"): upgrades HTTP requests with `ws`
 * (noServer, permessage-deflate off so frames can be pre-encoded and shared), checks the
 * Origin, and keeps peers alive with pings from one shared timer.
 */
export class WebSocketGateway {
  private readonly server: WebSocketServer;
  private readonly origins: Set<string> | undefined;
  private readonly pingTimer: NodeJS.Timeout;
  /**
   * Open WebSockets. Kept here rather than by `ws` (clientTracking), whose bookkeeping adds a
   * closure per client: these listeners are functions shared by every client.
   */
  private readonly clients = new Set<TrackedWebSocket>();
  private readonly forgetClient: (this: WebSocket) => void;
  private readonly checkPeerClose: (this: CarrierSocket) => void;

  constructor(private readonly options: WebSocketGatewayOptions) {
    this.server = new WebSocketServer({
      noServer: true,
      // Compression would make every member's bytes different: pre-encoded frames need it off.
      perMessageDeflate: false,
      maxPayload: options.maxPayloadBytes,
      clientTracking: false,
    });
    const clients = this.clients;
    this.forgetClient = function (this: WebSocket) {
      clients.delete(this);
    };
    const onPeerClosing = options.onPeerClosing;
    this.checkPeerClose = function (this: CarrierSocket) {
      const ws = this[CARRIES];
      if (ws !== undefined) peerCloseCheck(ws, this, onPeerClosing, checkPeerClose);
    };
    const checkPeerClose = this.checkPeerClose;
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
    this.server.handleUpgrade(request, socket, head, (ws) => {
      (ws as TrackedWebSocket)[ALIVE] = true;
      this.clients.add(ws);
      ws.on("close", this.forgetClient);
      ws.on("pong", markAlive);
      this.options.onOpen(ws, socket, request);
      if (ws.readyState === 1 /* OPEN */) {
        (socket as CarrierSocket)[CARRIES] = ws;
        socket.on("data", this.checkPeerClose);
      }
    });
  }

  /** Open WebSockets. */
  get size(): number {
    return this.clients.size;
  }

  /** Stops pinging and drops every WebSocket (server shutdown ends sessions first). */
  close(): void {
    clearInterval(this.pingTimer);
    for (const ws of [...this.clients]) ws.terminate();
  }

  private sweep(): void {
    for (const ws of this.clients) {
      if (ws[ALIVE] === false) {
        ws.terminate();
        continue;
      }
      ws[ALIVE] = false;
      ws.ping();
    }
  }
}

/**
 * Calls `onPeerClosing` once the peer's close frame has been read. `ws` has no event for it:
 * it answers the frame and then waits (up to its 30 s close timeout) for the peer's FIN before
 * it emits `close`, and a client that stops reading after its close frame would hold its nick
 * and rooms that long. `ws` reads frames synchronously in its own `data` listener, which was
 * added before the watcher, so after each chunk the state says whether a close frame was in it.
 * A close the server began itself (readyState CLOSING through `close()`) is the hub's doing
 * and already retires the session; a second retirement is a no-op.
 */
function peerCloseCheck(
  ws: WebSocket,
  socket: CarrierSocket,
  onPeerClosing: (ws: WebSocket) => void,
  watcher: (this: CarrierSocket) => void,
): void {
  if (ws.readyState === 2 /* CLOSING */ || ws.readyState === 3 /* CLOSED */) {
    socket.off("data", watcher);
    socket[CARRIES] = undefined;
    onPeerClosing(ws);
  }
}

function markAlive(this: TrackedWebSocket): void {
  this[ALIVE] = true;
}

function pathOf(url: string | undefined): string {
  if (url === undefined) return "/";
  const query = url.indexOf("?");
  return query === -1 ? url : url.slice(0, query);
}

/** Longest close reason RFC 6455 allows, in bytes. */
const MAX_CLOSE_REASON_BYTES = 123;

/**
 * A session's {@link Transport} over a WebSocket. Frames from the server are written to the
 * socket as they come: the WebSocket codec already made them whole, unmasked text frames (the
 * same bytes for every member of a room), so nothing is encoded per peer. Control frames (pong,
 * close) go through `ws`, whose writes are whole frames too, so the two never interleave.
 */
export class WebSocketTransport implements Transport {
  constructor(
    readonly ws: WebSocket,
    readonly socket: Socket,
    private readonly lingerMs: number,
  ) {}

  write(chunk: Buffer): void {
    if (!this.socket.writableEnded && this.ws.readyState === 1 /* OPEN */) this.socket.write(chunk);
  }

  get queuedBytes(): number {
    return this.socket.writableLength;
  }

  /**
   * Closes after what is queued. `last` (a text-mode error line from the hub) becomes the close
   * reason, which a browser shows as `CloseEvent.reason`.
   */
  end(last?: Buffer): void {
    if (this.ws.readyState === 1 /* OPEN */) {
      this.ws.close(last === undefined ? 1000 : 1008, last === undefined ? "" : closeReason(last));
    }
    const timer = setTimeout(() => this.ws.terminate(), this.lingerMs);
    timer.unref();
    this.ws.once("close", () => clearTimeout(timer));
  }

  destroy(): void {
    this.ws.terminate();
  }

  pause(): void {
    this.ws.pause();
  }

  resume(): void {
    if (!this.socket.destroyed) this.ws.resume();
  }
}

/** A close reason from a text line: its first line, cut to 123 bytes on a character boundary. */
function closeReason(line: Buffer): string {
  let text = line.toString("utf8").replace(/\r?\n[\s\S]*$/, "");
  while (Buffer.byteLength(text, "utf8") > MAX_CLOSE_REASON_BYTES) text = text.slice(0, -1);
  return text;
}

export type { WebSocket };
