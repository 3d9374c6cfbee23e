import { connect } from "node:net";
import { StringDecoder } from "node:string_decoder";
import { connect as tlsConnect } from "node:tls";
import WebSocket from "ws";
import { parseServerFrames } from "../src/index.js";

/**
 * A client's kind in the model-based test: text lines, JSON lines or JSON over WebSocket, each
 * in the clear, text lines and WebSocket inside TLS on the same port, and a telnet client (text
 * lines with telnet's negotiation in the stream, CRLF line ends, 8-bit once asked for it).
 * `json-runs` is a JSON-lines client that asks for runs of messages (spec 4.6), as the
 * WebSocket client in the clear does (like the browser chat); `json` and `wss` do not.
 */
export type Kind = "text" | "json" | "json-runs" | "ws" | "tls-text" | "wss" | "telnet";

/** Every kind, for the generators. */
export const KINDS: readonly Kind[] = [
  "text",
  "json",
  "json-runs",
  "ws",
  "tls-text",
  "wss",
  "telnet",
];

/** Whether the kind's hello asks for runs of messages as `messages` frames (spec 4.6). */
export function asksForRuns(kind: Kind): boolean {
  return kind === "json-runs" || kind === "ws";
}

/** Whether the kind speaks the text protocol (commands as `/lines`), not JSON frames. */
export function speaksText(kind: Kind): boolean {
  return kind === "text" || kind === "tls-text" || kind === "telnet";
}

/** Whether the kind is carried by WebSocket frames. */
export function overWebSocket(kind: Kind): boolean {
  return kind === "ws" || kind === "wss";
}

/** Where the model's clients connect: the one port, and the CA that signed its certificate. */
export interface ModelTarget {
  port: number;
  ca: string;
}

/**
 * What a member of a room hears, the same for both kinds: `msg ROOM FROM TEXT`,
 * `join ROOM NICK`, `part ROOM NICK`, `nick OLD NEW`, `dm FROM TEXT`, `hist ROOM FROM TEXT` for
 * a room message from history (on join, or asked for), and `topic ROOM TEXT` (TEXT empty: the
 * topic was cleared) when the topic changes or on joining a room that has one. A member an
 * operator kicked or banned is heard leaving as `kick ROOM NICK` or `ban ROOM NICK` (its part
 * carries the operator's reason). A stored DM sent for a `history` request with a nick is
 * `dmhist FROM TO TEXT`, with ` id=ID` for JSON clients (text lines show no id). Everything else (acks,
 * presence, notices, errors, the greeting) is not an event the model predicts.
 */
export type HeardEvent = string;

