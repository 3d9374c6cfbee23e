import { connect, type Socket } from "node:net";

/** A client's kind in the model-based test: a text line client or a structured JSON client. */
export type Kind = "text" | "json";

/**
 * What a member of a room hears, the same for both kinds: `msg ROOM FROM TEXT`,
 * `join ROOM NICK`, `part ROOM NICK`, `nick OLD NEW`, `dm FROM TEXT`. Everything else (acks,
 * presence, notices, errors, the greeting) is not an event the model predicts.
 */
export type HeardEvent = string;

const TEXT_PATTERNS: Array<[RegExp, (m: RegExpExecArray) => HeardEvent]> = [
  [/^#(\S+) <(\S+)> (.*)$/, (m) => `msg ${m[1]} ${m[2]} ${m[3]}`],
  [/^#(\S+) --> (\S+) joined$/, (m) => `join ${m[1]} ${m[2]}`],
  [/^#(\S+) <-- (\S+) left(?: \(.*\))?$/, (m) => `part ${m[1]} ${m[2]}`],
  [/^\*\*\* (\S+) is now known as (\S+)$/, (m) => `nick ${m[1]} ${m[2]}`],
  [/^\*dm\* <(\S+)> (.*)$/, (m) => `dm ${m[1]} ${m[2]}`],
];

function heardFromText(line: string): HeardEvent | null {
  for (const [pattern, event] of TEXT_PATTERNS) {
    const match = pattern.exec(line);
    if (match !== null) return event(match);
  }
  return null;
}

function heardFromJson(line: string): HeardEvent | null {
  const f = JSON.parse(line) as Record<string, string>;
  switch (f["type"]) {
    case "message":
      return `msg ${f["room"]} ${f["from"]} ${f["text"]}`;
    case "join":
      return `join ${f["room"]} ${f["nick"]}`;
    case "part":
      return `part ${f["room"]} ${f["nick"]}`;
    case "nick":
      return `nick ${f["old"]} ${f["new"]}`;
    case "dm":
      return `dm ${f["from"]} ${f["text"]}`;
    default:
      return null;
  }
}

/** A real client over a real socket that records what it hears, as model events. */
export class ModelClient {
  readonly heard: HeardEvent[] = [];
  readonly lines: string[] = [];
  private buffered = "";
  closed = false;

  private constructor(
    readonly kind: Kind,
    readonly socket: Socket,
  ) {
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      this.buffered += chunk;
      let nl = this.buffered.indexOf("\n");
      while (nl !== -1) {
        this.take(this.buffered.slice(0, nl));
        this.buffered = this.buffered.slice(nl + 1);
        nl = this.buffered.indexOf("\n");
      }
    });
    socket.on("error", () => {});
    socket.on("close", () => {
      this.closed = true;
    });
  }

  /** Connects, reads the greeting and takes `nick` (a text `/nick` or a JSON hello). */
  static async open(port: number, kind: Kind, nick: string): Promise<ModelClient> {
    const socket = connect({ port, host: "127.0.0.1" });
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("error", reject);
    });
    const client = new ModelClient(kind, socket);
    await client.until(() => client.lines.length > 0, "the greeting");
    if (kind === "text") client.write(`/nick ${nick}`);
    else client.write(JSON.stringify({ type: "hello", proto: 1, nick }));
    // Its own arrival is the first event it hears.
    await client.until(() => client.heard.includes(`join lobby ${nick}`), `${nick} to arrive`);
    return client;
  }

  write(line: string): void {
    this.socket.write(`${line}\n`);
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
    const event =
      this.kind === "json" && line.startsWith("{") ? heardFromJson(line) : heardFromText(line);
    // The rename from the guest nick of the greeting is not predicted (the guest is random).
    if (event !== null && !/^nick guest-/.test(event)) this.heard.push(event);
  }
}
