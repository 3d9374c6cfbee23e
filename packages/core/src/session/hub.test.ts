import { describe, expect, it } from "vitest";
import { ChatServer } from "../server/chat-server.js";
import { ChatHub } from "./hub.js";
import type { Transport } from "./transport.js";

/** An in-memory transport: what the hub writes, as text. */
class MemoryTransport implements Transport {
  written = "";
  ended = false;
  destroyed = false;
  queuedBytes = 0;
  write(chunk: Buffer): void {
    this.written += chunk.toString("utf8");
  }
  end(last?: Buffer): void {
    if (last) this.written += last.toString("utf8");
    this.ended = true;
  }
  destroy(): void {
    this.destroyed = true;
  }
  paused = false;
  pause(): void {
    this.paused = true;
  }
  resume(): void {
    this.paused = false;
  }
  lines(): string[] {
    return this.written.split("\n").filter((l) => l !== "");
  }
}

function hub(options: ConstructorParameters<typeof ChatServer>[0] = {}): ChatHub {
  // Driven synchronously (one event-loop turn): the turn's input time is tested over sockets.
  const settings = new ChatServer({ inputTurnMs: Number.POSITIVE_INFINITY, ...options }).settings;
  return new ChatHub(settings, {
    emit: () => true,
    listenerCount: () => 0,
  });
}

/** A hub with `count` settled text sessions in #lobby, their writes recorded from now on. */
function settledRoom(h: ChatHub, count: number) {
  const transports = Array.from({ length: count }, () => new MemoryTransport());
  const sessions = transports.map((t, i) => h.open(t, { address: "127.0.0.1", port: 2000 + i }));
  for (const s of sessions) h.settleAsText(s, Date.now());
  for (const s of sessions) h.announceArrival(s);
  h.flush();
  const writes = transports.map(() => [] as string[]);
  transports.forEach((t, i) => {
    t.write = (chunk: Buffer) => {
      writes[i]!.push(chunk.toString("utf8"));
    };
  });
  return { sessions, writes };
}

const endOfTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe("ChatHub without sockets", () => {
  it("announces a structured client under the nick from its hello, with no guest rename", () => {
    const h = hub();
    const watcher = new MemoryTransport();
    const w = h.open(watcher, { address: "127.0.0.1", port: 1 });
    h.receive(w, Buffer.from("/nick watcher\n"));
    const t = new MemoryTransport();
    const s = h.open(t, { address: "127.0.0.1", port: 2 });
    h.receive(s, Buffer.from('{"type":"hello","proto":1,"nick":"alice"}\n'));
    h.flush();
    const heard = watcher.lines().filter((line) => line.includes("alice") || line.includes(s.id));
    expect(heard).toEqual(["#lobby --> alice joined"]);
    // The watcher never hears of alice's guest nick (the one in alice's greeting).
    const guest = /you are (\S+) in/.exec(t.lines()[0]!)![1]!;
    expect(watcher.lines().some((line) => line.includes(guest))).toBe(false);
  });

  it("encodes a broadcast once per mode and writes the same bytes to every member", () => {
    const h = hub();
    const transports = Array.from({ length: 3 }, () => new MemoryTransport());
    const sessions = transports.map((t, i) => h.open(t, { address: "127.0.0.1", port: 1000 + i }));
    h.flush();
    for (const t of transports) t.written = "";
    const writes: Buffer[] = [];
    for (const t of transports) {
      const original = t.write.bind(t);
      t.write = (chunk: Buffer) => {
        writes.push(chunk);
        original(chunk);
      };
    }
    // The other two are text clients that have not spoken (their mode settled by silence).
    h.settleAsText(sessions[1]!, Date.now());
    h.settleAsText(sessions[2]!, Date.now());
    h.receive(sessions[0]!, Buffer.from("one\ntwo\n"));
    h.flush();
    // One write per member per turn, and it is the very same Buffer.
    expect(writes).toHaveLength(3);
    expect(writes[1]).toBe(writes[0]);
    // Its first line also announces its arrival (deferred until its mode was known).
    expect(transports[2]!.lines()).toEqual([
      `#lobby --> ${sessions[0]!.nick} joined`,
      `#lobby <${sessions[0]!.nick}> one`,
      `#lobby <${sessions[0]!.nick}> two`,
    ]);
    expect(h.stats.deliveries).toBeGreaterThanOrEqual(6);
  });

  it("switches a session to JSON lines on hello and answers with a welcome", () => {
    const h = hub();
    const t = new MemoryTransport();
    const s = h.open(t, { address: "127.0.0.1", port: 1 });
    h.receive(
      s,
      Buffer.from(
        '{"type":"hello","proto":1,"nick":"bo"}\n{"type":"send","ref":"a","text":"hi"}\n',
      ),
    );
    h.flush();
    // Lines written before the hello (greeting, own join) are text; everything after is JSON.
    const frames = t
      .lines()
      .filter((line) => line.startsWith("{"))
      .map((line) => JSON.parse(line));
    expect(frames.map((f) => f.type)).toEqual(
      expect.arrayContaining(["welcome", "message", "ack"]),
    );
    expect(frames.find((f) => f.type === "message")).toMatchObject({
      from: "bo",
      text: "hi",
      room: "lobby",
    });
  });

  it("refuses a first JSON frame that is not a hello", () => {
    const h = hub();
    const t = new MemoryTransport();
    const s = h.open(t, { address: "127.0.0.1", port: 1 });
    h.receive(s, Buffer.from('{"type":"send","text":"x"}\n'));
    h.flush();
    expect(t.lines().at(-1)).toMatch(
      /^!!! CHAT_ERR_BAD_FRAME: The first JSON frame must be a hello/,
    );
  });

  it("writes a small turn as soon as the peer's bytes are handled, not at the turn's end", async () => {
    const h = hub();
    const { sessions, writes } = settledRoom(h, 2);
    h.receive(sessions[0]!, Buffer.from("one\ntwo\n"));
    // One write per member for the whole chunk, before receive() returns.
    expect(writes.map((w) => w.length)).toEqual([1, 1]);
    const nick = sessions[0]!.nick;
    expect(writes[1]![0]).toBe(`#lobby <${nick}> one\n#lobby <${nick}> two\n`);
    await endOfTurn();
    expect(writes.map((w) => w.length)).toEqual([1, 1]);
  });

  it("with flushAtOnceWrites 0, every batch waits for the end of the turn", async () => {
    const h = hub({ flushAtOnceWrites: 0 });
    const { sessions, writes } = settledRoom(h, 2);
    h.receive(sessions[0]!, Buffer.from("hi\n"));
    await Promise.resolve();
    expect(writes.flat()).toEqual([]);
    await endOfTurn();
    expect(writes.map((w) => w.length)).toEqual([1, 1]);
  });

  it("a room past flushAtOnceWrites waits for the turn: two senders' lines share one write", async () => {
    const h = hub({ flushAtOnceWrites: 2 });
    const { sessions, writes } = settledRoom(h, 3);
    h.receive(sessions[0]!, Buffer.from("one\n"));
    await Promise.resolve();
    expect(writes.flat()).toEqual([]);
    // Another connection's read in the same turn joins the batch.
    h.receive(sessions[1]!, Buffer.from("two\n"));
    await endOfTurn();
    for (const w of writes) {
      expect(w).toEqual([`#lobby <${sessions[0]!.nick}> one\n#lobby <${sessions[1]!.nick}> two\n`]);
    }
  });
});
