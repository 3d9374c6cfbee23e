import { spawn } from "node:child_process";
import { connect, type Socket } from "node:net";

// A listener that never accepts: a child process that listens with a backlog of 1 (Node reads 0
// as "the default") and then blocks its only thread, so it never calls accept(). Once the accept
// queue is full, Linux drops further SYNs, and a connect to it times out as behind a firewall.
// Loopback only; no python or root needed.
const NEVER_ACCEPTING_LISTENER = `
const server = require("node:net").createServer();
server.listen({ port: 0, host: "127.0.0.1", backlog: 1 }, () => {
  process.stdout.write(server.address().port + "\\n");
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
});
`;

/** Starts the never-accepting listener and fills its queue; returns its port and a cleanup. */
export async function startBlackhole(): Promise<{ port: number; close: () => Promise<void> }> {
  const child = spawn(process.execPath, ["-e", NEVER_ACCEPTING_LISTENER], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const exited = new Promise<void>((resolve) => child.on("close", () => resolve()));
  const port = await new Promise<number>((resolve, reject) => {
    child.once("error", reject);
    child.stdout.setEncoding("utf8").once("data", (text: string) => resolve(Number(text.trim())));
  });
  const fillers: Socket[] = [];
  const close = async () => {
    for (const socket of fillers) socket.destroy();
    child.kill("SIGKILL");
    await exited;
  };
  // Linux queues backlog + 1 = 2 connections: those must complete. Then connect until one
  // attempt hangs, which shows that the queue is full and SYNs are being dropped. (A busy
  // machine can only make an attempt look hung too early, after the queue is already full.)
  for (let attempt = 0; attempt < 8; attempt++) {
    const socket = connect({ host: "127.0.0.1", port });
    socket.on("error", () => {});
    fillers.push(socket);
    const connected = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), attempt < 2 ? 5000 : 400);
      socket.once("connect", () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
    if (!connected && attempt >= 2) return { port, close };
  }
  await close();
  throw new Error("the listener's queue never filled: cannot simulate dropped SYNs here");
}
