/**
 * `connect` against peers that accept one connection only: a Java-tutorial-style server (one
 * `accept()`, then the listener closes), `ncat -l`, and `ncat -l --recv-only`. Detecting that
 * the peer is not tcpchat must not cost the connection: plain line mode goes on with it.
 */
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { createServer, type Server, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { killAllCli, runCliToEnd, waitUntil } from "./helpers/cli-process.js";

const cleanup: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  await killAllCli();
  for (const step of cleanup.splice(0).reverse()) await step();
});

/**
 * Accepts exactly one connection, then closes its listener, like `new ServerSocket(port)
 * .accept()`. `greeting` is written first (none: it waits for the client); `halfClose` ends
 * its side at once and only listens. Echoes lines as `echo: LINE` unless half-closed.
 */
async function oneAcceptServer(options: { greeting?: string; halfClose?: boolean }) {
  const received: string[] = [];
  let accepted = 0;
  let peerDone = false;
  let socket: Socket | undefined;
  const server: Server = createServer({ allowHalfOpen: true }, (s) => {
    accepted += 1;
    socket = s;
    server.close();
    s.on("error", () => {});
    if (options.greeting) s.write(`${options.greeting}\n`);
    if (options.halfClose) s.end();
    let buffer = "";
    s.setEncoding("utf8").on("data", (text: string) => {
      buffer += text;
      for (let lf = buffer.indexOf("\n"); lf !== -1; lf = buffer.indexOf("\n")) {
        const line = buffer.slice(0, lf);
        buffer = buffer.slice(lf + 1);
        received.push(line);
        if (!options.halfClose) s.write(`echo: ${line}\n`);
      }
    });
    s.on("end", () => {
      peerDone = true;
      s.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  cleanup.push(() => {
    socket?.destroy();
    server.close();
  });
  return {
    port: (server.address() as { port: number }).port,
    received,
    accepted: () => accepted,
    peerDone: () => peerDone,
  };
}

describe("connect against a server that accepts once", () => {
  it("that greets: falls back to plain line mode on the same connection", async () => {
    const server = await oneAcceptServer({ greeting: "Welcome to the Java echo server" });
    const { code, stdout, stderr } = await runCliToEnd(["connect", `127.0.0.1:${server.port}`], {
      input: "hello\nbye\n",
    });
    expect({ code, stdout }).toEqual({
      code: 0,
      stdout: "Welcome to the Java echo server\necho: hello\necho: bye\n",
    });
    expect(stderr).toMatch(/not a tcpchat server .*switching to plain line mode on the same/);
    expect(server.accepted()).toBe(1);
  });

  it("that waits for the client to speak first: falls back after --timeout, same connection", async () => {
    const server = await oneAcceptServer({});
    const { code, stdout } = await runCliToEnd(
      ["connect", `127.0.0.1:${server.port}`, "--timeout", "500"],
      { input: "hello\nbye\n" },
    );
    expect({ code, stdout }).toEqual({ code: 0, stdout: "echo: hello\necho: bye\n" });
    expect(server.received).toEqual(["hello", "bye"]);
  });

  it("that half-closes at once: piped input is still sent, then the client ends", async () => {
    const server = await oneAcceptServer({ halfClose: true });
    const { code } = await runCliToEnd(
      ["connect", `127.0.0.1:${server.port}`, "--timeout", "500"],
      { input: "first line\nsecond line\n" },
    );
    expect(code).toBe(0);
    expect(server.received).toEqual(["first line", "second line"]);
    expect(server.peerDone()).toBe(true);
  });

  it("--raw against a peer that half-closes sends piped input too", async () => {
    const server = await oneAcceptServer({ greeting: "read-only", halfClose: true });
    const { code, stdout } = await runCliToEnd(["connect", "--raw", `127.0.0.1:${server.port}`], {
      input: "one\ntwo\n",
    });
    expect({ code, stdout }).toEqual({ code: 0, stdout: "read-only\n" });
    expect(server.received).toEqual(["one", "two"]);
  });
});

/** Runs `ncat -l 127.0.0.1 PORT ...flags` and waits until it listens (it says so with -v). */
async function startNcat(flags: string[]) {
  const port = await new Promise<number>((resolve) => {
    const probe = createServer().listen(0, "127.0.0.1", () => {
      const { port: free } = probe.address() as { port: number };
      probe.close(() => resolve(free));
    });
  });
  const child: ChildProcessWithoutNullStreams = spawn(
    "ncat",
    ["-v", "-l", "127.0.0.1", String(port), ...flags],
    { stdio: "pipe" },
  );
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (text: string) => (stdout += text));
  child.stderr.setEncoding("utf8").on("data", (text: string) => (stderr += text));
  child.stdin.on("error", () => {});
  const exited = new Promise<void>((resolve) => child.on("close", () => resolve()));
  cleanup.push(async () => {
    child.kill("SIGKILL");
    await exited;
  });
  await waitUntil(() => /Listening on/.test(stderr), "ncat to listen");
  return { port, child, stdout: () => stdout };
}

describe("connect against real ncat", () => {
  it("ncat -l: the ncat user's line arrives, the piped lines reach ncat", async () => {
    const ncat = await startNcat([]);
    ncat.child.stdin.write("hi from ncat\n");
    const { code, stdout } = await runCliToEnd(["connect", `127.0.0.1:${ncat.port}`], {
      input: "hello\nbye\n",
    });
    expect({ code, stdout }).toEqual({ code: 0, stdout: "hi from ncat\n" });
    await waitUntil(() => ncat.stdout() === "hello\nbye\n", "ncat to print the piped lines");
  });

  it("ncat -l --recv-only: the piped lines reach ncat", async () => {
    const ncat = await startNcat(["--recv-only"]);
    const { code } = await runCliToEnd(["connect", `127.0.0.1:${ncat.port}`, "--timeout", "500"], {
      input: "only\nlistening\n",
    });
    expect(code).toBe(0);
    await waitUntil(() => ncat.stdout() === "only\nlistening\n", "ncat to print the piped lines");
  });
});
