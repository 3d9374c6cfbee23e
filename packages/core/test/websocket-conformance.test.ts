import { randomBytes } from "node:crypto";
import { connect } from "node:net";
import { describe, expect, it } from "vitest";
import { startServer } from "./helpers.js";
import { JsonWebSocket, RawWebSocket } from "./ws-peers.js";

const hello = (nick: string) => ({ type: "hello", proto: 1, nick });
const isType =
  (type: string, extra: Record<string, unknown> = {}) =>
  (frame: Record<string, unknown>) =>
    frame.type === type && Object.entries(extra).every(([k, v]) => frame[k] === v);

/** A client frame on the wire: `first` is the FIN/RSV/opcode byte; masked unless told not to. */
function clientFrame(first: number, payload: Buffer, masked = true): Buffer {
  const header =
    payload.length < 126
      ? Buffer.from([first, payload.length])
      : Buffer.from([first, 126, payload.length >> 8, payload.length & 0xff]);
  if (!masked) return Buffer.concat([header, payload]);
  header[1] = header[1]! | 0x80;
  const mask = randomBytes(4);
  return Buffer.concat([header, mask, payload.map((byte, i) => byte ^ mask[i % 4]!)]);
}

/** The status code of the server's close frame, once the server has closed the socket. */
async function closedWith(raw: RawWebSocket): Promise<number | undefined> {
  await expect.poll(() => raw.ended, { timeout: 5000 }).toBe(true);
  const close = raw.frames().find((frame) => frame.opcode === 8);
  return close === undefined || close.payload.length < 2
    ? undefined
    : close.payload.readUInt16BE(0);
}

describe("WebSocket conformance (RFC 6455) against core's frame reader", () => {
  it("a ws client's fragmented message, with a ping between fragments, is one message", async () => {
    await using s = await startServer({ webSocket: true });
    const web = new JsonWebSocket(`ws://127.0.0.1:${s.port}/ws`);
    await web.opened;
    const line = `${JSON.stringify(hello("fragments"))}\n`;
    web.ws.send(line.slice(0, 10), { fin: false });
    web.ws.ping("mid-message");
    web.ws.send(line.slice(10, 20), { fin: false });
    web.ws.send(line.slice(20), { fin: true });
    expect((await web.waitFor(isType("welcome"))).nick).toBe("fragments");
    web.close();
  });

  it("a ping gets a pong with the same payload", async () => {
    await using s = await startServer({ webSocket: true });
    const web = new JsonWebSocket(`ws://127.0.0.1:${s.port}/ws`);
    await web.opened;
    const pong = new Promise<string>((resolve) =>
      web.ws.once("pong", (data: Buffer) => resolve(data.toString())),
    );
    web.ws.ping("echo me");
    expect(await pong).toBe("echo me");
    web.close();
  });

  it("a client's close code is echoed and the session ends", async () => {
    await using s = await startServer({ webSocket: true });
    const web = new JsonWebSocket(`ws://127.0.0.1:${s.port}/ws`);
    await web.opened;
    web.send(hello("closer"));
    await web.waitFor(isType("welcome"));
    web.ws.close(4321, "done here");
    await web.closed;
    expect(web.closeCode).toBe(4321);
    await expect.poll(() => s.server.sessions().length).toBe(0);
  });

  it("a close with no status is answered with an empty close", async () => {
    await using s = await startServer({ webSocket: true });
    const raw = await RawWebSocket.open(s.port);
    raw.socket.write(clientFrame(0x88, Buffer.alloc(0)));
    await expect.poll(() => raw.ended, { timeout: 5000 }).toBe(true);
    const close = raw.frames().find((frame) => frame.opcode === 8);
    expect(close?.payload.length).toBe(0);
  });

  const malformed: Array<[string, () => Buffer, number]> = [
    ["an unmasked frame", () => clientFrame(0x81, Buffer.from("hi"), false), 1002],
    ["RSV1 set without permessage-deflate", () => clientFrame(0xc1, Buffer.from("hi")), 1002],
    ["an unknown opcode", () => clientFrame(0x83, Buffer.from("hi")), 1002],
    ["a ping of 126 bytes", () => clientFrame(0x89, Buffer.alloc(126, 0x70)), 1002],
    ["a fragmented ping", () => clientFrame(0x09, Buffer.from("p")), 1002],
    ["a continuation with no message", () => clientFrame(0x80, Buffer.from("x")), 1002],
    ["text that is not UTF-8", () => clientFrame(0x81, Buffer.from([0x7b, 0xc3, 0x28])), 1007],
    [
      "a 64-bit length with its top bit set",
      () => Buffer.from([0x81, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4]),
      1002,
    ],
    [
      "a header announcing more than the line limit",
      // Only the header: the server refuses without waiting for the payload.
      () => Buffer.from([0x81, 0xfe, 0x08, 0x00, 1, 2, 3, 4]),
      1009,
    ],
  ];
  for (const [name, bytes, code] of malformed) {
    it(`${name} closes the connection with ${code}`, async () => {
      await using s = await startServer({ webSocket: true, maxLineBytes: 1024 });
      const raw = await RawWebSocket.open(s.port);
      raw.send(JSON.stringify(hello("breaker")));
      await raw.until((b) => b.includes('"type":"welcome"'));
      raw.socket.write(bytes());
      expect(await closedWith(raw)).toBe(code);
      await expect.poll(() => s.server.sessions().length).toBe(0);
    });
  }

  it("the handshake refuses a wrong version with 426 and a malformed key with 400", async () => {
    await using s = await startServer({ webSocket: true });
    const ask = async (headers: string): Promise<string> => {
      const socket = connect({ host: "127.0.0.1", port: s.port });
      let got = "";
      socket.on("data", (chunk: Buffer) => {
        got += chunk.toString("latin1");
      });
      socket.on("error", () => {});
      socket.write(
        `GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n${headers}\r\n`,
      );
      await expect.poll(() => got.includes("\r\n\r\n"), { timeout: 5000 }).toBe(true);
      socket.destroy();
      return got;
    };
    const key = randomBytes(16).toString("base64");
    const wrongVersion = await ask(`Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 12\r\n`);
    expect(wrongVersion).toMatch(/^HTTP\/1\.1 426 /);
    expect(wrongVersion).toMatch(/Sec-WebSocket-Version: 13/);
    const badKey = await ask("Sec-WebSocket-Key: short\r\nSec-WebSocket-Version: 13\r\n");
    expect(badKey).toMatch(/^HTTP\/1\.1 400 /);
    // permessage-deflate is never negotiated, even when offered.
    const offered = await ask(
      `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Extensions: permessage-deflate\r\n`,
    );
    expect(offered).toMatch(/^HTTP\/1\.1 101 /);
    expect(offered).not.toMatch(/Sec-WebSocket-Extensions/i);
  });
});
