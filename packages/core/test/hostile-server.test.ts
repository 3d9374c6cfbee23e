/**
 * A hostile or buggy server against ChatClient: a real TCP server that greets like tcpchat and
 * then sends malformed frames, frames named like the client's own events, bogus limits,
 * 100 MB lines and an endless stream. The client must report each with a code, skip it, and
 * go on, with memory bounded.
 */
import { createServer as createRawServer, type Server, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import {
  type ChatClient,
  type ChatError,
  createClient,
  DEFAULT_SERVER_LIMITS,
  type ServerFrame,
} from "../src/index.js";

const GREETING =
  "*** tcpchat/1 evil 6.6.6: welcome, you are mallory in #lobby. /help lists commands.\n";
const LIMITS = { ...DEFAULT_SERVER_LIMITS };
const WELCOME = {
  type: "welcome",
  proto: 1,
  server: "evil 6.6.6",
  session: "s1",
  nick: "mallory",
  room: "lobby",
  limits: LIMITS,
};
const MESSAGE = {
  type: "message",
  id: "m1",
  ts: 1,
  room: "lobby",
  from: "eve",
  text: "still here",
};

const cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

/** A server that greets, reads the hello, then hands the socket to `script`. */
async function hostileServer(
  script: (socket: Socket) => void,
  greet = true,
): Promise<{ port: number; server: Server }> {
  const server = createRawServer((socket) => {
    socket.on("error", () => {});
    cleanup.push(() => socket.destroy());
    if (!greet) return script(socket);
    socket.write(GREETING);
    let buffered = "";
    const onData = (chunk: Buffer) => {
      buffered += chunk.toString("utf8");
      if (!buffered.includes("\n")) return;
      socket.off("data", onData);
      script(socket);
    };
    socket.on("data", onData);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  cleanup.push(() => new Promise((resolve) => server.close(resolve)));
  return { port: (server.address() as { port: number }).port, server };
}

function line(frame: unknown): string {
  return `${typeof frame === "string" ? frame : JSON.stringify(frame)}\n`;
}

/** Records what a client reports, and waits for conditions with a deadline. */
function watch(client: ChatClient) {
  const problems: ChatError[] = [];
  const frames: ServerFrame[] = [];
  const lifecycle: string[] = [];
  client.on("protocol-error", (error) => problems.push(error));
  client.on("frame", (frame) => frames.push(frame));
  client.on("close", () => lifecycle.push("close"));
  client.on("state", (state) => lifecycle.push(state));
  cleanup.push(() => client.quit());
  return {
    problems,
    frames,
    lifecycle,
    async until(what: string, condition: () => boolean, timeoutMs = 10_000): Promise<void> {
      const deadline = Date.now() + timeoutMs;
      while (!condition()) {
        if (Date.now() > deadline) {
          throw new Error(
            `timed out waiting for ${what}; problems: ${problems.map((p) => p.message).join(" | ")}`,
          );
        }
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    },
  };
}

describe("ChatClient against a hostile server", () => {
  it("reports malformed frames with a code, skips them, and keeps going", async () => {
    const { port } = await hostileServer((socket) => {
      socket.write(line(WELCOME));
      socket.write(line({ type: "presence", room: "lobby", count: 3 }));
      socket.write(line({ type: "rooms", rooms: null }));
      socket.write(line({ type: "close" }));
      socket.write(line({ type: "state", state: "closed" }));
      socket.write(line({ type: "teleport", to: "mars" }));
      socket.write(line("this is not json"));
      socket.write(line("[1,2,3]"));
      socket.write(Buffer.from([0xff, 0xfe, 0x0a]));
      socket.write(line({ type: "error", message: "no code" }));
      socket.write(line(MESSAGE));
    });
    const client = createClient({ port });
    const seen = watch(client);
    await client.connect();
    await seen.until("the message after the garbage", () =>
      seen.frames.some((f) => f.type === "message"),
    );
    expect(seen.problems.map((p) => [p.code, p.message.replace(/^.*not valid: /, "")])).toEqual([
      ["CHAT_ERR_BAD_SERVER_FRAME", "`nicks` is missing."],
      ["CHAT_ERR_BAD_SERVER_FRAME", "`rooms` must be an array, got null."],
      ["CHAT_ERR_BAD_SERVER_FRAME", 'unknown type "close".'],
      ["CHAT_ERR_BAD_SERVER_FRAME", 'unknown type "state".'],
      ["CHAT_ERR_BAD_SERVER_FRAME", 'unknown type "teleport".'],
      ["CHAT_ERR_BAD_SERVER_FRAME", "it is not JSON."],
      ["CHAT_ERR_BAD_SERVER_FRAME", "it is not a JSON object."],
      ["CHAT_ERR_INVALID_UTF8", "A line from the server is not valid UTF-8; it was skipped."],
      ["CHAT_ERR_BAD_SERVER_FRAME", "`code` is missing."],
    ]);
    expect(seen.problems.every((p) => p.hint.length > 0)).toBe(true);
    // No frame passed for a lifecycle event: the client never closed and is still open.
    expect(seen.lifecycle).toEqual(["connecting", "open"]);
    expect(client.state).toBe("open");
    expect(seen.frames.map((f) => f.type)).toEqual(["welcome", "message"]);
  });

  it("a frame named like a client event reaches no client-event listener", async () => {
    const { port } = await hostileServer((socket) => {
      socket.write(line(WELCOME));
      for (const type of ["close", "state", "welcome", "reconnecting", "frame", "error"]) {
        socket.write(line({ type, error: { code: "CHAT_ERR_KICKED" } }));
      }
      socket.write(line(MESSAGE));
    });
    const client = createClient({ port });
    const seen = watch(client);
    const welcomes: unknown[] = [];
    client.on("welcome", (w) => welcomes.push(w));
    await client.connect();
    await seen.until("the message", () => seen.frames.some((f) => f.type === "message"));
    expect(welcomes).toHaveLength(1);
    expect(seen.lifecycle).toEqual(["connecting", "open"]);
    // "welcome" and "error" are frame types, but these lack their fields: reported, skipped.
    expect(seen.problems).toHaveLength(6);
  });

  it("uses default limits for a welcome without limits or with a message rate of 0", async () => {
    for (const bad of [
      { ...WELCOME, limits: undefined },
      { ...WELCOME, limits: { ...LIMITS, messageRate: 0, messageBurst: -1 } },
    ]) {
      const { port } = await hostileServer((socket) => socket.write(line(bad)));
      const client = createClient({ port });
      const seen = watch(client);
      const welcome = await client.connect();
      expect(welcome.limits).toEqual(DEFAULT_SERVER_LIMITS);
      expect(seen.problems).toHaveLength(1);
      expect(seen.problems[0]).toMatchObject({ code: "CHAT_ERR_BAD_SERVER_FRAME" });
      await client.quit();
    }
  });

  it("fails a request whose answer is malformed, instead of waiting for its ack timeout", async () => {
    const { port } = await hostileServer((socket) => {
      socket.write(line(WELCOME));
      socket.on("data", (chunk: Buffer) => {
        const ref = /"ref":"([^"]+)"/.exec(chunk.toString())?.[1];
        if (ref !== undefined) socket.write(line({ type: "ack", ref, ts: "yesterday" }));
      });
    });
    const client = createClient({ port, ackTimeoutMs: 60_000 });
    watch(client);
    await client.connect();
    await expect(client.send("hi")).rejects.toMatchObject({
      code: "CHAT_ERR_BAD_SERVER_FRAME",
      message: expect.stringMatching(/`ts` must be a number/),
    });
  });

  it("a server that greets and never welcomes fails connect() at the deadline", async () => {
    const { port } = await hostileServer(() => {});
    const client = createClient({ port, greetingTimeoutMs: 300 });
    watch(client);
    await expect(client.connect()).rejects.toMatchObject({
      code: "CHAT_ERR_NOT_TCPCHAT",
      message: expect.stringMatching(/no welcome in time/),
    });
  });

  it("takes a frame of a 16 KiB message escaped six-fold, and follows the advertised limit", async () => {
    // 16,384 control characters: each one a 6-byte \u00XX escape in JSON.
    const text = "\u0001".repeat(16_384);
    const { port } = await hostileServer((socket) => {
      socket.write(line(WELCOME));
      socket.write(line({ ...MESSAGE, text }));
    });
    const client = createClient({ port });
    const seen = watch(client);
    await client.connect();
    expect(client.maxLineBytes).toBe(16_384 * 6 + 64 * 1024);
    await seen.until("the long message", () => seen.frames.some((f) => f.type === "message"));
    expect((seen.frames[1] as { text: string }).text).toBe(text);
    expect(seen.problems).toEqual([]);
  });

  it("reports a 100 MB line once, skips it, keeps memory bounded and reads what follows", async () => {
    const chunk = Buffer.alloc(1024 * 1024, 0x61);
    const { port } = await hostileServer((socket) => {
      socket.write(line(WELCOME));
      socket.write('{"type":"notice","text":"');
      let sent = 0;
      const pump = () => {
        while (sent < 100) {
          sent += 1;
          if (!socket.write(chunk)) return void socket.once("drain", pump);
        }
        socket.write('"}\n');
        socket.write(line(MESSAGE));
      };
      pump();
    });
    const client = createClient({ port });
    const seen = watch(client);
    const rssBefore = process.memoryUsage().rss;
    let rssPeak = rssBefore;
    const sampler = setInterval(() => {
      rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
    }, 20);
    cleanup.push(() => clearInterval(sampler));
    await client.connect();
    await seen.until("the message after the long line", () =>
      seen.frames.some((f) => f.type === "message"),
    );
    clearInterval(sampler);
    expect(seen.problems.map((p) => p.code)).toEqual(["CHAT_ERR_LINE_TOO_LONG"]);
    expect(seen.problems[0]!.message).toMatch(/longer than this client's limit of 163840 bytes/);
    expect(seen.frames.map((f) => f.type)).toEqual(["welcome", "message"]);
    // The line was 100 MiB. Holding it would cost at least that much; skipping it costs the
    // client's limit plus socket chunks that wait for the collector, which RSS shows noisily
    // (it reached 52 MiB on a busy CI machine), so the bound sits well below 100 MiB, not near 0.
    expect(rssPeak - rssBefore).toBeLessThan(80 * 1024 * 1024);
  });

  it("an endless stream without newlines costs one report and bounded memory", async () => {
    const STREAM_BYTES = 128 * 1024 * 1024;
    const chunk = Buffer.alloc(256 * 1024, 0x7b);
    let sentBytes = 0;
    const { port } = await hostileServer((socket) => {
      socket.write(line(WELCOME));
      const pump = () => {
        // Bounded: 128 MiB, then the test is over whatever happens.
        while (sentBytes < STREAM_BYTES && !socket.destroyed) {
          sentBytes += chunk.length;
          if (!socket.write(chunk)) return void socket.once("drain", pump);
        }
      };
      pump();
    });
    const client = createClient({ port });
    const seen = watch(client);
    const rssBefore = process.memoryUsage().rss;
    await client.connect();
    await seen.until("128 MiB sent", () => sentBytes >= STREAM_BYTES, 30_000);
    expect(seen.problems.map((p) => p.code)).toEqual(["CHAT_ERR_LINE_TOO_LONG"]);
    // Holding the stream would cost 128 MiB; garbage chunks not yet collected cost far less.
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(80 * 1024 * 1024);
    expect(client.state).toBe("open");
  });

  it("pause() stops reading: the flooding server is held back by TCP, and resume() goes on", async () => {
    let written = 0;
    let blocked = false;
    const { port } = await hostileServer((socket) => {
      socket.write(line(WELCOME));
      const frame = Buffer.from(line({ ...MESSAGE, text: "x".repeat(1000) }));
      const pump = () => {
        while (written < 20_000) {
          written += 1;
          if (!socket.write(frame)) {
            blocked = true;
            return void socket.once("drain", pump);
          }
        }
      };
      pump();
    });
    const client = createClient({ port });
    const seen = watch(client);
    client.on("frame:welcome", () => client.pause());
    await client.connect();
    await seen.until("the server to be blocked", () => blocked);
    const heldAt = seen.frames.length;
    // Paused: what the kernel buffers is all that moved; 20,000 frames are 20 MB.
    expect(written).toBeLessThan(20_000);
    expect(client.isPaused).toBe(true);
    client.resume();
    await seen.until("every frame", () => seen.frames.length === 20_001, 30_000);
    expect(heldAt).toBeLessThan(20_001);
    expect(seen.problems).toEqual([]);
  });
});
