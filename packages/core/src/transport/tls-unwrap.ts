import type { Socket } from "node:net";
import { createSecureContext, createServer, type Server, type TLSSocket } from "node:tls";
import { ChatError } from "../errors.js";

/** A certificate chain and its private key, PEM (strings or buffers). */
export interface TlsCredentials {
  cert: string | Buffer;
  key: string | Buffer;
}

/** Options of {@link TlsUnwrapper}. */
export interface TlsUnwrapperOptions {
  credentials: TlsCredentials;
  /** A handshake not done by then is dropped, in ms. */
  handshakeTimeoutMs: number;
  /** A connection finished its handshake: what is inside is sniffed again. */
  onSecure: (socket: TLSSocket) => void;
  /** A handshake failed (wrong protocol, a client that distrusts the certificate, a timeout). */
  onClientError?: (error: Error) => void;
}

/**
 * Unwraps TLS for connections the sniffer saw start with a ClientHello. A tls.Server that never
 * listens is fed the raw sockets (their first bytes put back with `unshift`); Node's TLSSocket
 * reads what is buffered on the raw socket before it reads from the kernel.
 */
export class TlsUnwrapper {
  private readonly server: Server;
  /**
   * Raw sockets in the middle of a handshake, with when it began (oldest first): not sessions
   * yet, but a shutdown must end them, and at the connection cap the oldest makes room.
   */
  private readonly handshaking = new Map<Socket, number>();

  constructor(options: TlsUnwrapperOptions) {
    const context = secureContextOptions(options.credentials);
    this.server = createServer({ ...context, handshakeTimeout: options.handshakeTimeoutMs });
    this.server.on("secureConnection", (socket: TLSSocket) => {
      this.handshaking.delete(rawSocketOf(socket));
      options.onSecure(socket);
    });
    this.server.on("tlsClientError", (error: Error, socket: TLSSocket) => {
      socket.destroy();
      options.onClientError?.(error);
    });
  }

  /** Starts the TLS handshake on a raw socket whose first bytes were put back. */
  unwrap(socket: Socket, now: number = Date.now()): void {
    this.handshaking.set(socket, now);
    socket.once("close", () => this.handshaking.delete(socket));
    this.server.emit("connection", socket);
  }

  /** Connections still in their handshake. */
  get handshakes(): number {
    return this.handshaking.size;
  }

  /** Drops every connection still in its handshake (server shutdown). */
  destroyHandshaking(): void {
    for (const socket of this.handshaking.keys()) socket.destroy();
    this.handshaking.clear();
  }

  /** The oldest connection still in its handshake and when it began, or undefined. */
  oldestHandshake(): { socket: Socket; since: number } | undefined {
    for (const [socket, since] of this.handshaking) return { socket, since };
    return undefined;
  }

  /**
   * Swaps the certificate for connections that start from now on; open connections keep theirs
   * and are not dropped. Throws CHAT_ERR_TLS_CREDENTIALS (and keeps the old one) if the new
   * pair does not load.
   */
  setCredentials(credentials: TlsCredentials): void {
    this.server.setSecureContext(secureContextOptions(credentials));
  }
}

/** Checks that a certificate and key load and belong together; returns them as options. */
export function secureContextOptions(credentials: TlsCredentials): TlsCredentials {
  try {
    createSecureContext({ cert: credentials.cert, key: credentials.key });
  } catch (error) {
    throw new ChatError("CHAT_ERR_TLS_CREDENTIALS", {
      message: `The TLS certificate or key could not be loaded: ${(error as Error).message}.`,
      cause: error,
    });
  }
  return { cert: credentials.cert, key: credentials.key };
}

/**
 * The raw socket under a server-side TLSSocket. Node keeps it as `_parent` (not documented, but
 * stable since Node 0.11); without it, the TLS socket itself stands for the connection.
 */
export function rawSocketOf(socket: TLSSocket): Socket {
  return (socket as TLSSocket & { _parent?: Socket })._parent ?? socket;
}

export type { TLSSocket as TlsSocket };