const TEXT_PATTERNS: Array<[RegExp, (m: RegExpExecArray) => HeardEvent]> = [
  [/^#(\S+) \[history \d\d-\d\d \d\d:\d\dZ\] <(\S+)> (.*)$/, (m) => `hist ${m[1]} ${m[2]} ${m[3]}`],
  [/^#(\S+) <(\S+)> (.*)$/, (m) => `msg ${m[1]} ${m[2]} ${m[3]}`],
  [/^#(\S+) --> (\S+) joined$/, (m) => `join ${m[1]} ${m[2]}`],
  [/^#(\S+) <-- (\S+) left \(kicked by [^)]*\)$/, (m) => `kick ${m[1]} ${m[2]}`],
  [/^#(\S+) <-- (\S+) left \(banned by [^)]*\)$/, (m) => `ban ${m[1]} ${m[2]}`],
  [/^#(\S+) <-- (\S+) left(?: \(.*\))?$/, (m) => `part ${m[1]} ${m[2]}`],
  [/^\*\*\* (\S+) is now known as (\S+)$/, (m) => `nick ${m[1]} ${m[2]}`],
  [/^\*dm\* <(\S+)> (.*)$/, (m) => `dm ${m[1]} ${m[2]}`],
  [
    /^\*dm\* \[history \d\d-\d\d \d\d:\d\dZ\] <(\S+)> -> (\S+): (.*)$/,
    (m) => `dmhist ${m[1]} ${m[2]} ${m[3]}`,
  ],
  [
    /^\*\*\* topic of #(\S+): (.*) \(set by \S+ \d\d-\d\d \d\d:\d\dZ\)$/,
    (m) => `topic ${m[1]} ${m[2]}`,
  ],
  [/^\*\*\* #(\S+) has no topic$/, (m) => `topic ${m[1]} `],
];

function heardFromText(line: string): HeardEvent | null {
  for (const [pattern, event] of TEXT_PATTERNS) {
    const match = pattern.exec(line);
    if (match !== null) return event(match);
  }
  return null;
}

/** `kick` or `ban` when a part's reason says an operator removed the member. */
function operatorRemoval(reason: string | undefined): "kick" | "ban" | undefined {
  if (reason?.startsWith("kicked by ")) return "kick";
  if (reason?.startsWith("banned by ")) return "ban";
  return undefined;
}

/**
 * The events of one JSON line: one, or one per message of a run (spec 4.6), which core's
 * parser expands into the `message` frames it stands for.
 */
function heardFromJson(line: string): HeardEvent[] {
  if (!line.startsWith('{"type":"messages"')) {
    const event = heardFromFrame(JSON.parse(line) as Record<string, string>);
    return event === null ? [] : [event];
  }
  const { frames, error } = parseServerFrames(line);
  if (error !== undefined) throw error;
  return frames.flatMap((frame) => {
    const event = heardFromFrame(frame as unknown as Record<string, string>);
    return event === null ? [] : [event];
  });
}

function heardFromFrame(f: Record<string, string>): HeardEvent | null {
  switch (f["type"]) {
    case "message":
      return `${f["history"] ? "hist" : "msg"} ${f["room"]} ${f["from"]} ${f["text"]}`;
    case "join":
      return `join ${f["room"]} ${f["nick"]}`;
    case "part":
      return `${operatorRemoval(f["reason"]) ?? "part"} ${f["room"]} ${f["nick"]}`;
    case "nick":
      return `nick ${f["old"]} ${f["new"]}`;
    case "dm":
      // A stored DM (a `history` request with a nick) carries its id, which the model knows.
      return f["history"]
        ? `dmhist ${f["from"]} ${f["to"]} ${f["text"]} id=${f["id"]}`
        : `dm ${f["from"]} ${f["text"]}`;
    case "topic":
      return `topic ${f["room"]} ${f["text"]}`;
    default:
      return null;
  }
}

/** How the model drives one connection, whatever carries it. */
interface Link {
  write(line: string): void;
  /** Stops reading: what the server sends waits in the kernel (TCP flow control). */
  pause(): void;
  resume(): void;
  /** Closes cleanly (FIN, or a WebSocket close). */
  end(): void;
  /** Closes abruptly (RST, or a dropped WebSocket). */
  reset(): void;
}

/** A real client (a TCP socket, or a WebSocket on the same port) that records what it hears. */
export class ModelClient {
  readonly heard: HeardEvent[] = [];
  readonly lines: string[] = [];
  private buffered = "";
  /** Set once its own arrival was heard: later renames from a guest nick are events. */
  private arrived = false;
  closed = false;
  private link: Link | undefined;

  private constructor(readonly kind: Kind) {}

  /**
   * Connects and takes `nick`: a text client reads the greeting and sends `/nick`, a JSON client
   * reads the greeting and sends a hello, a WebSocket client sends a hello at once. From
   * `localAddress` when given (another loopback address: a peer apart from the others).
   */
  static async open(
    target: ModelTarget,
    kind: Kind,
    nick: string,
    localAddress?: string,
  ): Promise<ModelClient> {
    const client = new ModelClient(kind);
    if (overWebSocket(kind)) {
      client.link = await client.openWebSocket(target, kind === "wss", localAddress);
    } else {
      client.link = await client.openTcp(
        target,
        kind === "tls-text",
        kind === "telnet",
        localAddress,
      );
      await client.until(() => client.lines.length > 0, "the greeting");
    }
    if (speaksText(kind)) client.write(`/nick ${nick}`);
    else {
      const runs = asksForRuns(kind) ? { compact: true } : {};
      client.write(JSON.stringify({ type: "hello", proto: 1, nick, ...runs }));
    }
    // Its own arrival is the first event it hears.
    await client.until(() => client.heard.includes(`join lobby ${nick}`), `${nick} to arrive`);
    client.arrived = true;
    return client;
  }

  write(line: string): void {
    this.link!.write(line);
  }

  /** Writes several lines at once: one TCP write, or one WebSocket message. */
  writeLines(lines: readonly string[]): void {
    this.link!.write(lines.join(this.kind === "telnet" ? "\r\n" : "\n"));
  }

  pause(): void {
    this.link!.pause();
  }

  resume(): void {
    this.link!.resume();
  }

  end(): void {
    this.link!.end();
  }

  reset(): void {
    this.link!.reset();
  }

  private async openTcp(
    target: ModelTarget,
    secure: boolean,
    telnet: boolean,
    localAddress: string | undefined,
  ): Promise<Link> {
    // The TCP socket is kept apart from TLS on it, because only a TCP handle can be reset.
    const tcp = connect({ port: target.port, host: "127.0.0.1", localAddress });
    await new Promise<void>((resolve, reject) => {
      tcp.once("connect", resolve);
      tcp.once("error", reject);
    });
    const socket = secure
      ? tlsConnect({ socket: tcp, ca: target.ca, servername: "localhost" })
      : tcp;
    if (secure) {
      await new Promise<void>((resolve, reject) => {
        socket.once("secureConnect", resolve);
        socket.once("error", reject);
      });
    }
    tcp.on("error", () => {});
    let lines = 0;
    if (telnet) {
      const peer = new TelnetPeer((reply) => socket.write(reply));
      const text = new StringDecoder("utf8");
      socket.on("data", (chunk: Buffer) => this.receive(text.write(peer.filter(chunk))));
      // What inetutils telnet sends first: it is a telnet client before it types anything.
      socket.write(TelnetPeer.OPENING);
    } else {
      socket.setEncoding("utf8");
      socket.on("data", (chunk: string) => this.receive(chunk));
    }
    socket.on("error", () => {});
    socket.on("close", () => {
      this.closed = true;
    });
    return {
      // telnet ends a typed line with CR LF, and reports a resized window (NAWS) between lines.
      write: (line) =>
        telnet
          ? socket.write(Buffer.concat([TelnetPeer.resized(++lines), Buffer.from(`${line}\r\n`)]))
          : socket.write(`${line}\n`),
      pause: () => socket.pause(),
      resume: () => socket.resume(),
      end: () => socket.end(),
      reset: () => tcp.resetAndDestroy(),
    };
  }

  private async openWebSocket(
    target: ModelTarget,
    secure: boolean,
    localAddress: string | undefined,
  ): Promise<Link> {
    const ws = secure
      ? new WebSocket(`wss://127.0.0.1:${target.port}/ws`, { ca: target.ca, localAddress })
      : new WebSocket(`ws://127.0.0.1:${target.port}/ws`, { localAddress });
    await new Promise<void>((resolve, reject) => {
      ws.once("open", resolve);
      ws.once("error", reject);
    });
    // A message holds one or more frames separated by newlines, the last newline optional.
    ws.on("message", (data: Buffer) =>
      this.receive(`${data.toString("utf8").replace(/\n?$/, "\n")}`),
    );
    ws.on("error", () => {});
    ws.on("close", () => {
      this.closed = true;
    });
    return {
      write: (line) => ws.send(line),
      pause: () => ws.pause(),
      resume: () => ws.resume(),
      end: () => ws.close(),
      reset: () => ws.terminate(),
    };
  }

  private receive(chunk: string): void {
    this.buffered += chunk;
    let nl = this.buffered.indexOf("\n");
    while (nl !== -1) {
      this.take(this.buffered.slice(0, nl));
      this.buffered = this.buffered.slice(nl + 1);
      nl = this.buffered.indexOf("\n");
    }
  }

  /** Polls until the condition holds (no fixed sleeps); fails with what was heard. */
  async until(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      if (Date.now() > deadline) {
        throw new Error(`timed out waiting for ${what}; heard:\n${this.heard.join("\n")}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  }

  private take(line: string): void {
    this.lines.push(line);
    const text = heardFromText(line);
    const events =
      !speaksText(this.kind) && line.startsWith("{")
        ? heardFromJson(line)
        : text === null
          ? []
          : [text];
    for (const event of events) {
      // The rename from the guest nick of the greeting is not predicted (the guest is random);
      // a member renamed to a guest nick later (its nick's owner logged in) may rename again.
      if (this.arrived || !/^nick guest-/.test(event)) this.heard.push(event);
    }
  }
}

const IAC = 255;
const WILL = 251;
const WONT = 252;
const DO = 253;
const DONT = 254;
const SB = 250;
const SE = 240;
const OPTION = { binary: 0, echo: 1, suppressGoAhead: 3, terminalType: 24, windowSize: 31 };

/**
 * The telnet side of the model's telnet client: takes commands out of what the server sends and
 * answers its negotiation the way inetutils telnet does (8-bit input when asked, its echo
 * switched by the server's WILL/WONT ECHO), so the server sees a real client's command stream.
 */
class TelnetPeer {
  /** DO SUPPRESS-GO-AHEAD, WILL TERMINAL-TYPE, WILL NAWS: inetutils telnet's opening. */
  static readonly OPENING = Buffer.from([
    IAC,
    DO,
    OPTION.suppressGoAhead,
    IAC,
    WILL,
    OPTION.terminalType,
    IAC,
    WILL,
    OPTION.windowSize,
  ]);
  /** A window-size report (RFC 1073), as telnet sends when its terminal is resized. */
  static resized(width: number): Buffer {
    return Buffer.from([IAC, SB, OPTION.windowSize, 0, 40 + (width % 200), 0, 24, IAC, SE]);
  }
  /** Bytes of a command split across chunks, kept for the next one. */
  private pending: number[] = [];

  constructor(private readonly answer: (reply: Buffer) => void) {}

  /** The chunk's data bytes; commands are answered or dropped. */
  filter(chunk: Buffer): Buffer {
    const bytes =
      this.pending.length > 0 ? Buffer.concat([Buffer.from(this.pending), chunk]) : chunk;
    this.pending = [];
    const data: number[] = [];
    let i = 0;
    while (i < bytes.length) {
      const byte = bytes[i]!;
      if (byte !== IAC) {
        data.push(byte);
        i += 1;
        continue;
      }
      const command = bytes[i + 1];
      if (command === undefined) break;
      if (command === IAC) {
        data.push(IAC);
        i += 2;
      } else if (command >= WILL && command <= DONT) {
        const option = bytes[i + 2];
        if (option === undefined) break;
        this.negotiate(command, option);
        i += 3;
      } else if (command === SB) {
        const end = bytes.indexOf(SE, i + 2);
        if (end === -1) break;
        i = end + 1;
      } else {
        i += 2;
      }
    }
    if (i < bytes.length) this.pending = [...bytes.subarray(i)];
    return Buffer.from(data);
  }

  private negotiate(command: number, option: number): void {
    let reply: number;
    if (command === DO) reply = option === OPTION.binary ? WILL : WONT;
    else if (command === WILL)
      reply = option === OPTION.echo || option === OPTION.suppressGoAhead ? DO : DONT;
    else reply = command === WONT ? DONT : WONT;
    this.answer(Buffer.from([IAC, reply, option]));
  }
}
