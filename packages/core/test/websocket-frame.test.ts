import type { EventEmitter } from "node:events";
import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import {
  encodeTextFrame,
  encodeTextFrameBytes,
  textFrameHeaderBytes,
} from "../src/framing/websocket-frame.js";

/** ws's frame parser (exported by the package, not declared by @types/ws). */
const { Receiver } = createRequire(import.meta.url)("ws") as {
  Receiver: new (options: {
    isServer: boolean;
    maxPayload: number;
  }) => EventEmitter & { write(chunk: Buffer): void };
};

/** Parses frames with ws's own client-side Receiver, fed whole or byte by byte. */
function receive(bytes: Buffer, byteByByte: boolean): string[] {
  const messages: string[] = [];
  const receiver = new Receiver({ isServer: false, maxPayload: 0 });
  receiver.on("message", (data: Buffer, isBinary: boolean) => {
    expect(isBinary).toBe(false);
    messages.push(data.toString("utf8"));
  });
  receiver.on("error", (error: Error) => {
    throw error;
  });
  if (byteByByte) for (const byte of bytes) receiver.write(Buffer.from([byte]));
  else receiver.write(bytes);
  return messages;
}

const TEXTS = [
  "",
  "x",
  '{"type":"message","text":"안녕하세요"}\n',
  "a".repeat(125),
  "a".repeat(126),
  "가".repeat(100),
  "b".repeat(65535),
  "c".repeat(65536),
  "d".repeat(70_000),
];

describe("encodeTextFrame", () => {
  for (const text of TEXTS) {
    const name = `${Buffer.byteLength(text)} bytes`;
    it(`${name}: a peer's WebSocket parser reads it back, whole and byte by byte`, () => {
      const frame = encodeTextFrame(text);
      expect(frame.length).toBe(
        textFrameHeaderBytes(Buffer.byteLength(text)) + Buffer.byteLength(text),
      );
      expect(receive(frame, false)).toEqual([text]);
      if (text.length < 2000) expect(receive(frame, true)).toEqual([text]);
      expect(encodeTextFrameBytes(Buffer.from(text, "utf8")).equals(frame)).toBe(true);
    });
  }

  it("is unmasked, final and text: FIN|text, no mask bit", () => {
    const frame = encodeTextFrame("hi");
    expect([...frame]).toEqual([0x81, 2, 0x68, 0x69]);
    expect(textFrameHeaderBytes(125)).toBe(2);
    expect(textFrameHeaderBytes(126)).toBe(4);
    expect(textFrameHeaderBytes(65535)).toBe(4);
    expect(textFrameHeaderBytes(65536)).toBe(10);
  });

  it("several frames written back to back are several messages", () => {
    const bytes = Buffer.concat([encodeTextFrame("one\n"), encodeTextFrame("two\n")]);
    expect(receive(bytes, true)).toEqual(["one\n", "two\n"]);
  });
});
