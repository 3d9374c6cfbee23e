/**
 * `tcpchat connect` against a hostile or buggy server (malformed frames, frames named like the
 * client's events, bogus limits, a 100 MB line), and against servers that flood a reader who
 * does not read: no crash, errors reported with their codes, memory bounded.
 */
import { createServer, type Server, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { killAllCli, runCli, runCliToEnd, waitUntil } from "./helpers/cli-process.js";
import {
  flood,
  LIMITS,
  messageLine,
  startHostileServer,
  welcomeLine,
} from "./helpers/hostile-server.js";
import { happensWithin, residentBytes, spawnUnread } from "./helpers/unread-cli.js";

const MiB = 1024 * 1024;
const cleanup: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  await killAllCli();
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function hostile(script: (socket: Socket) => void) {
  const server = await startHostileServer(script);
  cleanup.push(server.close);
  return server;
}

describe("connect against a hostile server", () => {
  it("reports malformed frames with their codes, skips them, and goes on", async () => {
    const server = await hostile((socket) => {
      socket.write(welcomeLine());
      socket.write('{"type":"presence","room":"lobby","count":2}\n');
      socket.write('{"type":"rooms","rooms":null}\n');
      socket.write('{"type":"close"}\n');
      socket.write('{"type":"teleport"}\n');
      socket.write("not json at all\n");
      socket.write(messageLine("still talking"));
    });
    const client = runCli(["connect", `127.0.0.1:${server.port}`]);
    await client.waitForStdout(/#lobby <eve> still talking/);
    client.endInput();
    expect(await client.waitExit()).toBe(0);
    const codes = [...client.stderr.matchAll(/!!! (CHAT_ERR_\w+): The server sent (.*?) that/g)];
    expect(codes.map((m) => `${m[1]} ${m[2]}`)).toEqual([
      'CHAT_ERR_BAD_SERVER_FRAME a "presence" frame',
      'CHAT_ERR_BAD_SERVER_FRAME a "rooms" frame',
      'CHAT_ERR_BAD_SERVER_FRAME a "close" frame',
      'CHAT_ERR_BAD_SERVER_FRAME a "teleport" frame',
      "CHAT_ERR_BAD_SERVER_FRAME a line",
    ]);
    expect(client.stderr).toMatch(/`nicks` is missing/);
    // {"type":"close"} is not the client's close: no "server closed" and no exit 8.
    expect(client.stderr).not.toMatch(/closed the connection/);
  });

  it("shows a server's escape sequences as symbols, never writes them to the terminal", async () => {
    const server = await hostile((socket) => {
      socket.write(welcomeLine());
      socket.write(messageLine("hi\u001b]52;c;ZXZpbA==\u0007\u001b[2Jthere\u009b1m"));
    });
    const client = runCli(["connect", `127.0.0.1:${server.port}`]);
    await client.waitForStdout(/#lobby <eve> hi/);
    client.endInput();
    expect(await client.waitExit()).toBe(0);
    expect(client.stdout).toContain("#lobby <eve> hi␛]52;c;ZXZpbA==␇␛[2Jthere\ufffd1m");
    expect(client.stdout).not.toMatch(/[\u001b\u0007\u009b]/);
  });

  it.each([
    ["without limits", null],
    ["with messageRate 0", { ...LIMITS, messageRate: 0 }],
    ["with a negative rate and burst", { ...LIMITS, messageRate: -1, messageBurst: -1 }],
  ])("sends every piped line after a welcome %s", async (_name, limits) => {
    const server = await hostile((socket) => socket.write(welcomeLine(limits)));
    const lines = Array.from({ length: 60 }, (_, i) => `line ${i}`).join("\n");
    const { code, stderr } = await runCliToEnd(["connect", `127.0.0.1:${server.port}`], {
      input: `${lines}\n`,
      timeoutMs: 20_000,
    });
    expect(code).toBe(0);
    expect(server.acked()).toBe(60);
    expect(stderr).toMatch(/CHAT_ERR_BAD_SERVER_FRAME: The server sent a "welcome" frame/);
    expect(stderr).toMatch(/uses the default of each bad limit/);
  });

  it("prints a 16 KiB message whose frame JSON escaping made six times longer", async () => {
    const text = `start${"\u0001".repeat(16_384 - 8)}end`;
    const server = await hostile((socket) => {
      socket.write(welcomeLine());
      socket.write(messageLine(text));
    });
    const client = runCli(["connect", `127.0.0.1:${server.port}`]);
    await client.waitForStdout(/#lobby <eve> start\u2401+end\n/);
    client.endInput();
    expect(await client.waitExit()).toBe(0);
    expect(client.stderr).not.toMatch(/CHAT_ERR/);
  });

  it("reports a 100 MB line once with its code, reads on, and stays small", async () => {
    const server = await hostile((socket) => {
      socket.write(welcomeLine());
      socket.write('{"type":"notice","text":"');
      const chunk = Buffer.alloc(MiB, 0x61);
      let left = 100;
      const pump = () => {
        while (left > 0) {
          left -= 1;
          if (!socket.write(chunk)) return void socket.once("drain", pump);
        }
        socket.write('"}\n');
        socket.write(messageLine("after the long line"));
      };
      pump();
    });
    const client = runCli(["connect", `127.0.0.1:${server.port}`]);
    let peak = 0;
    await waitUntil(
      () => {
        if (client.exitCode === null) peak = Math.max(peak, residentBytes(client.pid));
        return client.stdout.includes("after the long line") || client.exitCode !== null;
      },
      "the message after the 100 MB line",
      30_000,
    );
    expect(client.stdout).toContain("#lobby <eve> after the long line");
    expect(client.stderr.match(/CHAT_ERR_LINE_TOO_LONG/g)).toHaveLength(1);
    expect(peak).toBeLessThan(200 * MiB);
    client.endInput();
    expect(await client.waitExit()).toBe(0);
  });
});

/** A plain (not tcpchat) server that floods its one client with `chunk`, up to `limitBytes`. */
async function plainFlood(chunk: Buffer, limitBytes: number) {
  let flooder: ReturnType<typeof flood> | undefined;
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => {});
    flooder = flood(socket, chunk, limitBytes);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  cleanup.push(
    () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(resolve);
      }),
  );
  return { port: (server.address() as { port: number }).port, flooder: () => flooder };
}

/**
 * The flood is held back while stdout is not read (the server is blocked, its count stops) and
 * memory stays flat; once stdout is read, the flood flows again: the client was alive, paused.
 */
async function expectBackpressure(
  args: string[],
  flooder: () => ReturnType<typeof flood> | undefined,
): Promise<void> {
  const cli = spawnUnread(args);
  cleanup.push(() => cli.kill());
  await waitUntil(() => flooder()?.blocked() === true, "the flood to be held back", 20_000);
  // A first block can be transient: the kernel buffers between the two are still autotuning.
  // Held back means no progress for a whole second (bounded: 20 tries).
  for (let tries = 0; tries < 20; tries++) {
    const at = flooder()!.sent();
    if (!(await happensWithin(() => flooder()!.sent() !== at, 1000))) break;
  }
  const heldAt = flooder()!.sent();
  // Without backpressure the client reads on into memory (measured: 10 to 100 MiB in 3 s,
  // however busy the machine); paused, it takes nothing more.
  expect(await happensWithin(() => flooder()!.sent() > heldAt + 4 * MiB, 3000)).toBe(false);
  expect(residentBytes(cli.pid)).toBeLessThan(100 * MiB);
  cli.readStdout();
  await waitUntil(() => flooder()!.sent() > heldAt + 64 * MiB, "the flood to flow again", 30_000);
  expect(cli.exitCode()).toBeNull();
  expect(cli.stderr()).not.toMatch(/ENOBUFS|Error/);
}

describe("connect against a flood, piped into a reader that does not read", () => {
  it("structured mode pauses the client", async () => {
    let flooder: ReturnType<typeof flood> | undefined;
    const chunk = Buffer.from(messageLine("y".repeat(60)).repeat(600));
    const server = await hostile((socket) => {
      socket.write(welcomeLine());
      flooder = flood(socket, chunk, 512 * MiB);
    });
    await expectBackpressure(["connect", `127.0.0.1:${server.port}`], () => flooder);
  });

  it("--raw pauses the socket on a flood of lines", async () => {
    const server = await plainFlood(Buffer.from(`${"x".repeat(99)}\n`.repeat(640)), 512 * MiB);
    await expectBackpressure(["connect", "--raw", `127.0.0.1:${server.port}`], server.flooder);
  });

  it("--raw pauses the socket on an endless stream without newlines", async () => {
    const server = await plainFlood(Buffer.alloc(64 * 1024, 0x61), 512 * MiB);
    await expectBackpressure(["connect", "--raw", `127.0.0.1:${server.port}`], server.flooder);
  });
});
