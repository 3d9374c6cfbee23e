import { createHash, randomBytes } from "node:crypto";
import { connect, type Socket } from "node:net";
import WebSocket from "ws";

/** A `ws` client that collects every JSON frame it gets; a test waits for one with a deadline. */
export class JsonWebSocket {
  readonly frames: Array<Record<string, unknown>> = [];
  closeCode: number | undefined;
  closeReason = "";
  readonly opened: Promise<void>;
  readonly closed: Promise<void>;

  constructor(
    url: string,
    options: WebSocket.ClientOptions = {},
    readonly ws: WebSocket = new WebSocket(url, options),
  ) {
    ws.on("message", (data: Buffer) => {
      for (const line of data.toString("utf8").split("\n")) {
        if (line !== "") this.frames.push(JSON.parse(line) as Record<string, unknown>);
      }
    });
    ws.on("error", () => {});
    this.opened = new Promise((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("unexpected-response", (_req, res) =>
        reject(new Error(`unexpected response ${res.statusCode}`)),
      );
      ws.once("error", reject);
    });
    this.closed = new Promise((resolve) =>
      ws.on("close", (code: number, reason: Buffer) => {
        this.closeCode = code;
        this.closeReason = reason.toString();
        resolve();
      }),
    );
  }

  send(frame: Record<string, unknown>): void {
    this.ws.send(`${JSON.stringify(frame)}\n`);
  }

  async waitFor(
    match: (frame: Record<string, unknown>) => boolean,
    timeoutMs = 5000,
  ): Promise<Record<string, unknown>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.frames.find(match);
      if (found !== undefined) return found;
      if (Date.now() > deadline) {
        throw new Error(`timed out; got ${JSON.stringify(this.frames)}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  close(): void {
    this.ws.terminate();
  }
}

/**
 * A WebSocket client on a bare socket: it does the handshake itself and keeps every byte the
 * server sends after it, so a test can compare the frames byte for byte. It never answers pings.
 */
export class RawWebSocket {
  bytes = Buffer.alloc(0);
  ended = false;
  private constructor(readonly socket: Socket) {
    socket.on("data", (chunk: Buffer) => {
      this.bytes = Buffer.concat([this.bytes, chunk]);
    });
    socket.on("close", () => {
      this.ended = true;
    });
    socket.on("error", () => {});
  }

  static async open(port: number, path = "/ws"): Promise<RawWebSocket> {
    const key = randomBytes(16).toString("base64");
    const socket = connect({ host: "127.0.0.1", port });
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("error", reject);
    });
    const raw = new RawWebSocket(socket);
    socket.write(
      `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
    const accept = createHash("sha1")
      .update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`)
      .digest("base64");
    const head = await raw.until((bytes) => bytes.indexOf("\r\n\r\n") !== -1);
    const end = head.indexOf("\r\n\r\n") + 4;
    const response = head.subarray(0, end).toString("latin1");
    if (!response.startsWith("HTTP/1.1 101") || !response.includes(accept)) {
      throw new Error(`bad handshake: ${response}`);
    }
    raw.bytes = raw.bytes.subarray(end);
    return raw;
  }

  /** Sends one masked text frame (clients must mask). */
  send(text: string): void {
    const payload = Buffer.from(text, "utf8");
    const mask = randomBytes(4);
    const header =
      payload.length < 126
        ? Buffer.from([0x81, 0x80 | payload.length])
        : Buffer.from([0x81, 0x80 | 126, payload.length >> 8, payload.length & 0xff]);
    const masked = Buffer.from(payload.map((byte, i) => byte ^ mask[i % 4]!));
    this.socket.write(Buffer.concat([header, mask, masked]));
  }

  /** Waits until the bytes received satisfy `done`. */
  async until(done: (bytes: Buffer) => boolean, timeoutMs = 5000): Promise<Buffer> {
    const deadline = Date.now() + timeoutMs;
    while (!done(this.bytes)) {
      if (this.ended || Date.now() > deadline) {
        throw new Error(
          `${this.ended ? "closed" : "timed out"}; got ${this.bytes.toString("latin1")}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return this.bytes;
  }

  /** Splits what was received into frames: opcode and payload (server frames are unmasked). */
  frames(): Array<{ opcode: number; fin: boolean; masked: boolean; payload: Buffer; raw: Buffer }> {
    const out = [];
    let at = 0;
    const bytes = this.bytes;
    while (at + 2 <= bytes.length) {
      const masked = (bytes[at + 1]! & 0x80) !== 0;
      let length = bytes[at + 1]! & 0x7f;
      let header = 2;
      if (length === 126) {
        length = bytes.readUInt16BE(at + 2);
        header = 4;
      } else if (length === 127) {
        length = Number(bytes.readBigUInt64BE(at + 2));
        header = 10;
      }
      if (at + header + length > bytes.length) break;
      out.push({
        opcode: bytes[at]! & 0x0f,
        fin: (bytes[at]! & 0x80) !== 0,
        masked,
        payload: bytes.subarray(at + header, at + header + length),
        raw: bytes.subarray(at, at + header + length),
      });
      at += header + length;
    }
    return out;
  }

  close(): void {
    this.socket.destroy();
  }
}
