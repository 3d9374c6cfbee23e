import { spawn } from "node:child_process";
import { connect, type Socket } from "node:net";

// A listener that never accepts, with a backlog of 0: once its accept queue is full, Linux
// drops further SYNs, so a connect to it times out, as behind a firewall. Loopback only.
const PYTHON_LISTENER = `
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.bind(("127.0.0.1", 0))
s.listen(0)
print(s.getsockname()[1], flush=True)
sys.stdin.read()
`;

/** Starts the never-accepting listener and fills its queue; returns its port and a cleanup. */
export async function startBlackhole(): Promise<{ port: number; close: () => Promise<void> }> {
  const child = spawn("python3", ["-c", PYTHON_LISTENER], { stdio: ["pipe", "pipe", "inherit"] });
  const exited = new Promise<void>((resolve) => child.on("close", () => resolve()));
  const port = await new Promise<number>((resolve, reject) => {
    child.once("error", reject);
    child.stdout.setEncoding("utf8").once("data", (text: string) => resolve(Number(text.trim())));
  });
  const fillers: Socket[] = [];
  const close = async () => {
    for (const socket of fillers) socket.destroy();
    child.stdin.end();
    await exited;
  };
  // Connect until one attempt hangs: that proves the queue is full and SYNs are dropped.
  for (let attempt = 0; attempt < 8; attempt++) {
    const socket = connect({ host: "127.0.0.1", port });
    socket.on("error", () => {});
    fillers.push(socket);
    const connected = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 400);
      socket.once("connect", () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
    if (!connected) return { port, close };
  }
  await close();
  throw new Error("the listener's queue never filled: cannot simulate dropped SYNs here");
}
