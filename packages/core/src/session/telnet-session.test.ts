import { describe, expect, it } from "vitest";
import { TELNET_COMMAND as C, TELNET_OPTION as O } from "../framing/telnet.js";
import { ChatServer } from "../server/chat-server.js";
import { ChatHub } from "./hub.js";
import type { Session } from "./session.js";
import type { Transport } from "./transport.js";

const { IAC, DO, WILL, WONT } = C;
const TM = O.TIMING_MARK;
const BINARY = O.TRANSMIT_BINARY;
const FIRST_SIGHT = [IAC, DO, BINARY, IAC, WILL, O.ECHO, IAC, WONT, O.ECHO];

/** An in-memory transport that keeps the raw bytes the hub writes. */
class MemoryTransport implements Transport {
  written: Buffer[] = [];
  queuedBytes = 0;
  write(chunk: Buffer): void {
    this.written.push(chunk);
  }
  end(last?: Buffer): void {
    if (last) this.written.push(last);
  }
  destroy(): void {}
  pause(): void {}
  resume(): void {}
  bytes(): Buffer {
    return Buffer.concat(this.written);
  }
  /** Text lines, with telnet commands left out. */
  lines(): string[] {
    return this.bytes()
      .toString("latin1")
      .replace(/\xff[\xfb-\xfe][\s\S]/g, "")
      .split("\n")
      .filter((line) => line !== "")
      .map((line) => Buffer.from(line, "latin1").toString("utf8"));
  }
  clear(): void {
    this.written = [];
  }
}

function setup() {
  // Driven synchronously: the whole test is one event-loop turn, so the turn's input time
  // (inputTurnMs, tested over sockets) must not run out on a slow machine.
  const settings = new ChatServer({ inputTurnMs: Number.POSITIVE_INFINITY }).settings;
  const hub = new ChatHub(settings, { emit: () => true, listenerCount: () => 0 });
  const open = (port: number) => {
    const transport = new MemoryTransport();
    const session = hub.open(transport, { address: "127.0.0.1", port });
    return { transport, session };
  };
  const telnet = open(1);
  const listener = open(2);
  hub.receive(listener.session, Buffer.from("/nick listener\n"));
  hub.flush();
  telnet.transport.clear();
  listener.transport.clear();
  const send = (session: Session, ...parts: Array<string | number[]>) => {
    for (const part of parts) {
      hub.receive(session, typeof part === "string" ? Buffer.from(part) : Buffer.from(part));
    }
    hub.flush();
  };
  return { hub, telnet, listener, send };
}

const heard = (t: MemoryTransport) => t.lines().filter((line) => line.startsWith("#lobby <"));

describe("telnet in text mode (hub without sockets)", () => {
  it("answers TIMING-MARK, asks for 8-bit input and reports the mangled line", () => {
    const { telnet, listener, send } = setup();
    // The first line of the session, split where telnet split it: the IAC comes in chunk two.
    const line = Buffer.from(
      "ec9588eb95ed9598ec84b8ecffedfffd069420ed95fff3fffd06eab5adec96b40d0a",
      "hex",
    );
    send(telnet.session, [...line.subarray(0, 4)], [...line.subarray(4)]);
    const out = telnet.transport.bytes();
    expect([...out.subarray(0, FIRST_SIGHT.length + 6)]).toEqual([
      ...FIRST_SIGHT,
      ...[IAC, WILL, TM, IAC, WILL, TM],
    ]);
    expect(telnet.transport.lines()).toContainEqual(
      expect.stringMatching(/^!!! CHAT_ERR_TELNET_MANGLED_LINE: .+\(hint: .*toggle outbinary.*\)$/),
    );
    expect(telnet.transport.lines().some((l) => l.includes("CHAT_ERR_INVALID_UTF8"))).toBe(false);
    expect(heard(listener.transport)).toEqual([]);

    // telnet agrees to binary and the user types the line again: it arrives whole.
    send(telnet.session, [IAC, WILL, BINARY], "안녕하세요 한국어\n");
    expect(heard(listener.transport)).toEqual([
      `#lobby <${telnet.session.nick}> 안녕하세요 한국어`,
    ]);
  });

  it("keeps the lines around the mangled one", () => {
    const { telnet, listener, send } = setup();
    send(telnet.session, "before\nbro", [IAC, C.BRK, IAC, DO, TM], "ken\nafter\n");
    expect(heard(listener.transport).map((l) => l.replace(/^#lobby <\S+> /, ""))).toEqual([
      "before",
      "after",
    ]);
    expect(telnet.transport.lines().filter((l) => l.startsWith("!!! "))).toHaveLength(1);
  });

  it("once telnet sends 8-bit, a typed ^C (IAC IP) drops the line without a notice", () => {
    const { telnet, listener, send } = setup();
    send(telnet.session, [IAC, WILL, BINARY]);
    telnet.transport.clear();
    send(telnet.session, "typo", [IAC, C.IP, IAC, DO, TM], "\nnext\n");
    expect([...telnet.transport.bytes().subarray(0, 3)]).toEqual([IAC, WILL, TM]);
    expect(telnet.transport.lines().filter((l) => l.startsWith("!!! "))).toEqual([]);
    expect(heard(listener.transport).map((l) => l.replace(/^#lobby <\S+> /, ""))).toEqual(["next"]);
  });

  it("never filters a JSON session: 0xFF there is invalid UTF-8, and nothing is negotiated", () => {
    const { telnet, send } = setup();
    send(telnet.session, '{"type":"hello","proto":1', [IAC, C.NOP], "}\n");
    const out = telnet.transport.bytes();
    expect(out.includes(IAC)).toBe(false);
    expect(telnet.session.telnet).toBeUndefined();
    expect(telnet.transport.lines()).toContainEqual(expect.stringMatching(/CHAT_ERR_INVALID_UTF8/));
  });

  it("creates no filter for a text session that never sends 0xFF", () => {
    const { telnet, send } = setup();
    send(telnet.session, "hello\n", "안녕\n");
    expect(telnet.session.telnet).toBeUndefined();
  });
});
