import { createServer, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { startBlackhole } from "./helpers/blackhole.js";
import { killAllCli, runCli } from "./helpers/cli-process.js";

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  await killAllCli();
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

/** A fake tcpchat server that welcomes one client and then resets the connection. */
async function startResettingServer(): Promise<number> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => {});
    socket.write(
      "*** tcpchat/1 tcpchat 0.1.0: welcome, you are guest-1 in #lobby. /help lists commands.\n",
    );
    socket.once("data", () => {
      const limits = {
        maxLineBytes: 16384,
        maxNameLength: 32,
        maxRoomsPerSession: 20,
        messageRate: 20,
        messageBurst: 40,
        sendQueueBytes: 1048576,
        pingIntervalMs: 30000,
        pingTimeoutMs: 10000,
      };
      socket.write(
        `${JSON.stringify({ type: "welcome", proto: 1, server: "tcpchat 0.1.0", session: "s1", nick: "guest-1", room: "lobby", limits })}\n`,
      );
      socket.once("data", () => socket.resetAndDestroy());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  cleanups.push(
    () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  );
  return (server.address() as { port: number }).port;
}

describe("connect exit codes", () => {
  it("4 when the connect times out (SYNs dropped)", async () => {
    const blackhole = await startBlackhole();
    cleanups.push(blackhole.close);
    const client = runCli(["connect", `127.0.0.1:${blackhole.port}`, "--timeout", "600"]);
    expect(await client.waitExit()).toBe(4);
    expect(client.stderr).toMatch(/CHAT_ERR_CONN_TIMEOUT/);
    expect(client.stderr).toMatch(/tcpchat doctor 127\.0\.0\.1:\d+/);
  });

  it("8 when the connection is lost after it was open", async () => {
    const port = await startResettingServer();
    const client = runCli(["connect", `127.0.0.1:${port}`]);
    await client.waitForStderr(/connected to/);
    client.write("this line makes the server reset\n");
    expect(await client.waitExit()).toBe(8);
    expect(client.stderr).toMatch(/CHAT_ERR_CONN_RESET/);
  });
});
