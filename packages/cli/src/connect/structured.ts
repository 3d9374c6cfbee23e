import {
  type AckFrame,
  type ChatClient,
  ChatError,
  chatError,
  createClient,
  type ForeignConnection,
  formatTextLine,
  neutralizeFrame,
  parseTextLine,
  type ServerFrame,
  type TlsClientOptions,
  takeForeignConnection,
} from "@tcpchat/core";
import packageJson from "../../package.json" with { type: "json" };
import { EXIT_CODE, exitCodeForError } from "../exit-codes.js";
import { formatHostPort } from "../lan-addresses.js";
import { Pacer } from "./pacer.js";
import { createSessionIo, type SessionIo } from "./session-io.js";

/** Options of {@link runStructured}. */
export interface StructuredOptions {
  /** Speak TLS (see `--tls`). */
  tls?: TlsClientOptions;
  host: string;
  port: number;
  nick?: string;
  room?: string;
  timeoutMs: number;
  timestamps: boolean | undefined;
}

/**
 * How a structured session ended: an exit code, or "this peer is not tcpchat" with the
 * connection to it, for plain line mode to go on with.
 */
export type StructuredOutcome =
  | { exitCode: number }
  | { notTcpchat: ChatError; connection: ForeignConnection | undefined };

const HELP = [
  "*** type a line to say it in the current room; commands:",
  "***   /join ROOM   /part [ROOM]   /nick NAME   /msg NICK TEXT   /me TEXT",
  "***   /who [ROOM]  /rooms   /ping   /quit [REASON]   /help   //TEXT sends /TEXT",
  "***   /history [NICK] [N | since TIME]   /search WORDS   /register PASSWORD   /login NAME PASSWORD",
  "***   /kick NICK [REASON] (operator accounts)",
  "***   /ban NICK|ADDRESS [DURATION] [REASON], /unban ADDRESS (operator accounts)",
  "***   /topic [#ROOM] [TEXT] (shows the topic; setting it: operator accounts)",
  "***   up/down arrows: history; Ctrl+D or Ctrl+C: quit",
].join("\n");

// Codes with which the server ends a session on purpose; it closes right after sending them.
const ENDING_CODES = new Set([
  "CHAT_ERR_KICKED",
  "CHAT_ERR_BANNED",
  "CHAT_ERR_SERVER_SHUTDOWN",
  "CHAT_ERR_SEND_QUEUE_FULL",
  "CHAT_ERR_PING_TIMEOUT",
]);

/** Runs `connect` against a tcpchat server in structured mode (core's ChatClient). */
export async function runStructured(options: StructuredOptions): Promise<StructuredOutcome> {
  const client = createClient({
    host: options.host,
    port: options.port,
    connectTimeoutMs: options.timeoutMs,
    clientName: `tcpchat-cli ${packageJson.version}`,
    ...(options.nick === undefined ? {} : { nick: options.nick }),
    ...(options.room === undefined ? {} : { room: options.room }),
    keepForeignConnection: true,
    ...(options.tls === undefined ? {} : { tls: options.tls }),
  });
  // A broken welcome is reported while connecting, before the session's output exists.
  const early: ChatError[] = [];
  const keep = (error: ChatError) => early.push(error);
  client.on("protocol-error", keep);
  // Room messages (history on join), the room's topic and notices (log in to the nick you
  // brought) that arrive with the welcome come before the session's output exists; the rest
  // (the hello's rename, the member list) the connected line sums up.
  const earlyFrames: ServerFrame[] = [];
  const keepFrame = (frame: ServerFrame) => {
    if (frame.type === "message" || frame.type === "topic" || frame.type === "notice") {
      earlyFrames.push(frame);
    }
  };
  client.on("frame", keepFrame);
  try {
    await client.connect();
  } catch (error) {
    const chatError = error as ChatError;
    if (chatError.code === "CHAT_ERR_NOT_TCPCHAT") {
      return { notTcpchat: chatError, connection: takeForeignConnection(chatError) };
    }
    reportFatal(chatError);
    return { exitCode: exitCodeForError(chatError) };
  }
  client.off("protocol-error", keep);
  client.off("frame", keepFrame);
  return { exitCode: await converse(client, options, early, earlyFrames) };
}

