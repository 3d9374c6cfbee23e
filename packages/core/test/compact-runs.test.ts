import { describe, expect, it } from "vitest";
import { createClient, type MessageFrame, parseServerFrames } from "../src/index.js";
import { LineClient, startServer } from "./helpers.js";
import { RawWebSocket } from "./ws-peers.js";

const hello = (nick: string, compact: boolean) => ({ type: "hello", proto: 1, nick, compact });
const SAID = ["one", "two", "three"];

/** The frames of JSON lines, runs expanded (what a compact client makes of them). */
function framesOf(lines: readonly string[]): Array<Record<string, unknown>> {
  return lines.flatMap((line) => parseServerFrames(line).frames) as Array<Record<string, unknown>>;
}

describe("runs of messages for compact clients (spec 4.6), over real sockets", () => {
  it("a turn's three messages reach compact JSON and WebSocket clients as one run, others as three frames, the same messages", async () => {
    await using s = await startServer({ webSocket: true });
    const plain = await LineClient.open(s.port);
    await plain.waitFor(/^\*\*\* tcpchat\/1 /);
    plain.send(JSON.stringify(hello("plainjson", false)));
    const plainWelcome = JSON.parse(await plain.waitFor(/"type":"welcome"/));
    expect(plainWelcome.compact).toBeUndefined();
    const compact = await LineClient.open(s.port);
    await compact.waitFor(/^\*\*\* tcpchat\/1 /);
    compact.send(JSON.stringify(hello("compactjson", true)));
    expect(JSON.parse(await compact.waitFor(/"type":"welcome"/)).compact).toBe(true);
    const web = await RawWebSocket.open(s.port);
    web.send(JSON.stringify(hello("compactweb", true)));
    await web.until((b) => b.includes('"type":"welcome"'));
    const text = await LineClient.greeted(s.port);
    await web.until((b) => b.includes(`"nick":"${text.nick}"`));
    await compact.waitFor(new RegExp(`"nick":"${text.nick}"`));
    web.bytes = Buffer.alloc(0);
    const compactFrom = compact.lines.length;
    const plainFrom = plain.lines.length;

    // Three lines in one write: one read, one turn, one batch of three messages.
    text.socket.write(`${SAID.join("\n")}\n`);
    await text.waitFor(/<\S+> three$/);
    const runLine = await compact.waitFor(/"type":"messages"/, 5000, compactFrom);
    const run = JSON.parse(runLine);
    expect(run).toMatchObject({ room: "lobby", items: expect.any(Array) });
    expect(run.items.map((item: unknown[]) => item[3])).toEqual(SAID);
    await plain.waitFor(/"text":"three"/, 5000, plainFrom);
    const plainMessages = framesOf(plain.lines.slice(plainFrom)).filter(
      (f) => f.type === "message",
    );
    expect(plain.lines.slice(plainFrom).some((line) => line.includes('"messages"'))).toBe(false);
    const compactMessages = framesOf(compact.lines.slice(compactFrom)).filter(
      (f) => f.type === "message",
    );
    expect(compactMessages).toEqual(plainMessages);
    expect(compactMessages.map((m) => m.text)).toEqual(SAID);

    await web.until((b) => b.includes("three"));
    const frames = web.frames();
    expect(frames).toHaveLength(1);
    const webLines = frames[0]!.payload.toString("utf8").split("\n").filter(Boolean);
    expect(webLines).toEqual([runLine]);
    // The compact run is smaller than the three lines it stands for.
    const plainBytes = plain.lines
      .slice(plainFrom)
      .filter((line) => line.includes('"type":"message"'))
      .reduce((sum, line) => sum + line.length + 1, 0);
    expect(runLine.length + 1).toBeLessThan(plainBytes);
    for (const client of [plain, compact, text]) client.close();
    web.close();
  });

  it("ChatClient asks for runs and hands each message of one to its listeners, in order", async () => {
    await using s = await startServer();
    const client = createClient({ port: s.port, nick: "listener" });
    const welcome = await client.connect();
    expect(welcome.compact).toBe(true);
    const heard: MessageFrame[] = [];
    client.on("frame:message", (message) => heard.push(message));
    const text = await LineClient.greeted(s.port);
    text.socket.write(`${SAID.join("\n")}\n`);
    const deadline = Date.now() + 5000;
    while (heard.length < SAID.length && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(heard.map((m) => [m.from, m.text])).toEqual(SAID.map((said) => [text.nick, said]));
    expect(new Set(heard.map((m) => m.id)).size).toBe(SAID.length);
    text.close();
    await client.quit();
  });
});
