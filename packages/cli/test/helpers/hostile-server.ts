import { createServer, type Server, type Socket } from "node:net";

/** The limits a tcpchat server advertises by default. */
export const LIMITS = {
  maxLineBytes: 16384,
  maxNameLength: 32,
  maxRoomsPerSession: 20,
  messageRate: 20,
  messageBurst: 40,
  sendQueueBytes: 1048576,
  pingIntervalMs: 30000,
  pingTimeoutMs: 10000,
};

/** A welcome frame as a line; `limits: null` leaves them out. */
export function welcomeLine(limits: object | null = LIMITS): string {
  const welcome = {
    type: "welcome",
    proto: 1,
    server: "evil 6.6.6",
    session: "s1",
    nick: "mallory",
    room: "lobby",
    ...(limits === null ? {} : { limits }),
  };
  return `${JSON.stringify(welcome)}\n`;
}

/** A room message frame as a line. */
export function messageLine(text: string): string {
  return `${JSON.stringify({ type: "message", id: "m", ts: 1, room: "lobby", from: "eve", text })}\n`;
}

/**
 * A server that greets like tcpchat, waits for the hello, then runs `script` on the socket. It
 * acks every request that has a ref, so a client's sends complete; `acked` counts them.
 */
export async function startHostileServer(script: (socket: Socket) => void): Promise<{
  port: number;
  acked: () => number;
  close: () => Promise<void>;
}> {
  const sockets = new Set<Socket>();
  let acked = 0;
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
    socket.write(
      "*** tcpchat/1 evil 6.6.6: welcome, you are mallory in #lobby. /help lists commands.\n",
    );
    let helloSeen = false;
    socket.on("data", (chunk: Buffer) => {
      for (const [, ref] of chunk.toString("utf8").matchAll(/"ref":"([^"]+)"/g)) {
        acked += 1;
        socket.write(`${JSON.stringify({ type: "ack", ref, id: `a${acked}`, ts: 1 })}\n`);
      }
      if (!helloSeen) {
        helloSeen = true;
        script(socket);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as { port: number }).port,
    acked: () => acked,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/**
 * Sends `chunk` over and over, as fast as the socket takes it, up to `limitBytes`: a server
 * that floods. `sent()` is what the socket accepted so far, `blocked()` whether it is waiting
 * for the peer to read.
 */
export function flood(socket: Socket, chunk: Buffer, limitBytes: number) {
  let sent = 0;
  let blocked = false;
  const pump = () => {
    blocked = false;
    while (sent < limitBytes && !socket.destroyed) {
      sent += chunk.length;
      if (!socket.write(chunk)) {
        blocked = true;
        socket.once("drain", pump);
        return;
      }
    }
  };
  pump();
  return { sent: () => sent, blocked: () => blocked };
}