/** How the connected line says the connection is protected. */
function tlsNote(tls: TlsClientOptions | undefined): string {
  if (tls === undefined) return "";
  return tls.insecure === true ? " over TLS, certificate NOT checked (--insecure)" : " over TLS";
}

/** Prints a fatal error as `tcpchat: CODE: message` plus its hint, on stderr. */
export function reportFatal(error: ChatError): void {
  process.stderr.write(`tcpchat: ${error.code}: ${error.message}\n  hint: ${error.hint}\n`);
}

function converse(
  client: ChatClient,
  options: StructuredOptions,
  early: readonly ChatError[],
  earlyFrames: readonly ServerFrame[],
): Promise<number> {
  return new Promise((resolve) => {
    const welcome = client.welcome!;
    // The client has already put defaults in place of missing or bogus limits.
    const pacer = new Pacer(welcome.limits.messageRate, welcome.limits.messageBurst);
    const inFlight = new Set<Promise<unknown>>();
    let ending: ChatError | undefined;
    let quitting = false;
    let done = false;

    const promptFor = () => `#${client.current ?? "-"}> `;
    const io: SessionIo = createSessionIo({
      prompt: promptFor(),
      timestamps: options.timestamps,
      onLine: (line) => handleLine(line),
      onEnd: () => {
        // stdin ended: let what was sent be acknowledged, then leave cleanly.
        void Promise.allSettled([...inFlight]).then(() => quit(undefined, EXIT_CODE.ok));
      },
      onInterrupt: () => quit(undefined, EXIT_CODE.ok),
      // Room messages come back from the server (timestamp, nick); commands stay visible.
      eraseSubmitted: (line) =>
        line.trim() !== "" &&
        (!line.startsWith("/") || line.startsWith("//") || /^\/me\s/i.test(line)),
    });
    const onSigint = () => quit(undefined, EXIT_CODE.interrupted);
    process.on("SIGINT", onSigint);

    const target = `${formatHostPort(options.host, options.port)}${tlsNote(options.tls)}`;
    if (options.nick !== undefined && options.nick.toLowerCase() !== welcome.nick.toLowerCase()) {
      io.status(
        `*** the server did not give you the nick ${options.nick} (taken or reserved); try /nick NAME`,
      );
    }
    io.status(
      `*** connected to ${target} (${welcome.server}); you are ${welcome.nick} in #${welcome.room}. /help lists commands.`,
    );

    const error = (e: ChatError) => io.status(`!!! ${e.code}: ${e.message} (hint: ${e.hint})`);
    // A frame the server got wrong: shown with its code, skipped; the session goes on.
    for (const e of early) error(e);
    client.on("protocol-error", error);
    // Requests leave in the order they were typed (a /who typed after a line answers after it);
    // messages also wait for the pacer. The queue moves on once a request is written, not acked.
    let outbox: Promise<unknown> = Promise.resolve();
    const track = <T>(
      request: () => Promise<T>,
      then?: (value: T) => void,
      paced = false,
    ): void => {
      const written = outbox.then(async () => {
        if (paced) await pacer.take();
        return { answer: request() };
      });
      outbox = written.catch(() => undefined);
      const settled = written.then((w) => w.answer).then(then, error);
      inFlight.add(settled);
      void settled.finally(() => {
        inFlight.delete(settled);
        io.setPrompt(promptFor());
      });
    };

    const onFrame = (frame: ServerFrame): void => {
      if (frame.type === "shutdown")
        ending = chatError("CHAT_ERR_SERVER_SHUTDOWN", {
          message: `The server is shutting down: ${frame.reason}`,
        });
      // An error answering a request is shown once, by the request's own rejection.
      if (frame.type === "error" && frame.ref !== undefined) return;
      // Shown, never run: a server that does not neutralize peers' text (spec 3.4) cannot
      // write escape sequences into this terminal either.
      const text = formatTextLine(neutralizeFrame(frame));
      if (text === null) return;
      const ts = "ts" in frame && typeof frame.ts === "number" ? frame.ts : undefined;
      if (frame.type === "error" || frame.type === "notice" || frame.type === "shutdown")
        io.status(text);
      else io.show(text, ts);
      if (frame.type === "nick" || frame.type === "join" || frame.type === "presence")
        io.setPrompt(promptFor());
      // Backpressure: a stdout nobody reads pauses the client, so TCP holds the server back.
      io.holdWhileFull(client);
    };
    client.on("frame", onFrame);
    for (const frame of earlyFrames) onFrame(frame);
    client.on("server-error", (e) => {
      if (ENDING_CODES.has(e.code)) ending = e;
    });
    client.on("close", ({ error: closeError }) => {
      if (quitting) return;
      const cause = ending ?? closeError;
      if (cause) reportFatal(cause);
      else process.stderr.write("tcpchat: the server closed the connection\n");
      finish(cause ? exitCodeForError(cause) : EXIT_CODE.connectionLost);
    });

    function send(text: string, sendOptions: { action?: boolean } = {}): void {
      track(() => client.send(text, sendOptions), undefined, true);
    }

    function handleLine(line: string): void {
      if (done || quitting) return;
      if (line.trim() === "") return;
      if (!line.startsWith("/") || line.startsWith("//")) {
        send(line.startsWith("//") ? line.slice(1) : line);
        return;
      }
      const match = /^\/(\S+)\s*(.*)$/.exec(line)!;
      const name = match[1]!.toLowerCase();
      const args = match[2]!.trim();
      const [first = "", ...rest] = args.split(/\s+/);
      switch (name) {
        case "me":
          if (args) send(args, { action: true });
          return;
        case "msg": {
          const text = rest.join(" ");
          if (!first || !text) return io.status("!!! usage: /msg NICK TEXT");
          track(
            () => client.dm(first, text),
            (ack: AckFrame) => io.show(`*dm* -> ${first}: ${text}`, ack.ts),
            true,
          );
          return;
        }
        case "join":
          if (!first) return io.status("!!! usage: /join ROOM");
          track(() => client.join(first));
          return;
        case "part":
          track(() => client.part(first || undefined));
          return;
        case "nick":
          if (!first) return io.status("!!! usage: /nick NAME");
          track(() => client.setNick(first));
          return;
        case "who":
          track(() => client.who(first || undefined));
          return;
        case "rooms":
          track(() => client.listRooms());
          return;
        case "ping":
          track(
            () => client.ping(),
            (ms: number) => io.status(`*** pong: ${ms.toFixed(1)} ms round trip`),
          );
          return;
        case "history":
        case "search":
        case "register":
        case "login":
        case "kick":
        case "ban":
        case "unban":
        case "topic": {
          // Core parses these as the server does, so both agree on their arguments.
          const request = parseTextLine(line);
          if (request === null) return;
          if (request instanceof ChatError) return io.status(`!!! ${request.message}`);
          if ((request.type === "register" || request.type === "auth") && !options.tls) {
            io.status(
              "*** warning: this connection is not encrypted, so that password crosses the network in the clear; use --tls to keep it private",
            );
          }
          if (request.type === "history") {
            const { type: _type, ...query } = request;
            track(() => client.history(query));
          } else if (request.type === "search") {
            track(() => client.search(request.text));
          } else if (request.type === "register") {
            track(() => client.register(request.password));
          } else if (request.type === "auth") {
            track(() => client.login(request.name, request.password));
          } else if (request.type === "kick") {
            track(() => client.kick(request.nick, request.reason));
          } else if (request.type === "ban") {
            const { type: _type, target, ...options } = request;
            track(() => client.ban(target, options));
          } else if (request.type === "unban") {
            track(() => client.unban(request.target));
          } else if (request.type === "topic") {
            const { type: _type, ...options } = request;
            track(() => client.topic(options));
          }
          return;
        }
        case "help":
          io.status(HELP);
          return;
        case "quit":
          quit(args || undefined, EXIT_CODE.ok);
          return;
        default:
          io.status(
            `!!! unknown command /${match[1]}; /help lists them (//${match[1]} sends it as text)`,
          );
      }
    }

    function quit(reason: string | undefined, code: number): void {
      if (quitting || done) return;
      quitting = true;
      void client.quit(reason).then(() => finish(code));
    }

    function finish(code: number): void {
      if (done) return;
      done = true;
      process.off("SIGINT", onSigint);
      io.close();
      resolve(code);
    }
  });
}
