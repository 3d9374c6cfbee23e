import { connect, type Socket } from "node:net";
import { describe, expect, it } from "vitest";
import { startServer } from "./helpers.js";

/** Opens `count` raw sockets and resolves when each has read its greeting line. */
async function connectGreeted(port: number, count: number): Promise<Socket[]> {
  const sockets: Socket[] = [];
  const greeted: Array<Promise<void>> = [];
  for (let i = 0; i < count; i++) {
    const socket = connect({ port, host: "127.0.0.1" });
    sockets.push(socket);
    greeted.push(
      new Promise((resolve, reject) => {
        let seen = "";
        const onData = (chunk: Buffer) => {
          seen += chunk.toString("utf8");
          if (seen.includes("\n")) {
            socket.off("data", onData);
            if (seen.startsWith("*** tcpchat/1 ")) resolve();
            else reject(new Error(`unexpected first line: ${seen}`));
          }
        };
        socket.on("data", onData);
        socket.once("error", reject);
      }),
    );
  }
  await Promise.all(greeted);
  return sockets;
}

describe("many clients", () => {
  it("2,000 clients connect and each gets its greeting; big-room joins are summed up", async () => {
    await using s = await startServer({ announceRoomSize: 50, announceWindowMs: 200 });
    const sockets = await connectGreeted(s.port, 2000);
    try {
      expect(s.server.stats().connections).toBe(2000);
      // A join storm into one room is announced as summaries, not 2,000 x 2,000 lines.
      const watcher = sockets[0]!;
      const text = await new Promise<string>((resolve) => {
        let seen = "";
        watcher.on("data", (chunk: Buffer) => {
          seen += chunk.toString("utf8");
          if (/--> \d+ joined, \d+ left in the last 0s/.test(seen)) resolve(seen);
        });
      });
      expect(text).toMatch(/#lobby --> \d+ joined, 0 left/);
      expect(s.server.stats().deliveries).toBeLessThan(2000 * 60);
    } finally {
      for (const socket of sockets) socket.destroy();
    }
  });
});
