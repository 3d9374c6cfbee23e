import { createServer, type Server, type Socket } from "node:net";

/** Options of {@link createTcpListener}. */
export interface TcpListenerOptions {
  /** TCP keepalive initial delay in ms (keepalive is always on). */
  keepAliveMs: number;
}

/**
 * A TCP listener for the chat server. Nagle is off (the server already coalesces each turn's
 * writes into one per socket, so delaying them only adds latency); keepalive is on for every
 * socket, so dead peers of text clients (which have no ping) are found; half-open is allowed
 * so that a client's FIN still lets the server flush its replies.
 */
export function createTcpListener(
  options: TcpListenerOptions,
  onConnection: (socket: Socket) => void,
): Server {
  return createServer(
    {
      allowHalfOpen: true,
      noDelay: true,
      keepAlive: true,
      keepAliveInitialDelay: options.keepAliveMs,
    },
    onConnection,
  );
}

export type { Server as TcpServer, Socket as TcpSocket };
