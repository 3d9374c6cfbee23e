import { createReadStream, statSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { extname, join, resolve, sep } from "node:path";

/** Options of {@link HttpHandler}. */
export interface HttpHandlerOptions {
  /** Directory served at `/` (the browser app); without it `/` is a placeholder page. */
  staticDir: string | undefined;
  /** Largest request head (request line and headers), in bytes; past it: 431. */
  maxHeaderBytes: number;
  /** Time a request head may take to arrive, in ms; an idle keep-alive connection is closed sooner. */
  headersTimeoutMs: number;
  /** The body of `GET /metrics` (Prometheus text format). */
  metrics(): string;
  /** An upgrade request (WebSocket); returns false when nothing takes it (404). */
  upgrade(request: IncomingMessage, socket: Socket, head: Buffer): boolean;
}

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".woff2": "font/woff2",
  ".txt": "text/plain; charset=utf-8",
  ".map": "application/json",
};

const PLACEHOLDER = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>tcpchat</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><h1>tcpchat</h1>
<p>This port speaks chat: <code>nc HOST PORT</code>, <code>telnet HOST PORT</code>, or
<code>tcpchat connect HOST:PORT</code>. WebSocket clients connect to <code>/ws</code>.</p>
</body></html>
`;

/** The Prometheus text exposition format, version 0.0.4. */
const METRICS_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/**
 * The small HTTP side of the one port: `/healthz`, `/metrics`, static files at `/`, WebSocket
 * upgrades. A Node http.Server that never listens is fed the sockets the sniffer saw start
 * with a request line (their first bytes put back with `unshift`). Only GET and HEAD are
 * served and no request may carry a body, so a request costs at most its head.
 */
export class HttpHandler {
  private readonly server: Server;
  private readonly staticRoot: string | undefined;
  /**
   * Connections whose first request head has not arrived, with when they came (oldest first):
   * at the connection cap the oldest makes room, as a silent text client would.
   */
  private readonly awaitingHead = new Map<Socket, number>();

  constructor(private readonly options: HttpHandlerOptions) {
    this.staticRoot = options.staticDir === undefined ? undefined : resolve(options.staticDir);
    this.server = createServer(
      {
        maxHeaderSize: options.maxHeaderBytes,
        headersTimeout: options.headersTimeoutMs,
        requestTimeout: options.headersTimeoutMs,
        keepAliveTimeout: Math.min(5000, options.headersTimeoutMs),
        // How often Node looks for requests past their timeout (its default is 30 s).
        connectionsCheckingInterval: Math.max(50, Math.min(1000, options.headersTimeoutMs / 2)),
      },
      (request, response) => {
        this.awaitingHead.delete(request.socket);
        this.respond(request, response);
      },
    );
    this.server.on("upgrade", (request: IncomingMessage, socket: Socket, head: Buffer) => {
      this.awaitingHead.delete(socket);
      if (!this.options.upgrade(request, socket, head)) {
        socket.end("HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
      }
    });
    this.server.on("clientError", (error: Error & { code?: string }, socket: Socket) => {
      if (!socket.writable) {
        socket.destroy();
        return;
      }
      const status =
        error.code === "HPE_HEADER_OVERFLOW"
          ? "431 Request Header Fields Too Large"
          : error.code === "ERR_HTTP_REQUEST_TIMEOUT"
            ? "408 Request Timeout"
            : "400 Bad Request";
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    });
    // Node checks request timeouts only on a server that is listening: this one never does.
    this.server.emit("listening");
  }

  /** Serves a connection whose first bytes were put back on it. */
  handle(socket: Socket, now: number = Date.now()): void {
    this.awaitingHead.set(socket, now);
    socket.once("close", () => this.awaitingHead.delete(socket));
    this.server.emit("connection", socket);
    // The HTTP parser reads the socket's handle directly; what was put back flows as 'data'.
    socket.resume();
  }

  /** The oldest connection still waiting for its first request head, or undefined. */
  oldestAwaitingHead(): { socket: Socket; since: number } | undefined {
    for (const [socket, since] of this.awaitingHead) return { socket, since };
    return undefined;
  }

  /** Connections still waiting for their first request head. */
  get headsAwaited(): number {
    return this.awaitingHead.size;
  }

  /** Closes every HTTP connection (server shutdown). */
  close(): void {
    this.server.closeAllConnections();
    this.server.close(() => {});
  }

  private respond(request: IncomingMessage, response: ServerResponse): void {
    const method = request.method ?? "GET";
    if (method !== "GET" && method !== "HEAD") {
      send(response, 405, "text/plain; charset=utf-8", "method not allowed\n", {
        Allow: "GET, HEAD",
      });
      return;
    }
    if (
      request.headers["content-length"] !== undefined &&
      request.headers["content-length"] !== "0"
    ) {
      send(response, 413, "text/plain; charset=utf-8", "a request here carries no body\n", {
        Connection: "close",
      });
      return;
    }
    if (request.headers["transfer-encoding"] !== undefined) {
      send(response, 413, "text/plain; charset=utf-8", "a request here carries no body\n", {
        Connection: "close",
      });
      return;
    }
    const path = pathOf(request.url);
    if (path === "/healthz") {
      send(response, 200, "text/plain; charset=utf-8", "ok\n");
      return;
    }
    if (path === "/metrics") {
      send(response, 200, METRICS_TYPE, this.options.metrics());
      return;
    }
    if (this.staticRoot === undefined) {
      if (path === "/" || path === "/index.html")
        send(response, 200, CONTENT_TYPES[".html"]!, PLACEHOLDER);
      else send(response, 404, "text/plain; charset=utf-8", "not found\n");
      return;
    }
    this.serveFile(path, response);
  }

  private serveFile(path: string, response: ServerResponse): void {
    const root = this.staticRoot!;
    let decoded: string;
    try {
      decoded = decodeURIComponent(path);
    } catch {
      send(response, 400, "text/plain; charset=utf-8", "bad path\n");
      return;
    }
    const file = resolve(join(root, decoded.endsWith("/") ? `${decoded}index.html` : decoded));
    // Nothing outside the directory: `..` and encoded slashes resolve out of it and are refused.
    if (file !== root && !file.startsWith(root + sep)) {
      send(response, 404, "text/plain; charset=utf-8", "not found\n");
      return;
    }
    let size: number;
    try {
      const stat = statSync(file);
      if (!stat.isFile()) throw new Error("not a file");
      size = stat.size;
    } catch {
      send(response, 404, "text/plain; charset=utf-8", "not found\n");
      return;
    }
    response.writeHead(200, {
      "Content-Type": CONTENT_TYPES[extname(file).toLowerCase()] ?? "application/octet-stream",
      "Content-Length": size,
      "X-Content-Type-Options": "nosniff",
    });
    if (response.req.method === "HEAD") {
      response.end();
      return;
    }
    const stream = createReadStream(file);
    stream.on("error", () => response.destroy());
    stream.pipe(response);
  }
}

function send(
  response: ServerResponse,
  status: number,
  type: string,
  body: string,
  headers: Record<string, string> = {},
): void {
  const bytes = Buffer.from(body, "utf8");
  response.writeHead(status, {
    "Content-Type": type,
    "Content-Length": bytes.length,
    "X-Content-Type-Options": "nosniff",
    ...headers,
  });
  response.end(response.req.method === "HEAD" ? undefined : bytes);
}

function pathOf(url: string | undefined): string {
  if (url === undefined) return "/";
  const query = url.indexOf("?");
  return query === -1 ? url : url.slice(0, query);
}
