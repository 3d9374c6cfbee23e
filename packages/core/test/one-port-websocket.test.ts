import { afterAll, describe, expect, it } from "vitest";
import { LineClient, startServer } from "./helpers.js";
import { makeCertificate, removeCertificate } from "./peers.js";
import { JsonWebSocket, RawWebSocket } from "./ws-peers.js";

const hello = (nick: string) => ({ type: "hello", proto: 1, nick });
const isType =
  (type: string, extra: Record<string, unknown> = {}) =>
  (frame: Record<string, unknown>) =>
    frame.type === type && Object.entries(extra).every(([k, v]) => frame[k] === v);

const cert = makeCertificate("tcpchat-ws");
afterAll(() => removeCertificate(cert));

describe("one port: WebSocket members in the same rooms", () => {
  it("a text client, a JSON client and a WebSocket client hear each other in one room", async () => {
    await using s = await startServer({ webSocket: true, sniffTimeoutMs: 100 });
    const text = await LineClient.greeted(s.port);
    const json = await LineClient.open(s.port);
    json.send(JSON.stringify(hello("jsonpal")));
    await json.waitFor(/"type":"welcome"/);
    const web = new JsonWebSocket(`ws://127.0.0.1:${s.port}/ws`);
    await web.opened;
    web.send(hello("webby"));
    const welcome = await web.waitFor(isType("welcome"));
    expect(welcome.nick).toBe("webby");
    await text.waitFor(/webby/);
    await json.waitFor(/"type":"join".*"nick":"webby"/);

    web.send({ type: "send", room: "lobby", text: "hi from the browser", ref: "r1" });
    await web.waitFor(isType("ack", { ref: "r1" }));
    await text.waitFor(/<webby> hi from the browser/);
    await json.waitFor(/"from":"webby","text":"hi from the browser"/);
    text.send("hi from nc");
    await web.waitFor(isType("message", { from: text.nick, text: "hi from nc" }));
    json.send(JSON.stringify({ type: "send", room: "lobby", text: "hi from json" }));
    await web.waitFor(isType("message", { from: "jsonpal", text: "hi from json" }));
    s.server.say("everyone hears the operator");
    await text.waitFor(/everyone hears the operator/);
    await json.waitFor(/everyone hears the operator/);
    await web.waitFor(isType("message", { text: "everyone hears the operator" }));
    expect(
      s.server
        .sessions()
        .map((session) => session.mode)
        .sort(),
    ).toEqual(["structured", "structured", "text"]);
    const metrics = s.server.metrics();
    expect(metrics).toMatch(/tcpchat_connections\{mode="structured",transport="websocket"\} 1/);
    text.close();
    json.close();
    web.close();
  });

  it("a turn's batch is ONE unmasked frame, the same bytes for every WebSocket member", async () => {
    await using s = await startServer({ webSocket: true });
    const one = await RawWebSocket.open(s.port);
    one.send(JSON.stringify(hello("rawone")));
    await one.until((b) => b.includes('"type":"welcome"'));
    const two = await RawWebSocket.open(s.port);
    two.send(JSON.stringify(hello("rawtwo")));
    await two.until((b) => b.includes('"type":"welcome"'));
    await one.until((b) => b.includes('"nick":"rawtwo"'));
    one.bytes = Buffer.alloc(0);
    two.bytes = Buffer.alloc(0);
    // Three events in one turn: one batch.
    s.server.say("first");
    s.server.say("second");
    s.server.say("third");
    await one.until((b) => b.includes("third"));
    await two.until((b) => b.includes("third"));
    const framesOne = one.frames();
    const framesTwo = two.frames();
    expect(framesOne).toHaveLength(1);
    expect(framesOne[0]!.opcode).toBe(1);
    expect(framesOne[0]!.fin).toBe(true);
    expect(framesOne[0]!.masked).toBe(false);
    const lines = framesOne[0]!.payload.toString("utf8").split("\n");
    expect(lines.map((line) => (line === "" ? "" : JSON.parse(line).text))).toEqual([
      "first",
      "second",
      "third",
      "",
    ]);
    expect(framesTwo).toHaveLength(1);
    expect(framesTwo[0]!.raw.equals(framesOne[0]!.raw)).toBe(true);
    one.close();
    two.close();
  });

  it("help is one frame of notices, the same bytes for every WebSocket client", async () => {
    await using s = await startServer({ webSocket: true });
    const answers: Buffer[] = [];
    for (const nick of ["helpone", "helptwo"]) {
      const raw = await RawWebSocket.open(s.port);
      raw.send(JSON.stringify(hello(nick)));
      await raw.until((b) => b.includes('"type":"welcome"'));
      raw.bytes = Buffer.alloc(0);
      raw.send(JSON.stringify({ type: "help" }));
      await raw.until((b) => b.includes("messages to your current room"));
      const frames = raw.frames();
      expect(frames).toHaveLength(1);
      const notices = frames[0]!.payload.toString("utf8").split("\n").filter(Boolean);
      expect(notices.length).toBeGreaterThan(10);
      for (const notice of notices) expect(JSON.parse(notice).type).toBe("notice");
      answers.push(frames[0]!.raw);
      raw.close();
    }
    expect(answers[1]!.equals(answers[0]!)).toBe(true);
  });

  it("a message may hold several frames, the last newline optional", async () => {
    await using s = await startServer({ webSocket: true });
    const web = new JsonWebSocket(`ws://127.0.0.1:${s.port}/ws`);
    await web.opened;
    web.ws.send(
      `${JSON.stringify(hello("multi"))}\n${JSON.stringify({ type: "join", room: "side", ref: "j" })}\n${JSON.stringify({ type: "send", room: "side", text: "two in one", ref: "m" })}`,
    );
    await web.waitFor(isType("welcome"));
    await web.waitFor(isType("ack", { ref: "j" }));
    await web.waitFor(isType("message", { text: "two in one" }));
    web.close();
  });

  it("the same budgets apply: a WebSocket member past its message burst is rate limited", async () => {
    await using s = await startServer({ webSocket: true, messageBurst: 2, messageRate: 1 });
    const web = new JsonWebSocket(`ws://127.0.0.1:${s.port}/ws`);
    await web.opened;
    web.send(hello("hasty"));
    await web.waitFor(isType("welcome"));
    for (let i = 0; i < 4; i += 1)
      web.send({ type: "send", room: "lobby", text: `m${i}`, ref: `r${i}` });
    const error = await web.waitFor(isType("error", { code: "CHAT_ERR_RATE_LIMITED" }));
    expect(error.ref).toBe("r2");
    expect(s.server.stats().rateLimited).toBeGreaterThanOrEqual(2);
    web.close();
  });

  it("the same send-queue rule: a WebSocket member that stops reading is cut off, others go on", async () => {
    await using s = await startServer({ webSocket: true, sendQueueBytes: 256 * 1024 });
    const stuck = await RawWebSocket.open(s.port);
    stuck.send(JSON.stringify(hello("stuck")));
    await stuck.until((b) => b.includes('"type":"welcome"'));
    const reader = new JsonWebSocket(`ws://127.0.0.1:${s.port}/ws`);
    await reader.opened;
    reader.send(hello("reader"));
    await reader.waitFor(isType("welcome"));
    stuck.socket.pause();
    // Enough traffic to fill the kernel's buffers on both ends and then the send queue; one
    // message per turn, so that every turn is a batch of its own.
    const text = "x".repeat(8000);
    for (let i = 0; i < 2000 && s.server.stats().sendQueueCutoffs === 0; i += 1) {
      s.server.say(`${i} ${text}`);
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(s.server.stats().sendQueueCutoffs).toBe(1);
    // Closed within the linger time, although it never reads the close frame.
    await expect
      .poll(() => s.server.sessions().map((session) => session.nick), { timeout: 5000 })
      .toEqual(["reader"]);
    s.server.say("still flowing");
    await reader.waitFor(isType("message", { text: "still flowing" }), 10_000);
    stuck.close();
    reader.close();
  });

  it("a client that sends a close frame and stops reading is retired at once", async () => {
    await using s = await startServer({ webSocket: true, sniffTimeoutMs: 50 });
    const watcher = await LineClient.greeted(s.port);
    const leaver = await RawWebSocket.open(s.port);
    leaver.send(JSON.stringify(hello("leaver")));
    await leaver.until((b) => b.includes('"type":"welcome"'));
    await watcher.waitFor(/leaver/);
    // A masked close frame (status 1000), then the client reads nothing more and sends no FIN:
    // ws would wait 30 s for the closing handshake before it let the socket go.
    const mask = Buffer.from([1, 2, 3, 4]);
    const status = Buffer.from([0x03, 0xe8]);
    leaver.socket.write(
      Buffer.concat([Buffer.from([0x88, 0x82]), mask, status.map((b, i) => b ^ mask[i]!)]),
    );
    leaver.socket.pause();
    // The room hears the departure, and the nick is free, long before that.
    await watcher.waitFor(/<-- leaver/, 3000);
    expect(s.server.sessions().map((session) => session.nick)).not.toContain("leaver");
    const again = new JsonWebSocket(`ws://127.0.0.1:${s.port}/ws`);
    await again.opened;
    again.send(hello("leaver"));
    expect((await again.waitFor(isType("welcome"))).nick).toBe("leaver");
    again.close();
    leaver.socket.destroy();
    watcher.close();
  });

  it("a message longer than the line limit closes the WebSocket with 1009", async () => {
    await using s = await startServer({ webSocket: true, maxLineBytes: 1024 });
    const web = new JsonWebSocket(`ws://127.0.0.1:${s.port}/ws`);
    await web.opened;
    web.ws.send("x".repeat(1024 + 3));
    await web.closed;
    expect(web.closeCode).toBe(1009);
    await expect.poll(() => s.server.sessions().length).toBe(0);
  });

  it("the Origin allow-list refuses other sites' pages with 403 and lets programs through", async () => {
    await using s = await startServer({
      webSocket: { allowedOrigins: ["https://chat.example.org"] },
    });
    const url = `ws://127.0.0.1:${s.port}/ws`;
    const evil = new JsonWebSocket(url, { origin: "https://evil.example.com" });
    await expect(evil.opened).rejects.toThrow(/unexpected response 403/);
    const good = new JsonWebSocket(url, { origin: "https://chat.example.org" });
    await good.opened;
    const program = new JsonWebSocket(url);
    await program.opened;
    expect(s.server.sessions()).toHaveLength(2);
    good.close();
    program.close();
  });

  it("ping liveness drops a peer that never answers and keeps one that does", async () => {
    await using s = await startServer({ webSocket: { pingIntervalMs: 100 } });
    const silent = await RawWebSocket.open(s.port);
    const alive = new JsonWebSocket(`ws://127.0.0.1:${s.port}/ws`);
    await alive.opened;
    await silent.until(() => false, 5000).catch(() => {});
    expect(silent.ended).toBe(true);
    // The raw peer got pings (opcode 9) it never answered.
    expect(silent.frames().some((frame) => frame.opcode === 9)).toBe(true);
    expect(alive.ws.readyState).toBe(alive.ws.OPEN);
    alive.close();
  });

  it("works over TLS on the same port (wss)", async () => {
    await using s = await startServer({ webSocket: true, tls: cert, sniffTimeoutMs: 100 });
    const web = new JsonWebSocket(`wss://localhost:${s.port}/ws`, { ca: cert.cert });
    await web.opened;
    web.send(hello("secureweb"));
    await web.waitFor(isType("welcome"));
    const plain = await LineClient.greeted(s.port);
    plain.send("plain hello");
    await web.waitFor(isType("message", { text: "plain hello" }));
    expect(s.server.metrics()).toMatch(
      /tcpchat_connections\{mode="structured",transport="websocket"\} 1/,
    );
    plain.close();
    web.close();
  });

  it("closes with the server: WebSocket members are told and the close waits for them", async () => {
    const s = await startServer({ webSocket: true });
    const web = new JsonWebSocket(`ws://127.0.0.1:${s.port}/ws`);
    await web.opened;
    web.send(hello("leaving"));
    await web.waitFor(isType("welcome"));
    await s.server.close({ graceMs: 1000, reason: "maintenance" });
    await web.closed;
    expect(web.frames.some(isType("shutdown"))).toBe(true);
    expect(web.closeCode).toBe(1000);
  });
});
