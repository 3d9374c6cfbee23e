import { createServer, type Server, type Socket } from "node:net";

/** Counters of the naive relay, for the report. */
export interface NaiveRelayStats {
  connections: number;
  messagesIn: number;
  deliveries: number;
}

/** A running naive relay. */
export interface NaiveRelay {
  readonly server: Server;
  listen(port: number, host: string): Promise<{ address: string; port: number }>;
  close(): Promise<void>;
  stats(): NaiveRelayStats;
}

interface Member {
  socket: Socket;
  nick: string;
  room: string;
}

/** Options of {@link createNaiveRelay}. */
export interface NaiveRelayOptions {
  /**
   * Coalesce per event-loop turn: a room's lines of one turn are joined, encoded once and the
   * same Buffer is written to every member at `setImmediate` (one write per socket per turn).
   * This is the least a relay built for throughput does, and what tcpchat's broadcast is
   * measured against; without it, one `socket.write` per message per receiver.
   */
  coalesce?: boolean;
}

/**
 * The baseline the bench compares tcpchat with: the chat server most tutorials end with. It
 * speaks the subset of the text protocol the scenarios use (the `*** tcpchat/1` greeting, room
 * broadcast as `#room <nick> text` to every member including the sender, and `/join ROOM` to
 * move to another room) and does what a first version does: one `socket.write` per message per
 * receiver, no batching, no send-queue limit, no rate limit, no join announcements.
 */
export function createNaiveRelay(options: NaiveRelayOptions = {}): NaiveRelay {
  const rooms = new Map<string, Set<Member>>();
  const stats: NaiveRelayStats = { connections: 0, messagesIn: 0, deliveries: 0 };
  let nextGuest = 1;
  /** Coalescing: each room's lines of this turn, and the rooms that have some. */
  const pending = new Map<string, string>();
  let flushScheduled = false;

  function flush(): void {
    flushScheduled = false;
    for (const [room, text] of pending) {
      const bytes = Buffer.from(text, "utf8");
      for (const other of rooms.get(room) ?? []) other.socket.write(bytes);
    }
    pending.clear();
  }

  function enter(member: Member, room: string): void {
    // What the old room was sent this turn goes to the members it had when it was sent.
    if (pending.size > 0) flush();
    rooms.get(member.room)?.delete(member);
    member.room = room;
    let members = rooms.get(room);
    if (!members) {
      members = new Set();
      rooms.set(room, members);
    }
    members.add(member);
  }

  function handleLine(member: Member, line: string): void {
    if (line === "") return;
    if (line.startsWith("/join ")) {
      enter(member, line.slice(6).trim().replace(/^#/, ""));
      return;
    }
    stats.messagesIn++;
    const out = `#${member.room} <${member.nick}> ${line}\n`;
    if (options.coalesce) {
      // Members are counted when the line is queued: a room's members at the time it was sent.
      stats.deliveries += rooms.get(member.room)?.size ?? 0;
      pending.set(member.room, (pending.get(member.room) ?? "") + out);
      if (!flushScheduled) {
        flushScheduled = true;
        setImmediate(flush);
      }
      return;
    }
    for (const other of rooms.get(member.room) ?? []) {
      other.socket.write(out);
      stats.deliveries++;
    }
  }

  const server = createServer((socket) => {
    const member: Member = { socket, nick: `guest-${nextGuest++}`, room: "" };
    stats.connections++;
    enter(member, "lobby");
    socket.setNoDelay(true);
    socket.setEncoding("utf8");
    socket.write(`*** tcpchat/1 naive-relay: welcome, you are ${member.nick} in #lobby.\n`);
    let partial = "";
    socket.on("data", (text: string) => {
      const lines = (partial + text).split("\n");
      partial = lines.pop() ?? "";
      for (const line of lines) handleLine(member, line.replace(/\r$/, ""));
    });
    socket.on("error", () => {});
    socket.on("close", () => {
      stats.connections--;
      rooms.get(member.room)?.delete(member);
    });
  });

  return {
    server,
    listen(port, host) {
      return new Promise((resolve, reject) => {
        server.once("error", reject);
        // Same backlog as tcpchat's default, so that the connect scenario compares the servers
        // and not the kernel's accept queue.
        server.listen({ port, host, backlog: 4096 }, () => {
          server.off("error", reject);
          const address = server.address();
          if (address === null || typeof address === "string") {
            reject(new Error("naive relay has no TCP address"));
            return;
          }
          resolve({ address: address.address, port: address.port });
        });
      });
    },
    close() {
      return new Promise((resolve) => {
        for (const members of rooms.values()) for (const m of members) m.socket.destroy();
        server.close(() => resolve());
      });
    },
    stats: () => ({ ...stats }),
  };
}
