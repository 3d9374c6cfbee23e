import { connect, type Socket } from "node:net";

/** Options of {@link connectTcp}. */
export interface TcpConnectOptions {
  host: string;
  port: number;
  /** Gives up after this many ms without a connection (error code `ETIMEDOUT`). */
  timeoutMs: number;
  /** Local address to bind (loopback has many: 127.0.0.2 acts as another peer). */
  localAddress?: string;
  /**
   * Keep our side open when the peer half-closes (default false: Node then ends ours too). A
   * client that still has input to send to a peer that only listens needs it.
   */
  allowHalfOpen?: boolean;
}

/**
 * Opens a TCP connection, or fails with the system error (`ECONNREFUSED`, `ENOTFOUND`, ...).
 * Node's own `timeout` option is an idle timer, so the connect deadline is kept here.
 */
export function connectTcp(options: TcpConnectOptions): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({
      host: options.host,
      port: options.port,
      noDelay: true,
      keepAlive: true,
      allowHalfOpen: options.allowHalfOpen ?? false,
      ...(options.localAddress === undefined ? {} : { localAddress: options.localAddress }),
    });
    const timer = setTimeout(() => {
      const error = Object.assign(new Error(`connect ETIMEDOUT ${options.host}:${options.port}`), {
        code: "ETIMEDOUT",
        syscall: "connect",
      });
      socket.destroy();
      reject(error);
    }, options.timeoutMs);
    socket.once("connect", () => {
      clearTimeout(timer);
      socket.removeAllListeners("error");
      resolve(socket);
    });
    socket.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}
