import { createServer as createRawServer, type Server } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import {
  type ChatClient,
  type ChatClientEvents,
  ConnectionError,
  createClient,
  type MessageFrame,
  RemoteError,
} from "../src/index.js";
import { LineClient, startServer } from "./helpers.js";

const cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});
function track(client: ChatClient): ChatClient {
  cleanup.push(() => client.quit());
  return client;
}
function nextEvent<K extends keyof ChatClientEvents>(
  client: ChatClient,
  event: K,
  pick: (value: ChatClientEvents[K][0]) => boolean = () => true,
): Promise<ChatClientEvents[K][0]> {
  // The event map's listener types are too precise to write generically; the call sites are typed.
  const emitter = client as unknown as {
    on(event: string, fn: (value: unknown) => void): void;
    off(event: string, fn: (value: unknown) => void): void;
  };
  return new Promise((resolve) => {
    const listener = (value: unknown) => {
      if (pick(value as ChatClientEvents[K][0])) {
        emitter.off(event, listener);
        resolve(value as ChatClientEvents[K][0]);
      }
    };
    emitter.on(event, listener);
  });
}

describe("ChatClient (structured mode) against a real server", () => {
  it("says hello, gets a welcome with the server's limits, and chats with a raw client", async () => {
    await using s = await startServer({ messageRate: 50, messageBurst: 60 });
    const raw = await LineClient.greeted(s.port);
    cleanup.push(() => raw.close());
    const client = track(createClient({ port: s.port, nick: "지민" }));
    const welcome = await client.connect();
    expect(welcome).toMatchObject({
      type: "welcome",
      proto: 1,
      nick: "지민",
      room: "lobby",
      limits: { maxLineBytes: 16384, messageRate: 50, messageBurst: 60, sendQueueBytes: 1048576 },
    });
    const ack = await client.send("안녕하세요");
    expect(ack).toMatchObject({ type: "ack", id: expect.any(String), ts: expect.any(Number) });
    expect(await raw.waitFor(/안녕하세요/)).toBe("#lobby <지민> 안녕하세요");
    const heard = nextEvent(client, "frame:message", (m: MessageFrame) => m.from === raw.nick);
    raw.send("hi from nc");
    expect(await heard).toMatchObject({ room: "lobby", from: raw.nick, text: "hi from nc" });
  });

  it("joins rooms, lists members and rooms, sends DMs, measures ping", async () => {
    await using s = await startServer();
    const a = track(createClient({ port: s.port, nick: "alice" }));
    const b = track(createClient({ port: s.port, nick: "bob" }));
    await a.connect();
    await b.connect();
    const presence = await a.join("#dev");
    expect(presence).toEqual({ type: "presence", room: "dev", nicks: ["alice"], count: 1 });
    expect(a.rooms).toEqual(["lobby", "dev"]);
    expect(a.current).toBe("dev");
    expect((await a.who("lobby")).nicks.sort()).toEqual(["alice", "bob"]);
    expect((await a.listRooms()).rooms).toEqual(
      expect.arrayContaining([
        { name: "lobby", members: 2 },
        { name: "dev", members: 1 },
      ]),
    );
    const dm = nextEvent(b, "frame:dm");
    await a.dm("BOB", "secret");
    expect(await dm).toMatchObject({ from: "alice", to: "bob", text: "secret" });
    expect(await a.ping()).toBeGreaterThanOrEqual(0);
    await a.part("dev");
    expect(a.rooms).toEqual(["lobby"]);
  });

  it("rejects a request with the server's error code and hint", async () => {
    await using s = await startServer();
    const a = track(createClient({ port: s.port, nick: "alice" }));
    await a.connect();
    await expect(a.dm("nobody", "x")).rejects.toMatchObject({
      code: "CHAT_ERR_NO_SUCH_NICK",
      hint: expect.stringMatching(/\/who/),
    });
    await expect(a.send("x", { room: "elsewhere" })).rejects.toMatchObject({
      code: "CHAT_ERR_NOT_IN_ROOM",
    });
    await expect(a.setNick("has space")).rejects.toMatchObject({ code: "CHAT_ERR_INVALID_NICK" });
    // A JSON string could smuggle a line break into text clients' streams: refused.
    await expect(a.send("line\n#lobby <operator> forged")).rejects.toMatchObject({
      code: "CHAT_ERR_LINE_BREAK_IN_TEXT",
    });
  });

  it("classifies connection refused with a hint about the port", async () => {
    const probe = createRawServer();
    await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
    const { port } = probe.address() as { port: number };
    await new Promise((resolve) => probe.close(resolve));
    const client = createClient({ port });
    const error = await client.connect().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectionError);
    expect(error).toMatchObject({ code: "CHAT_ERR_CONN_REFUSED", syscallCode: "ECONNREFUSED" });
    expect((error as Error).message).toMatch(/nothing listens on that port/);
    expect((error as ConnectionError).hint).toContain(`--port ${port}`);
  });

  it("recognizes a policy refusal line as a RemoteError with retry time", async () => {
    const refusing: Server = createRawServer((socket) =>
      socket.end(
        "!!! CHAT_ERR_REFUSED_RATE_LIMITED: Your address is connecting too often. retry in 30s (hint: Wait before reconnecting.)\n",
      ),
    );
    await new Promise<void>((resolve) => refusing.listen(0, "127.0.0.1", resolve));
    cleanup.push(() => new Promise((resolve) => refusing.close(resolve)));
    const client = createClient({ port: (refusing.address() as { port: number }).port });
    const error = await client.connect().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RemoteError);
    expect(error).toMatchObject({
      code: "CHAT_ERR_REFUSED_RATE_LIMITED",
      retryAfterMs: 30_000,
      hint: "Wait before reconnecting.",
    });
  });

  it("a refused first connect rejects and does not start reconnecting behind the caller's back", async () => {
    let connections = 0;
    const refusing: Server = createRawServer((socket) => {
      connections += 1;
      socket.end(
        "!!! CHAT_ERR_REFUSED_DENIED: Your address is on this server's deny list. (hint: h)\n",
      );
    });
    await new Promise<void>((resolve) => refusing.listen(0, "127.0.0.1", resolve));
    cleanup.push(() => new Promise((resolve) => refusing.close(resolve)));
    const port = (refusing.address() as { port: number }).port;
    const client = createClient({
      port,
      reconnect: { initialDelayMs: 1, maxDelayMs: 1, jitter: 0 },
    });
    const reconnects: unknown[] = [];
    client.on("reconnecting", (event) => reconnects.push(event));
    await expect(client.connect()).rejects.toMatchObject({ code: "CHAT_ERR_REFUSED_DENIED" });
    expect(client.state).toBe("closed");
    // A second, plain client's refusal is a barrier: the server has served it after anything
    // a 1 ms reconnect timer of the first client would have sent.
    await expect(createClient({ port }).connect()).rejects.toMatchObject({
      code: "CHAT_ERR_REFUSED_DENIED",
    });
    await expect(createClient({ port }).connect()).rejects.toMatchObject({
      code: "CHAT_ERR_REFUSED_DENIED",
    });
    expect(reconnects).toEqual([]);
    expect(connections).toBe(3);
  });

  it("says CHAT_ERR_NOT_TCPCHAT for a plain line server", async () => {
    const plain = createRawServer((socket) => socket.write("HELLO from a Java ServerSocket\n"));
    await new Promise<void>((resolve) => plain.listen(0, "127.0.0.1", resolve));
    cleanup.push(() => new Promise((resolve) => plain.close(resolve)));
    plain.on("connection", (socket) => cleanup.push(() => socket.destroy()));
    const client = createClient({ port: (plain.address() as { port: number }).port });
    await expect(client.connect()).rejects.toMatchObject({ code: "CHAT_ERR_NOT_TCPCHAT" });
  });

  it("reconnects with backoff after the server restarts on the same port, keeping nick and rooms", async () => {
    const first = await startServer();
    const port = first.port;
    const client = track(
      createClient({ port, nick: "alice", reconnect: { initialDelayMs: 50, maxDelayMs: 200 } }),
    );
    await client.connect();
    await client.join("dev");
    const reconnecting = nextEvent(client, "reconnecting");
    await first.server.close({ graceMs: 200 });
    expect((await reconnecting).attempt).toBe(1);
    const { createServer } = await import("../src/index.js");
    const second = createServer();
    await second.listen(port, "127.0.0.1");
    cleanup.push(() => second.close({ graceMs: 200 }));
    const welcome = await nextEvent(client, "welcome");
    expect(welcome.nick).toBe("alice");
    const deadline = Date.now() + 5000;
    while (!client.rooms.includes("dev") && Date.now() < deadline) await nextEvent(client, "frame");
    expect(client.rooms).toEqual(["lobby", "dev"]);
    expect(client.state).toBe("open");
  });

  it("answers server pings, and a silent structured peer is dropped with CHAT_ERR_PING_TIMEOUT", async () => {
    await using s = await startServer({ pingIntervalMs: 100, pingTimeoutMs: 200 });
    const client = track(createClient({ port: s.port }));
    await client.connect();
    await nextEvent(client, "frame:ping");
    const silent = await LineClient.greeted(s.port);
    cleanup.push(() => silent.close());
    silent.send(JSON.stringify({ type: "hello", proto: 1 }));
    await silent.waitFor(/"type":"ping"/);
    expect(await silent.waitFor(/CHAT_ERR_PING_TIMEOUT/)).toMatch(/"type":"error"/);
    await silent.closed;
    expect(client.state).toBe("open");
  });
});
