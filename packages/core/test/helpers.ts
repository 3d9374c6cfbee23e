import { connect, type Socket } from "node:net";
import { type ChatServer, type ChatServerOptions, createServer } from "../src/index.js";

/** A server on 127.0.0.1, port 0, closed by `await using` / `dispose()`. */
export async function startServer(options: ChatServerOptions = {}) {
  const server = createServer(options);
  const { port } = await server.listen(0, "127.0.0.1");
  return {
    server,
    port,
    async [Symbol.asyncDispose]() {
      await server.close({ graceMs: 500 });
    },
  };
}

/**
 * A raw line client (what `nc` or a Java BufferedReader program is): collects lines and
 * lets a test wait for one that matches, with a deadline instead of a fixed sleep.
 */
export class LineClient {
  readonly lines: string[] = [];
  private buffered = "";
  private waiters: Array<() => void> = [];
  ended = false;
  readonly closed: Promise<void>;

  private constructor(readonly socket: Socket) {
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      this.buffered += chunk;
      let nl = this.buffered.indexOf("\n");
      while (nl !== -1) {
        this.lines.push(this.buffered.slice(0, nl).replace(/\r$/, ""));
        this.buffered = this.buffered.slice(nl + 1);
        nl = this.buffered.indexOf("\n");
      }
      this.wake();
    });
    socket.on("error", () => {});
    this.closed = new Promise((resolve) =>
      socket.on("close", () => {
        this.ended = true;
        this.wake();
        resolve();
      }),
    );
  }

  /** Sends `line` and resolves with the first line after it that matches `answer`. */
  ask(line: string, answer: RegExp | string, timeoutMs = 5000): Promise<string> {
    const from = this.lines.length;
    this.send(line);
    return this.waitFor(answer, timeoutMs, from);
  }

  static open(port: number, localAddress?: string): Promise<LineClient> {
    return new Promise((resolve, reject) => {
      const socket = connect({
        port,
        host: "127.0.0.1",
        ...(localAddress ? { localAddress } : {}),
      });
      socket.once("connect", () => resolve(new LineClient(socket)));
      socket.once("error", reject);
    });
  }

  /** A line client over a socket that is already connected (a TLS socket, say). */
  static over(socket: Socket): LineClient {
    return new LineClient(socket);
  }

  /** Opens a client and waits for the greeting; returns it with its guest nick. */
  static async greeted(port: number): Promise<LineClient & { nick: string }> {
    const client = (await LineClient.open(port)) as LineClient & { nick: string };
    const greeting = await client.waitFor(/^\*\*\* tcpchat\/1 /);
    client.nick = /you are (\S+) in/.exec(greeting)![1]!;
    return client;
  }

  /**
   * A structured (JSON-line) client: greeted, it says hello as `nick` (in `room`, default the
   * lobby) and waits for its welcome.
   */
  static async welcomed(port: number, nick: string, room?: string): Promise<LineClient> {
    const client = await LineClient.open(port);
    await client.waitFor(/^\*\*\* tcpchat\/1 /);
    client.send(JSON.stringify({ type: "hello", proto: 1, nick, ...(room ? { room } : {}) }));
    await client.waitFor(/"type":"welcome"/);
    return client;
  }

  send(line: string | Buffer): void {
    this.socket.write(typeof line === "string" ? `${line}\n` : line);
  }

  /** Waits for the first line (from `from` on) that matches; fails after `timeoutMs`. */
  async waitFor(pattern: RegExp | string, timeoutMs = 5000, from = 0): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.lines
        .slice(from)
        .find((line) => (typeof pattern === "string" ? line === pattern : pattern.test(line)));
      if (found !== undefined) return found;
      if (this.ended)
        throw new Error(`connection closed before ${pattern}; got:\n${this.lines.join("\n")}`);
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(`timed out waiting for ${pattern}; got:\n${this.lines.join("\n")}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  close(): void {
    this.socket.destroy();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}

/** Runs `attempt` until `done` holds for its result, or 5 s pass (then the last result). */
export async function retry<T>(
  attempt: () => Promise<T>,
  done: (result: T) => boolean,
): Promise<T> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const result = await attempt();
    if (done(result) || Date.now() > deadline) return result;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export type { ChatServer };
