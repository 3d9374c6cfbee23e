/**
 * The native load generator driven through its protocol (the same requests as the worker
 * threads), against a tiny line relay made here, whose faults (a dropped line, a repeated line,
 * a wrong greeting) the generator must see.
 */
import { createServer as createHttpServer } from "node:http";
import { type AddressInfo, createServer, type Server, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { WebSocketServer } from "ws";
import { mergeHistograms } from "../src/latency.js";
import { NativeLoadPool } from "../src/load/native-pool.js";
import type {
  BroadcastResult,
  CloseAllResult,
  ConnectResult,
  CountsResult,
  EchoResult,
  JoinPairsResult,
} from "../src/load/protocol.js";
import { useBuiltBench } from "./bench-process.js";

useBuiltBench("tcpchat-native-");

/** What the relay does to a line before it goes out (return the lines to send instead). */
type Fault = (text: string) => string[];

interface Relay {
  port: number;
  /** Connections open right now. */
  open(): number;
  /** Remote addresses of the open connections. */
  peers(): string[];
  close(): Promise<void>;
}

/**
 * A line relay: greets, puts everyone in `lobby`, `/join ROOM` moves a client, every other line
 * goes to every member of the sender's room (the sender too) as `#room <nick> text`.
 */
async function startRelay(greeting = "*** tcpchat/test\n", fault: Fault = (t) => [t]) {
  const rooms = new Map<Socket, string>();
  const server: Server = createServer((socket) => {
    rooms.set(socket, "lobby");
    // Without it, Nagle and the peer's delayed ACK hold each echo reply for 40 ms.
    socket.setNoDelay(true);
    socket.write(greeting);
    let partial = "";
    socket.on("data", (chunk) => {
      partial += chunk.toString("latin1");
      let lf = partial.indexOf("\n");
      while (lf !== -1) {
        const text = partial.slice(0, lf);
        partial = partial.slice(lf + 1);
        lf = partial.indexOf("\n");
        if (text.startsWith("/join ")) {
          rooms.set(socket, text.slice(6));
          continue;
        }
        const room = rooms.get(socket);
        for (const line of fault(text)) {
          for (const [peer, peerRoom] of rooms) {
            if (peerRoom === room) peer.write(`#${room} n ${line}\n`);
          }
        }
      }
    });
    socket.on("error", () => undefined);
    socket.on("close", () => rooms.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const relay: Relay = {
    port: (server.address() as AddressInfo).port,
    open: () => rooms.size,
    peers: () => [...rooms.keys()].map((s) => s.remoteAddress ?? ""),
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of rooms.keys()) socket.destroy();
        server.close(() => resolve());
      }),
  };
  return relay;
}

/**
 * A WebSocket relay on `/ws` speaking JSON lines as tcpchat does: `welcome` after `hello`, and
 * every `send` goes to everyone as a `message` whose text is the last field. Messages longer
 * than 16 KiB close the connection (1009), as tcpchat's line limit does.
 */
async function startWebSocketRelay(): Promise<Relay & { refused(): number }> {
  const http = createHttpServer((_req, res) => res.writeHead(404).end());
  const wss = new WebSocketServer({ server: http, path: "/ws", maxPayload: 16 * 1024 + 2 });
  let refused = 0;
  wss.on("connection", (ws) => {
    ws.on("close", (code) => {
      if (code === 1009) refused++;
    });
    ws.on("message", (data) => {
      for (const line of data.toString().split("\n")) {
        if (line.length === 0) continue;
        const request = JSON.parse(line) as { type: string; text?: string };
        if (request.type === "hello") ws.send('{"type":"welcome","nick":"n"}\n');
        if (request.type !== "send") continue;
        const out = `{"type":"message","room":"lobby","from":"n","text":${JSON.stringify(request.text)}}\n`;
        for (const peer of wss.clients) peer.send(out);
      }
    });
  });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  return {
    port: (http.address() as AddressInfo).port,
    open: () => wss.clients.size,
    peers: () => [],
    refused: () => refused,
    close: () =>
      new Promise<void>((resolve) => {
        for (const ws of wss.clients) ws.terminate();
        wss.close();
        http.close(() => resolve());
      }),
  };
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setUp(fault?: Fault, greeting?: string) {
  const relay = await startRelay(greeting, fault);
  const pool = new NativeLoadPool({ workers: 1 });
  cleanups.push(() => relay.close());
  cleanups.push(() => pool.close());
  return { relay, pool };
}

function connect(pool: NativeLoadPool, relay: Relay, clients: number[]) {
  return pool.request<ConnectResult>(0, {
    op: "connect",
    host: "127.0.0.1",
    port: relay.port,
    clients,
    readyOn: "greeting",
    greetingPrefix: "*** tcpchat/",
    timeoutMs: 5000,
  });
}

/** A closed-loop broadcast bounded by count: senders 0 and 1, every client parses. */
async function broadcast(pool: NativeLoadPool, clients: number[], perSender: number, window = 4) {
  await pool.request(0, {
    op: "broadcast",
    mode: "closed",
    senders: [0, 1],
    parsers: clients,
    paused: [],
    size: 64,
    selfEcho: true,
    window,
    ratePerSender: 1,
    durationMs: 5000,
    maxMessagesPerSender: perSender,
  });
  const result = await pool.request<BroadcastResult>(0, { op: "broadcast-start" });
  const expectedPerSender = result.sent;
  const total = Object.values(expectedPerSender).reduce((a, b) => a + b, 0);
  // Poll until every delivery is in (or nothing more comes for a while).
  const deadline = Date.now() + 10_000;
  let counts = await pool.request<CountsResult>(0, { op: "counts" });
  let last = -1;
  let lastChange = Date.now();
  while (counts.delivered < total * clients.length && Date.now() < deadline) {
    if (counts.delivered !== last) {
      last = counts.delivered;
      lastChange = Date.now();
    } else if (Date.now() - lastChange > 1000) break;
    await new Promise((resolve) => setTimeout(resolve, 20));
    counts = await pool.request<CountsResult>(0, { op: "counts" });
  }
  counts = await pool.request<CountsResult>(0, {
    op: "counts",
    expectedPerSender,
    expectedPerReceiver: total,
  });
  return { result, counts, total };
}

describe("native load generator", () => {
  it("connects on the greeting, counts every broadcast line exactly and samples latency", async () => {
    const { relay, pool } = await setUp();
    const clients = [0, 1, 2, 3, 4];
    const connected = await connect(pool, relay, clients);
    expect(connected).toMatchObject({ ready: 5, failed: 0, failures: {} });
    expect(mergeHistograms([connected.histogram]).totalCount).toBe(5);
    const { result, counts, total } = await broadcast(pool, clients, 50);
    expect(result.sent).toEqual({ 0: 50, 1: 50 });
    expect(counts).toMatchObject({
      delivered: total * 5,
      receivers: 5,
      minPerReceiver: total,
      maxPerReceiver: total,
      gaps: 0,
      duplicates: 0,
      mismatched: 0,
      checkedStreams: 10,
      receiversOff: 0,
      parsed: total * 5,
    });
    // Every parsed message has a latency sample, rebuilt from the C side's buckets.
    expect(mergeHistograms([counts.histogram]).totalCount).toBe(total * 5);
  });

  it("sees a dropped sequence number as a gap and a repeated one as a duplicate", async () => {
    // Sender 0's seq 7 never goes out; sender 1's seq 3 goes out twice.
    const { relay, pool } = await setUp((text) =>
      text.startsWith("B000000.0000000007.")
        ? []
        : text.startsWith("B000001.0000000003.")
          ? [text, text]
          : [text],
    );
    const clients = [0, 1, 2];
    await connect(pool, relay, clients);
    const { counts, total } = await broadcast(pool, clients, 20);
    expect(counts.gaps).toBe(3);
    expect(counts.duplicates).toBe(3);
    // Each receiver got one line less and one more: the totals match, the sequences do not.
    expect(counts.delivered).toBe(total * 3);
    expect(counts.mismatched).toBe(0);
  });

  it("counts a stream that ends early as incomplete", async () => {
    // Sender 1's last message (seq 19) never arrives.
    const { relay, pool } = await setUp((text) =>
      text.startsWith("B000001.0000000019.") ? [] : [text],
    );
    const clients = [0, 1, 2];
    await connect(pool, relay, clients);
    const { counts, total } = await broadcast(pool, clients, 20);
    expect(counts.gaps).toBe(0);
    expect(counts.mismatched).toBe(3);
    expect(counts.receiversOff).toBe(3);
    expect(counts.delivered).toBe((total - 1) * 3);
  });

  it("speaks WebSocket: upgrade, welcome, masked frames, and a large write split into messages", async () => {
    const relay = await startWebSocketRelay();
    const pool = new NativeLoadPool({ workers: 1 });
    cleanups.push(() => relay.close());
    cleanups.push(() => pool.close());
    const clients = [0, 1, 2];
    const connected = await pool.request<ConnectResult>(0, {
      op: "connect",
      host: "127.0.0.1",
      port: relay.port,
      clients,
      readyOn: "greeting",
      greetingPrefix: "*** tcpchat/",
      timeoutMs: 5000,
      transport: "ws",
      wsPath: "/ws",
    });
    expect(connected).toMatchObject({ ready: 3, failed: 0 });
    // A window of 400 messages goes out in one write: about 36 KiB of JSON lines, more than
    // one message may hold.
    const { counts, total } = await broadcast(pool, clients, 800, 400);
    expect(relay.refused()).toBe(0);
    expect(counts).toMatchObject({
      delivered: total * 3,
      gaps: 0,
      duplicates: 0,
      mismatched: 0,
      receiversOff: 0,
      closed: 0,
    });
  });

  it("refuses a server whose greeting is not the expected one, with the line as the reason", async () => {
    const { relay, pool } = await setUp(undefined, "hello from elsewhere\n");
    const connected = await connect(pool, relay, [0, 1]);
    expect(connected.ready).toBe(0);
    expect(connected.failures).toEqual({ "unexpected first line: hello from elsewhere": 2 });
  });

  it("reports a refused connection by its error code", async () => {
    const relay = await startRelay();
    await relay.close();
    const pool = new NativeLoadPool({ workers: 1 });
    cleanups.push(() => pool.close());
    const connected = await connect(pool, relay, [0]);
    expect(connected.failures).toEqual({ ECONNREFUSED: 1 });
  });

  it("binds to the local address asked for, and names one it cannot bind", async () => {
    const { relay, pool } = await setUp();
    const request = (localAddress: string, clients: number[]) =>
      pool.request<ConnectResult>(0, {
        op: "connect",
        host: "127.0.0.1",
        port: relay.port,
        clients,
        readyOn: "greeting",
        greetingPrefix: "*** tcpchat/",
        timeoutMs: 5000,
        localAddress,
      });
    expect(await request("127.0.0.2", [0])).toMatchObject({ ready: 1, failed: 0 });
    expect(relay.peers()).toEqual(["127.0.0.2"]);
    // 192.0.2.1 (TEST-NET-1) is on no interface of this machine.
    expect((await request("192.0.2.1", [1])).failures).toEqual({ EADDRNOTAVAIL: 1 });
  });

  it("joins pairs and runs echo round trips in each pair's room", async () => {
    const { relay, pool } = await setUp();
    await connect(pool, relay, [0, 1, 2, 3]);
    const joined = await pool.request<JoinPairsResult>(0, {
      op: "join-pairs",
      pairs: [
        { a: 0, b: 1, room: "p0" },
        { a: 2, b: 3, room: "p1" },
      ],
      timeoutMs: 5000,
    });
    expect(joined).toEqual({ joined: 2, failed: 0 });
    const echo = await pool.request<EchoResult>(0, {
      op: "echo",
      size: 64,
      durationMs: 5000,
      maxRoundTripsPerPair: 25,
    });
    expect(echo).toMatchObject({ roundTrips: 50, unfinishedPairs: 0 });
    expect(mergeHistograms([echo.histogram]).totalCount).toBe(50);
  });

  it("closes every socket on close-all, and on stdin's end exits with its sockets closed", async () => {
    const { relay, pool } = await setUp();
    await connect(pool, relay, [0, 1, 2]);
    expect(relay.open()).toBe(3);
    const closed = await pool.request<CloseAllResult>(0, { op: "close-all" });
    expect(closed).toEqual({ closed: 3 });
    await waitFor(() => relay.open() === 0);
    await connect(pool, relay, [4, 5]);
    expect(relay.open()).toBe(2);
    await pool.close();
    await waitFor(() => relay.open() === 0);
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
