import { connect, type Socket } from "node:net";
import { connect as tlsConnect } from "node:tls";

/** TLS settings of a client connection. */
export interface TlsClientOptions {
  /** Certificates (PEM) to trust instead of the system's CAs: the server's own, or its CA. */
  ca?: string | Buffer;
  /** Skip the certificate check (tests and labs only: anyone in between can read the chat). */
  insecure?: boolean;
  /** The name to ask for (SNI) and check the certificate against (default: the host). */
  servername?: string;
}

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
  /** Speak TLS over the connection; it resolves once the handshake has succeeded. */
  tls?: TlsClientOptions;
}

/**
 * Opens a TCP connection, or fails with the system error (`ECONNREFUSED`, `ENOTFOUND`, ...).
 * With `tls` it resolves only after the TLS handshake, and fails with Node's TLS error
 * (`DEPTH_ZERO_SELF_SIGNED_CERT`, `CERT_HAS_EXPIRED`, `ERR_TLS_CERT_ALTNAME_INVALID`,
 * `ERR_SSL_WRONG_VERSION_NUMBER`, ...). Node's own `timeout` option is an idle timer, so the
 * connect deadline (which covers the handshake) is kept here.
 */
export function connectTcp(options: TcpConnectOptions): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socketOptions = {
      host: options.host,
      port: options.port,
      noDelay: true,
      keepAlive: true,
      allowHalfOpen: options.allowHalfOpen ?? false,
      ...(options.localAddress === undefined ? {} : { localAddress: options.localAddress }),
    };
    const tls = options.tls;
    const socket =
      tls === undefined
        ? connect(socketOptions)
        : tlsConnect({
            ...socketOptions,
            rejectUnauthorized: tls.insecure !== true,
            ...(tls.ca === undefined ? {} : { ca: tls.ca }),
            ...(tls.servername === undefined ? {} : { servername: tls.servername }),
          });
    const timer = setTimeout(() => {
      const error = Object.assign(new Error(`connect ETIMEDOUT ${options.host}:${options.port}`), {
        code: "ETIMEDOUT",
        syscall: "connect",
      });
      socket.destroy();
      reject(error);
    }, options.timeoutMs);
    socket.once(tls === undefined ? "connect" : "secureConnect", () => {
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
