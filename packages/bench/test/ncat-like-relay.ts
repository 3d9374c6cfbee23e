import { type AddressInfo, createServer, type Socket } from "node:net";

/** A relay like `ncat --chat`, listening on 127.0.0.1. */
export interface NcatLikeRelay {
  port: number;
  /** Connections in the room now (let in and not gone). */
  inRoom(): number;
  close(): Promise<void>;
}

/**
 * Like `ncat --chat`: no greeting, each line goes at once to every other client in the room as
 * `<userN> line` with CRLF, never back to its sender. Like ncat on a busy machine, it lets a
 * connection into the room `acceptLagMs` after TCP has connected it; with `relay: false` it
 * keeps every line to itself (a server that is no chat room).
 */
export async function startNcatLikeRelay(
  options: { acceptLagMs?: number; relay?: boolean } = {},
): Promise<NcatLikeRelay> {
  const room = new Set<Socket>();
  const open = new Set<Socket>();
  let next = 0;
  const server = createServer((socket) => {
    const name = `<user${next++}> `;
    open.add(socket);
    let leaving = false;
    const letIn = () => {
      if (!leaving) room.add(socket);
    };
    if (options.acceptLagMs) setTimeout(letIn, options.acceptLagMs);
    else letIn();
    let partial = "";
    socket.setEncoding("utf8");
    socket.on("data", (text: string) => {
      const lines = (partial + text).split("\n");
      partial = lines.pop() ?? "";
      if (options.relay === false) return;
      for (const line of lines) {
        for (const other of room) if (other !== socket) other.write(`${name}${line}\r\n`);
      }
    });
    socket.on("error", () => {});
    // A client that half-closes is leaving (the connect scenario's): it no longer counts.
    const leave = () => {
      leaving = true;
      room.delete(socket);
    };
    socket.on("end", leave);
    socket.on("close", () => {
      leave();
      open.delete(socket);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    inRoom: () => room.size,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of open) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
