import { createServer, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { WebSocketServer } from "ws";
import { textLinesToJsonRequests } from "./json-requests.js";
import {
  checkUpgradeResponse,
  encodeClientFrame,
  encodeClientMessages,
  upgradeRequest,
  WS_OPCODES,
  WsFrameReader,
} from "./ws-frames.js";

/** An unmasked server frame, as RFC 6455 section 5.2 lays it out. */
function serverFrame(opcode: number, payload: Buffer): Buffer {
  const n = payload.length;
  const header =
    n < 126
      ? Buffer.from([0x80 | opcode, n])
      : n < 65536
        ? Buffer.from([0x80 | opcode, 126, n >> 8, n & 0xff])
        : Buffer.concat([Buffer.from([0x80 | opcode, 127, 0, 0, 0, 0]), uint32(n)]);
  return Buffer.concat([header, payload]);
}

function uint32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

/**
 * Reads `data` split as `sizes` says, each piece through one read buffer that is overwritten
 * after every push (as `onread` reuses it); returns the data text and the control frames seen.
 */
function read(data: Buffer, sizes: number[]) {
  let text = "";
  const controls: string[] = [];
  const errors: string[] = [];
  const reader = new WsFrameReader({
    data: (buf, start, end) => {
      text += buf.toString("latin1", start, end);
    },
    control: (opcode, payload) => controls.push(`${opcode}:${payload.toString("latin1")}`),
    error: (reason) => errors.push(reason),
  });
  const readBuffer = Buffer.alloc(data.length);
  let at = 0;
  for (const n of sizes) {
    data.copy(readBuffer, 0, at, at + n);
    reader.push(readBuffer.subarray(0, n));
    readBuffer.fill(0x58);
    at += n;
  }
  return { text, controls, errors };
}

function splitsOf(length: number): number[][] {
  const splits: number[][] = [[length], Array.from({ length }, () => 1)];
  for (let trial = 0; trial < 30; trial++) {
    const sizes: number[] = [];
    let left = length;
    while (left > 0) {
      const n = Math.min(left, 1 + Math.floor(Math.random() * 300));
      sizes.push(n);
      left -= n;
    }
    splits.push(sizes);
  }
  return splits;
}

describe("WsFrameReader", () => {
  it("passes on every payload byte and every control frame, however the stream is split", () => {
    const small = Buffer.from('{"type":"message","text":"hi~"}\n');
    const medium = Buffer.alloc(300, "m");
    const large = Buffer.alloc(70_000, "l");
    const data = Buffer.concat([
      serverFrame(WS_OPCODES.text, small),
      serverFrame(WS_OPCODES.ping, Buffer.from("p1")),
      serverFrame(WS_OPCODES.text, medium),
      serverFrame(WS_OPCODES.text, Buffer.alloc(0)),
      serverFrame(WS_OPCODES.text, large),
      serverFrame(WS_OPCODES.close, Buffer.from([0x03, 0xe8])),
    ]);
    const want = small.toString("latin1") + medium.toString("latin1") + large.toString("latin1");
    for (const sizes of splitsOf(data.length)) {
      const seen = read(data, sizes);
      expect(seen.errors).toEqual([]);
      expect(seen.text.length).toBe(want.length);
      expect(seen.text === want).toBe(true);
      expect(seen.controls).toEqual(["9:p1", "8:\u0003\u00e8"]);
    }
  });

  it("refuses a masked server frame and an oversized control frame", () => {
    const masked = Buffer.from([0x81, 0x82, 0, 0, 0, 0, 0x68, 0x69]);
    expect(read(masked, [masked.length]).errors).toEqual([
      "the server sent a masked frame (RFC 6455 section 5.1)",
    ]);
    const bigPing = serverFrame(WS_OPCODES.ping, Buffer.alloc(126));
    expect(read(bigPing, [bigPing.length]).errors).toEqual([
      "a control frame longer than 125 bytes",
    ]);
  });
});

describe("the load generator's WebSocket client against ws", () => {
  let server: Server | undefined;
  let wss: WebSocketServer | undefined;
  afterEach(async () => {
    wss?.close();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server = undefined;
  });

  it("upgrades, and ws reads its masked frames (all three length forms) as sent", async () => {
    server = createServer();
    wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
    const received: string[] = [];
    const allIn = new Promise<void>((resolve) => {
      server!.on("upgrade", (request, socket, head) => {
        wss!.handleUpgrade(request, socket as Socket, head, (ws) => {
          ws.on("message", (data) => {
            received.push(String(data));
            if (received.length === 3) resolve();
          });
        });
      });
    });
    await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as AddressInfo).port;
    const { connect } = await import("node:net");
    const socket = connect(port, "127.0.0.1");
    const { request, accept } = upgradeRequest("127.0.0.1", port, "/ws");
    socket.write(request);
    const head = await new Promise<string>((resolve) => {
      let text = "";
      socket.on("data", (chunk: Buffer) => {
        text += chunk.toString("latin1");
        if (text.includes("\r\n\r\n")) resolve(text);
      });
    });
    expect(checkUpgradeResponse(head, accept)).toBeNull();
    expect(checkUpgradeResponse(head, "wrong")).toBe(
      "upgrade answered with a wrong Sec-WebSocket-Accept",
    );
    const texts = ["hello", "x".repeat(200), "y".repeat(70_000)];
    for (const text of texts) socket.write(encodeClientFrame(Buffer.from(text)));
    await allIn;
    expect(received).toEqual(texts);
    socket.destroy();
  });

  it("names a refused upgrade by its status line", () => {
    expect(checkUpgradeResponse("HTTP/1.1 403 Forbidden\r\n", "x")).toBe(
      "upgrade refused: HTTP/1.1 403 Forbidden",
    );
  });
});

describe("textLinesToJsonRequests", () => {
  it("makes joins and sends of text-mode lines, escaping what JSON needs", () => {
    const out = textLinesToJsonRequests('/join pair-1\nJ000001^\n\nsay "hi"\\\n');
    expect(out.toString("utf8")).toBe(
      '{"type":"join","room":"pair-1"}\n{"type":"send","text":"J000001^"}\n' +
        '{"type":"send","text":"say \\"hi\\"\\\\"}\n',
    );
    for (const line of out.toString("utf8").trimEnd().split("\n")) JSON.parse(line);
  });
});

describe("encodeClientMessages", () => {
  /** Payloads of masked client frames with a zero key (as encodeClientFrame writes them). */
  function payloads(frames: Buffer): string[] {
    const out: string[] = [];
    let at = 0;
    while (at < frames.length) {
      const short = frames[at + 1]! & 0x7f;
      const lengthBytes = short < 126 ? 0 : short === 126 ? 2 : 8;
      const length =
        short < 126
          ? short
          : short === 126
            ? frames.readUInt16BE(at + 2)
            : frames.readUInt32BE(at + 6);
      const start = at + 2 + lengthBytes + 4;
      out.push(frames.toString("utf8", start, start + length));
      at = start + length;
    }
    return out;
  }

  it("keeps a short write as one message", () => {
    expect(payloads(encodeClientMessages(Buffer.from("a\nb\n"), 8))).toEqual(["a\nb\n"]);
  });

  it("splits a long write into messages of whole lines, none longer than the bound unless one line is", () => {
    const lines = "aaa\nbbb\ncc\ndddddddddddd\ne\n";
    expect(payloads(encodeClientMessages(Buffer.from(lines), 8))).toEqual([
      "aaa\nbbb\n",
      "cc\n",
      "dddddddddddd\n",
      "e\n",
    ]);
  });
});
