import { createServer, type Server, type Socket } from "node:net";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runBenchJson, useBuiltBench } from "./bench-process.js";

const tempDir = useBuiltBench("tcpchat-connect-window-");

/** How long the slow greeter keeps each connection waiting for its greeting. */
const GREETING_DELAY_MS = 150;
const CLIENTS = 24;
const WINDOW = 4;

/**
 * A server that greets each connection only after a while, and counts how many connections
 * were waiting for their greeting at once: what a window of connects bounds.
 */
async function startSlowGreeter(): Promise<{ server: Server; port: number; most: () => number }> {
  let waiting = 0;
  let most = 0;
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => {});
    socket.on("close", () => sockets.delete(socket));
    waiting++;
    most = Math.max(most, waiting);
    setTimeout(() => {
      waiting--;
      socket.write("*** slow greeter\n");
    }, GREETING_DELAY_MS);
  });
  server.on("close", () => {
    for (const socket of sockets) socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  return { server, port: address.port, most: () => most };
}

describe("--connect-window", () => {
  it.each(["js", "native"])(
    "keeps at most that many clients connecting at once, and all of them get in (%s generator)",
    async (generator) => {
      for (const window of [WINDOW, 0]) {
        const greeter = await startSlowGreeter();
        try {
          const json = join(tempDir(), `window-${generator}-${window}.json`);
          const run = await runBenchJson(json, [
            ...["--target", `127.0.0.1:${greeter.port}`, "--greeting", "*** slow greeter"],
            ...["--scenario", "connect", "--clients", String(CLIENTS), "--workers", "2"],
            ...["--generator", generator, "--connect-window", String(window)],
          ]);
          const connect = run.results.scenarios.connect?.target;
          expect(connect?.ready).toBe(CLIENTS);
          if (window > 0) expect(greeter.most()).toBeLessThanOrEqual(WINDOW);
          // The control: without a window every client connects at once.
          else expect(greeter.most()).toBeGreaterThan(WINDOW);
        } finally {
          await new Promise((resolve) => greeter.server.close(resolve));
        }
      }
    },
  );
});
