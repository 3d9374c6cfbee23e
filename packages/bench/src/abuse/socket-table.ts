import { readFileSync } from "node:fs";

/** One row of /proc/net/tcp: a socket's ports, TCP state and kernel queues. */
export interface TcpSocketRow {
  localPort: number;
  remotePort: number;
  /** TCP state number (1 ESTABLISHED, 7 CLOSE, 8 CLOSE_WAIT, 10 LISTEN, ...). */
  state: number;
  /** Bytes written by the application that the peer has not acknowledged yet (sent or not). */
  txQueue: number;
  /** Bytes received that the application has not read yet. */
  rxQueue: number;
}

/** TCP states the bench looks for (include/net/tcp_states.h). */
export const TCP_STATES = {
  established: 1,
  finWait1: 4,
  close: 7,
  closeWait: 8,
  listen: 10,
} as const;

/**
 * Parses /proc/net/tcp or /proc/net/tcp6 text. Fields are hexadecimal: `local_address` and
 * `rem_address` end in `:PORT`, `st` is the state, `tx_queue:rx_queue` the two queues.
 */
export function parseProcNetTcp(text: string): TcpSocketRow[] {
  const rows: TcpSocketRow[] = [];
  for (const line of text.split("\n")) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 5 || !fields[0]!.endsWith(":") || fields[0] === "sl") continue;
    const local = fields[1]!;
    const remote = fields[2]!;
    const queues = fields[4]!.split(":");
    const localPort = Number.parseInt(local.slice(local.lastIndexOf(":") + 1), 16);
    const remotePort = Number.parseInt(remote.slice(remote.lastIndexOf(":") + 1), 16);
    const state = Number.parseInt(fields[3]!, 16);
    const txQueue = Number.parseInt(queues[0] ?? "", 16);
    const rxQueue = Number.parseInt(queues[1] ?? "", 16);
    if ([localPort, remotePort, state, txQueue, rxQueue].some((n) => !Number.isFinite(n))) continue;
    rows.push({ localPort, remotePort, state, txQueue, rxQueue });
  }
  return rows;
}

/**
 * The TCP sockets of this machine's network namespace (IPv4 and IPv6), or undefined off Linux.
 * Reading it costs about a millisecond per thousand sockets.
 */
export function readSocketTable(): TcpSocketRow[] | undefined {
  let text = "";
  let found = false;
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    try {
      text += readFileSync(file, "utf8");
      found = true;
    } catch {
      // tcp6 is absent on kernels without IPv6; tcp alone is enough for loopback IPv4.
    }
  }
  return found ? parseProcNetTcp(text) : undefined;
}

/** Both ends of loopback connections to one server port, by the client's port. */
export interface ConnectionQueues {
  /** The client's own socket, by its local port. */
  client: Map<number, TcpSocketRow>;
  /** The server's socket for that client, by the client's port. */
  server: Map<number, TcpSocketRow>;
}

/** Picks the rows of connections to `serverPort` out of a socket table. */
export function connectionsTo(rows: readonly TcpSocketRow[], serverPort: number): ConnectionQueues {
  const client = new Map<number, TcpSocketRow>();
  const server = new Map<number, TcpSocketRow>();
  for (const row of rows) {
    if (row.state === TCP_STATES.listen) continue;
    if (row.localPort === serverPort) server.set(row.remotePort, row);
    else if (row.remotePort === serverPort) client.set(row.localPort, row);
  }
  return { client, server };
}
