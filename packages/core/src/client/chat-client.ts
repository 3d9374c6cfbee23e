import { EventEmitter } from "node:events";
import type { Socket } from "node:net";
import * as defaults from "../defaults.js";
import {
  type ChatError,
  chatError,
  FramingError,
  isChatErrorCode,
  ProtocolError,
} from "../errors.js";
import { LineDecoder } from "../framing/line-decoder.js";
import { encodeLine } from "../framing/line-encoder.js";
import type {
  AckFrame,
  ClientFrame,
  PresenceFrame,
  RoomsFrame,
  ServerFrame,
  ServerFrameType,
  WelcomeFrame,
} from "../protocol/frames.js";
import { parseErrorLine, parseGreeting } from "../protocol/lines.js";
import { parseServerFrames } from "../protocol/parse-server.js";
import { connectTcp, type TlsClientOptions } from "../transport/tcp-connect.js";
import { classifyConnectError } from "./classify-error.js";
import { backoffDelay, type ReconnectOptions, resolveReconnect } from "./reconnect.js";

/** Client lifecycle (as const, not an enum). */
export const CLIENT_STATE = {
  idle: "idle",
  connecting: "connecting",
  open: "open",
  reconnecting: "reconnecting",
  closed: "closed",
} as const;
export type ClientState = (typeof CLIENT_STATE)[keyof typeof CLIENT_STATE];

/** Options of {@link ChatClient}. */
export interface ChatClientOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 3000. */
  port?: number;
  /** Nick to ask for in the hello (default: the server's guest nick). */
  nick?: string;
  /** Room to start in (default: the server's default room). */
  room?: string;
  /** Connect deadline in ms (default 5000). */
  connectTimeoutMs?: number;
  /**
   * How long to wait for the server's greeting and welcome once connected, in ms (default:
   * connectTimeoutMs).
   */
  greetingTimeoutMs?: number;
  /** How long a request waits for its ack in ms (default 10000). */
  ackTimeoutMs?: number;
  /** Local address to bind. */
  localAddress?: string;
  /** Sent in the hello, for the server's logs. */
  clientName?: string;
  /** Reconnect after an unexpected close, with jittered exponential backoff (default off). */
  reconnect?: boolean | ReconnectOptions;
  /**
   * When the peer turns out not to be a tcpchat server, hand its connection over instead of
   * closing it (default false): `connect()` then rejects with a `CHAT_ERR_NOT_TCPCHAT` error
   * that {@link takeForeignConnection} opens. For peers that accept one connection only.
   */
  keepForeignConnection?: boolean;
  /**
   * Cap on the length of a line from the server, in bytes (default 1 MiB). Below the cap the
   * limit follows the server: its advertised `maxLineBytes` times
   * {@link defaults.CLIENT_LINE_ENVELOPE_FACTOR}, plus {@link defaults.CLIENT_LINE_HEADROOM_BYTES}.
   */
  maxLineBytes?: number;
  /**
   * Speak TLS: trust `ca` (PEM) instead of the system's CAs, or skip the check with `insecure`.
   * A failed handshake rejects `connect` with a `CHAT_ERR_TLS_*` code.
   */
  tls?: TlsClientOptions;
}

/**
 * A connection to a peer that is not a tcpchat server, handed over by `connect()`: the socket
 * (paused, with no listeners of the client left, half-open allowed) and the bytes it has sent
 * so far. `ended` is true when the peer has already closed its side.
 */
export interface ForeignConnection {
  readonly socket: Socket;
  readonly received: Buffer;
  readonly ended: boolean;
}

const FOREIGN = Symbol("foreign connection");

/**
 * The connection a `CHAT_ERR_NOT_TCPCHAT` rejection handed over (with `keepForeignConnection`),
 * or undefined. The caller owns it from then on.
 */
export function takeForeignConnection(error: unknown): ForeignConnection | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const holder = error as { [FOREIGN]?: ForeignConnection };
  const connection = holder[FOREIGN];
  delete holder[FOREIGN];
  return connection;
}

/** Argument of the `reconnecting` event. */
export interface ReconnectingEvent {
  attempt: number;
  delayMs: number;
  error: ChatError;
}

/** Argument of the `close` event: the error that ended the connection, if it was not a quit. */
export interface CloseEvent {
  error?: ChatError;
}

/** Prefix of the per-type frame events: `frame:message`, `frame:presence`, ... */
export const FRAME_EVENT_PREFIX = "frame:";

/**
 * Events of {@link ChatClient}. The client's own events have plain names; frames from the server
 * come only as `frame` and as `frame:<type>`, so no frame a server sends (say `{"type":"close"}`)
 * can pass for one of the client's own events.
 */
export type ChatClientEvents = {
  /** The connection state changed. */
  state: [ClientState];
  /** The server welcomed this client (first connect and each reconnect). */
  welcome: [WelcomeFrame];
  /** A reconnect is scheduled. */
  reconnecting: [ReconnectingEvent];
  /** The connection is over for good (quit, or lost with reconnecting off or given up). */
  close: [CloseEvent];
  /** A non-fatal error frame that answers no request of this client. */
  "server-error": [ChatError];
  /**
   * The server broke the protocol: a line that is not a valid frame
   * (`CHAT_ERR_BAD_SERVER_FRAME`), over the client's line limit (`CHAT_ERR_LINE_TOO_LONG`) or
   * not UTF-8 (`CHAT_ERR_INVALID_UTF8`). The line was skipped; the connection goes on.
   */
  "protocol-error": [ChatError];
  /** Every valid frame from the server, after the client has applied it. */
  frame: [ServerFrame];
} & {
  [K in ServerFrameType as `${typeof FRAME_EVENT_PREFIX}${K}`]: [Extract<ServerFrame, { type: K }>];
};

/**
 * The longest line a client accepts from a server that advertises `serverMaxLineBytes`: room for
 * a message of that many bytes escaped as JSON, plus headroom, never more than `cap`.
 */
export function clientLineLimit(serverMaxLineBytes: number, cap: number): number {
  const envelope =
    serverMaxLineBytes * defaults.CLIENT_LINE_ENVELOPE_FACTOR + defaults.CLIENT_LINE_HEADROOM_BYTES;
  return Math.max(1, Math.floor(Math.min(cap, envelope)));
}

interface Pending {
  resolve(frame: AckFrame): void;
  reject(error: ChatError): void;
  timer: NodeJS.Timeout;
}

/**
 * A structured-mode (JSON lines) client. Connection failures are classified
 * ({@link classifyConnectError}); a policy refusal rejects `connect` with a `RemoteError`.
 *
 * Every line from the server is validated against the frame schema; an invalid one is reported
 * as `protocol-error` and skipped. Events: see {@link ChatClientEvents}. A consumer that cannot
 * keep up calls {@link ChatClient.pause} and {@link ChatClient.resume}: while paused the client
 * reads nothing from its socket, so TCP flow control holds the server back.
 */
export class ChatClient extends EventEmitter<ChatClientEvents> {
  state: ClientState = CLIENT_STATE.idle;
  welcome: WelcomeFrame | undefined;
  nick: string | undefined;
  private joined: string[] = [];
  current: string | undefined;
  private socket: Socket | undefined;
  private readonly pending = new Map<string, Pending>();
  private readonly presence = new Map<string, PresenceFrame>();
  private lastRooms: RoomsFrame | undefined;
  private nextRef = 0;
  private quitting = false;
  private attempt = 0;
  private paused = false;
  private decoder: LineDecoder | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private readonly options: Required<
    Omit<ChatClientOptions, "nick" | "room" | "localAddress" | "reconnect" | "tls">
  > &
    Pick<ChatClientOptions, "nick" | "room" | "localAddress" | "tls">;
  private readonly reconnect: Required<ReconnectOptions> | undefined;

  constructor(options: ChatClientOptions = {}) {
    super();
    this.options = {
      host: options.host ?? "127.0.0.1",
      port: options.port ?? defaults.DEFAULT_PORT,
      connectTimeoutMs: options.connectTimeoutMs ?? defaults.DEFAULT_CONNECT_TIMEOUT_MS,
      ackTimeoutMs: options.ackTimeoutMs ?? defaults.DEFAULT_ACK_TIMEOUT_MS,
      greetingTimeoutMs:
        options.greetingTimeoutMs ??
        options.connectTimeoutMs ??
        defaults.DEFAULT_CONNECT_TIMEOUT_MS,
      clientName: options.clientName ?? `@tcpchat/core ${defaults.SERVER_SOFTWARE}`,
      maxLineBytes: options.maxLineBytes ?? defaults.DEFAULT_CLIENT_MAX_LINE_BYTES,
      keepForeignConnection: options.keepForeignConnection ?? false,
      ...(options.nick === undefined ? {} : { nick: options.nick }),
      ...(options.room === undefined ? {} : { room: options.room }),
      ...(options.localAddress === undefined ? {} : { localAddress: options.localAddress }),
      ...(options.tls === undefined ? {} : { tls: options.tls }),
    };
    this.reconnect = resolveReconnect(options.reconnect);
  }

  /** The room messages go to by default (the last one joined). */
  get currentRoom(): string | undefined {
    return this.current;
  }

  /** Rooms this client is in. */
  get rooms(): readonly string[] {
    return this.joined;
  }

  /** The longest line currently accepted from the server, in bytes. */
  get maxLineBytes(): number {
    return this.decoder?.maxLineBytes ?? this.handshakeLineLimit();
  }

  /** Whether {@link pause} holds the socket. */
  get isPaused(): boolean {
    return this.paused;
  }

  /**
   * Stops reading from the server (frames of a chunk already read still arrive). For a consumer
   * that falls behind: a terminal or pipe that is full, a UI that has not drawn yet.
   */
  pause(): void {
    this.paused = true;
    if (this.state === CLIENT_STATE.open) this.socket?.pause();
  }

  /** Reads from the server again after {@link pause}. */
  resume(): void {
    this.paused = false;
    this.socket?.resume();
  }

  private handshakeLineLimit(): number {
    return clientLineLimit(defaults.DEFAULT_MAX_LINE_BYTES, this.options.maxLineBytes);
  }

  /** Connects, reads the greeting, says hello and resolves with the welcome. */
  async connect(): Promise<WelcomeFrame> {
    this.quitting = false;
    this.setState(this.attempt > 0 ? CLIENT_STATE.reconnecting : CLIENT_STATE.connecting);
    const target = { host: this.options.host, port: this.options.port };
    let socket: Socket;
    try {
      socket = await connectTcp({
        ...target,
        timeoutMs: this.options.connectTimeoutMs,
        // Half-open is ours to handle: a foreign peer that only listens may still get input.
        allowHalfOpen: true,
        ...(this.options.localAddress === undefined
          ? {}
          : { localAddress: this.options.localAddress }),
        ...(this.options.tls === undefined ? {} : { tls: this.options.tls }),
      });
    } catch (error) {
      if (this.attempt === 0) this.setState(CLIENT_STATE.closed);
      throw classifyConnectError(error, target);
    }
    this.socket = socket;
    return new Promise<WelcomeFrame>((resolve, reject) => {
      const decoder = new LineDecoder({ maxLineBytes: this.handshakeLineLimit() });
      this.decoder = decoder;
      let greeted = false;
      let settled = false;
      // What a peer sent before its greeting: handed over with the socket if it is not tcpchat.
      let beforeGreeting: Buffer[] = [];
      const fail = (error: ChatError) => {
        if (settled) return;
        settled = true;
        clearTimeout(handshakeTimer);
        // Forget the socket first: its close must not count as losing an open connection.
        if (this.socket === socket) this.socket = undefined;
        socket.destroy();
        // A first connect that fails is the caller's to retry; reconnects schedule their own.
        if (this.attempt === 0) this.setState(CLIENT_STATE.closed);
        reject(error);
      };
      /** The peer is not tcpchat: close, or hand the connection over as it is. */
      const foreign = (message: string) => {
        const error = chatError("CHAT_ERR_NOT_TCPCHAT", { message });
        if (!this.options.keepForeignConnection || settled || socket.destroyed) return fail(error);
        settled = true;
        clearTimeout(handshakeTimer);
        socket.pause();
        socket.off("data", onData);
        socket.off("end", onEnd);
        socket.off("error", onError);
        socket.off("close", onClose);
        if (this.socket === socket) this.socket = undefined;
        if (this.attempt === 0) this.setState(CLIENT_STATE.closed);
        const connection: ForeignConnection = {
          socket,
          received: Buffer.concat(beforeGreeting),
          ended: socket.readableEnded || peerEnded,
        };
        Object.assign(error, { [FOREIGN]: connection });
        reject(error);
      };
      let peerEnded = false;
      // One deadline for the greeting and the welcome: a peer that greets and then says nothing
      // must not hold connect() forever.
      const handshakeTimer = setTimeout(
        () =>
          greeted
            ? fail(
                chatError("CHAT_ERR_NOT_TCPCHAT", {
                  message: "The peer sent a tcpchat greeting but no welcome in time.",
                }),
              )
            : foreign("The peer sent no tcpchat greeting in time."),
        this.options.greetingTimeoutMs,
      );
      const onLine = (line: string): void => {
        if (!greeted) {
          const refusal = parseErrorLine(line);
          if (refusal !== null) return fail(refusal);
          if (parseGreeting(line) === null) {
            return foreign(
              `The peer's first line is not a tcpchat greeting: ${JSON.stringify(line.slice(0, 80))}`,
            );
          }
          greeted = true;
          beforeGreeting = [];
          this.write({
            type: "hello",
            proto: defaults.PROTOCOL_VERSION,
            client: this.options.clientName,
            // Runs of messages as one frame: about 60% of the bytes in a busy room (spec 4.6).
            compact: true,
            ...((this.nick ?? this.options.nick)
              ? { nick: (this.nick ?? this.options.nick)! }
              : {}),
            ...(this.options.room === undefined ? {} : { room: this.options.room }),
          });
          return;
        }
        const parsed = parseServerFrames(line);
        if (parsed.error !== undefined) this.badFrame(parsed.error);
        for (const frame of parsed.frames) onFrame(frame);
      };
      const onFrame = (frame: ServerFrame) => {
        if (!settled && frame.type === "welcome") {
          settled = true;
          clearTimeout(handshakeTimer);
          decoder.setMaxLineBytes(
            clientLineLimit(frame.limits.maxLineBytes, this.options.maxLineBytes),
          );
          this.opened(frame);
          resolve(frame);
        } else if (
          !settled &&
          frame.type === "error" &&
          frame.code === "CHAT_ERR_UNSUPPORTED_VERSION"
        ) {
          fail(chatError("CHAT_ERR_UNSUPPORTED_VERSION", { message: frame.message }));
        }
        this.dispatch(frame);
      };
      const onData = (chunk: Buffer) => {
        if (!greeted) beforeGreeting.push(chunk);
        for (const line of decoder.push(chunk)) {
          if (typeof line === "string") onLine(line);
          // A greeting is short UTF-8: anything else first is a foreign peer's.
          else if (!greeted)
            return foreign(`The peer's first line is not a tcpchat greeting: ${line.message}`);
          else this.unreadable(line, decoder.maxLineBytes);
          // The handshake failed or handed the socket over: the rest is not ours to read.
          if (socket.destroyed || (settled && this.socket !== socket)) return;
        }
      };
      const onEnd = () => {
        peerEnded = true;
        // A tcpchat server never half-closes: whatever it did, end our side too.
        if (greeted || !this.options.keepForeignConnection) socket.end();
        else foreign("The peer closed its side without a tcpchat greeting.");
      };
      const onError = (error: Error) => {
        if (!settled) fail(classifyConnectError(error, target));
        else if (this.socket === socket) this.lost(classifyConnectError(error, target));
      };
      const onClose = () => {
        clearTimeout(handshakeTimer);
        if (!settled) {
          fail(
            chatError("CHAT_ERR_CONN_CLOSED", {
              message: "The server closed the connection before the welcome.",
            }),
          );
        } else if (this.socket === socket) this.lost();
      };
      socket.on("data", onData);
      socket.on("end", onEnd);
      socket.on("error", onError);
      socket.on("close", onClose);
    });
  }

  /** A line the decoder refused (too long, not UTF-8): reported, never dropped silently. */
  private unreadable(error: FramingError, limit: number): void {
    const from = "the server";
    const reported =
      error.code === "CHAT_ERR_LINE_TOO_LONG"
        ? new FramingError("CHAT_ERR_LINE_TOO_LONG", {
            message: `A line from ${from} is longer than this client's limit of ${limit} bytes; it was skipped.`,
            hint: "The server sent more than it advertised; raise ChatClient's maxLineBytes option if the server is trusted.",
          })
        : new FramingError(error.code, {
            message: `A line from ${from} is not valid UTF-8; it was skipped.`,
            hint: "The server is buggy or not a tcpchat server; report it to its operator.",
          });
    this.emit("protocol-error", reported);
  }

  /** A line that is not a valid frame: reported, and a request waiting on its `ref` fails. */
  private badFrame(error: ProtocolError & { ref?: string }): void {
    const pending = error.ref === undefined ? undefined : this.pending.get(error.ref);
    if (pending !== undefined) {
      this.pending.delete(error.ref!);
      clearTimeout(pending.timer);
      pending.reject(error);
    }
    this.emit("protocol-error", error);
  }

  /** Sends a message to a room (default: the current one); resolves on the server's ack. */
  send(text: string, options: { room?: string; action?: boolean } = {}): Promise<AckFrame> {
    return this.request({
      type: "send",
      text,
      ...(options.room === undefined ? {} : { room: options.room }),
      ...(options.action ? { action: true } : {}),
    });
  }

  /** Sends a direct message. */
  dm(to: string, text: string): Promise<AckFrame> {
    return this.request({ type: "dm", to, text });
  }

  /** Joins a room (and makes it current); resolves with its member list. */
  async join(room: string): Promise<PresenceFrame> {
    await this.request({ type: "join", room });
    const name = room.replace(/^#/, "");
    return this.presenceOf(name) ?? { type: "presence", room: name, nicks: [], count: 0 };
  }

  /** Leaves a room (default: the current one). */
  async part(room?: string): Promise<AckFrame> {
    const target = room ?? this.current;
    const ack = await this.request(room === undefined ? { type: "part" } : { type: "part", room });
    if (target !== undefined) this.forgetRoom(target);
    return ack;
  }

  /** Changes nick. */
  async setNick(nick: string): Promise<AckFrame> {
    return this.request({ type: "nick", nick });
  }

  /** Lists the members of a room (default: the current one). */
  async who(room?: string): Promise<PresenceFrame> {
    await this.request(room === undefined ? { type: "who" } : { type: "who", room });
    const name = (room ?? this.current ?? "").replace(/^#/, "");
    return this.presenceOf(name) ?? { type: "presence", room: name, nicks: [], count: 0 };
  }

  /** Lists rooms with member counts. */
  async listRooms(): Promise<RoomsFrame> {
    await this.request({ type: "rooms" });
    return this.lastRooms ?? { type: "rooms", rooms: [] };
  }

  /**
   * Asks for room history (protocol 4.4): the messages arrive as `message` frames with
   * `history: true`, then the ack resolves. Default: the current room's latest messages.
   */
  history(
    query: Omit<Extract<ClientFrame, { type: "history" }>, "type" | "ref"> = {},
  ): Promise<AckFrame> {
    return this.request({ type: "history", ...query });
  }

  /** Searches a room's history for messages with every word of `text` (as `history`). */
  search(text: string, options: { room?: string; limit?: number } = {}): Promise<AckFrame> {
    return this.request({ type: "search", text, ...options });
  }

  /** Registers the current nick with a password. */
  register(password: string): Promise<AckFrame> {
    return this.request({ type: "register", password });
  }

  /** Logs in to a registered nick; the server gives the session that nick. */
  login(name: string, password: string): Promise<AckFrame> {
    return this.request({ type: "auth", name, password });
  }

  /** Disconnects a client by nick (operator accounts only: else CHAT_ERR_NOT_PERMITTED). */
  kick(nick: string, reason?: string): Promise<AckFrame> {
    return this.request(
      reason === undefined ? { type: "kick", nick } : { type: "kick", nick, reason },
    );
  }

  /**
   * Bans a connected nick's address, or an address or CIDR block, and disconnects who it covers
   * (operator accounts only). `durationMs` omitted: until lifted.
   */
  ban(target: string, options: { durationMs?: number; reason?: string } = {}): Promise<AckFrame> {
    return this.request({ type: "ban", target, ...options });
  }

  /** Lifts the ban of an address or CIDR block (operator accounts only). */
  unban(target: string): Promise<AckFrame> {
    return this.request({ type: "unban", target });
  }

  /**
   * Asks for a room's topic (a `topic` frame answers, before the ack), or sets it with `text`
   * ("" clears it; operator accounts only). `room` defaults to the current room.
   */
  topic(options: { room?: string; text?: string } = {}): Promise<AckFrame> {
    return this.request({ type: "topic", ...options });
  }

  /** Measures the round trip to the server, in ms. */
  ping(): Promise<number> {
    const started = performance.now();
    return this.request({ type: "ping" }).then(() => performance.now() - started);
  }

  /** Says goodbye and closes; stops any reconnecting. */
  quit(reason?: string): Promise<void> {
    this.quitting = true;
    clearTimeout(this.reconnectTimer);
    const socket = this.socket;
    if (socket === undefined || socket.destroyed) {
      this.setState(CLIENT_STATE.closed);
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      socket.once("close", () => resolve());
      if (this.state === CLIENT_STATE.open) {
        this.write(reason === undefined ? { type: "quit" } : { type: "quit", reason });
      }
      socket.end();
      const timer = setTimeout(() => socket.destroy(), 2000);
      timer.unref();
    });
  }

  private request(frame: ClientFrame & { ref?: string }): Promise<AckFrame> {
    if (this.state !== CLIENT_STATE.open || this.socket === undefined) {
      return Promise.reject(chatError("CHAT_ERR_NOT_CONNECTED"));
    }
    const ref = `r${++this.nextRef}`;
    try {
      this.write({ ...frame, ref } as ClientFrame);
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise<AckFrame>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(ref);
        reject(chatError("CHAT_ERR_ACK_TIMEOUT"));
      }, this.options.ackTimeoutMs);
      this.pending.set(ref, { resolve, reject, timer });
    });
  }

  private write(frame: ClientFrame): void {
    // encodeLine refuses line breaks; JSON.stringify escapes them, so this never throws here.
    this.socket?.write(encodeLine(JSON.stringify(frame)));
  }

  private opened(welcome: WelcomeFrame): void {
    this.welcome = welcome;
    this.nick = welcome.nick;
    const rejoin = this.joined.filter((room) => room !== welcome.room);
    const wasCurrent = this.current;
    this.joined = welcome.room === "" ? [] : [welcome.room];
    this.current = welcome.room || undefined;
    this.attempt = 0;
    this.setState(CLIENT_STATE.open);
    if (this.paused) this.socket?.pause();
    this.emit("welcome", welcome);
    // After a reconnect, go back to the rooms this client was in, ending in the same current room.
    const order = rejoin.filter((room) => room !== wasCurrent);
    if (wasCurrent !== undefined && rejoin.includes(wasCurrent)) order.push(wasCurrent);
    for (const room of order) {
      this.join(room).catch((error: ChatError) => this.emit("server-error", error));
    }
  }

  private dispatch(frame: ServerFrame): void {
    switch (frame.type) {
      case "ack": {
        const pending = this.pending.get(frame.ref);
        if (pending !== undefined) {
          this.pending.delete(frame.ref);
          clearTimeout(pending.timer);
          pending.resolve(frame);
        }
        break;
      }
      case "pong":
        if (frame.ref !== undefined) this.dispatch({ type: "ack", ref: frame.ref, ts: Date.now() });
        return;
      case "ping":
        this.write({ type: "pong", ref: frame.ref });
        break;
      case "error": {
        const error = isChatErrorCode(frame.code)
          ? chatError(frame.code, { message: frame.message, hint: frame.hint })
          : new ProtocolError("CHAT_ERR_BAD_FRAME", { message: frame.message });
        const pending = frame.ref === undefined ? undefined : this.pending.get(frame.ref);
        if (pending !== undefined) {
          this.pending.delete(frame.ref!);
          clearTimeout(pending.timer);
          pending.reject(error);
        } else {
          this.emit("server-error", error);
        }
        break;
      }
      case "presence":
        this.presence.set(frame.room, frame);
        if (!this.joined.includes(frame.room) && frame.nicks.includes(this.nick ?? "")) {
          this.joined.push(frame.room);
          this.current = frame.room;
        }
        break;
      case "join":
        if (frame.nick === this.nick && !this.joined.includes(frame.room)) {
          this.joined.push(frame.room);
          this.current = frame.room;
        }
        break;
      case "nick":
        if (frame.old === this.nick) this.nick = frame.new;
        break;
      case "rooms":
        this.lastRooms = frame;
        break;
    }
    this.emit("frame", frame);
    // Under the prefix, a frame type can never be one of the client's own events; and an
    // `error` frame is not Node's special "error" event, which throws without a listener.
    (this.emit as (event: string, frame: ServerFrame) => boolean)(
      FRAME_EVENT_PREFIX + frame.type,
      frame,
    );
  }

  private presenceOf(room: string): PresenceFrame | undefined {
    for (const [name, frame] of this.presence) {
      if (name.toLowerCase() === room.toLowerCase()) return frame;
    }
    return undefined;
  }

  private forgetRoom(room: string): void {
    const name = room.replace(/^#/, "").toLowerCase();
    this.joined = this.joined.filter((r) => r.toLowerCase() !== name);
    if (this.current?.toLowerCase() === name) this.current = this.joined[this.joined.length - 1];
  }

  private lost(error?: ChatError): void {
    if (this.socket === undefined || this.state === CLIENT_STATE.closed) return;
    this.socket = undefined;
    for (const [ref, pending] of this.pending) {
      clearTimeout(pending.timer);
      pending.reject(
        chatError("CHAT_ERR_CONN_CLOSED", {
          message: "The connection closed before the server answered.",
        }),
      );
      this.pending.delete(ref);
    }
    if (
      !this.quitting &&
      this.reconnect !== undefined &&
      this.attempt < this.reconnect.maxAttempts
    ) {
      this.scheduleReconnect(error ?? chatError("CHAT_ERR_CONN_CLOSED"));
      return;
    }
    this.setState(CLIENT_STATE.closed);
    this.emit("close", error === undefined || this.quitting ? {} : { error });
  }

  private scheduleReconnect(error: ChatError): void {
    const policy = this.reconnect!;
    this.attempt += 1;
    const retryAfter = (error as { retryAfterMs?: number }).retryAfterMs;
    const delayMs = Math.max(backoffDelay(policy, this.attempt), retryAfter ?? 0);
    this.setState(CLIENT_STATE.reconnecting);
    this.emit("reconnecting", { attempt: this.attempt, delayMs, error });
    this.reconnectTimer = setTimeout(() => {
      this.connect().catch((failure: ChatError) => {
        if (this.quitting) return;
        if (this.attempt < policy.maxAttempts) this.scheduleReconnect(failure);
        else {
          this.setState(CLIENT_STATE.closed);
          this.emit("close", { error: failure });
        }
      });
    }, delayMs);
  }

  private setState(state: ClientState): void {
    if (this.state === state) return;
    this.state = state;
    this.emit("state", state);
  }
}

/** Creates a {@link ChatClient}. */
export function createClient(options: ChatClientOptions = {}): ChatClient {
  return new ChatClient(options);
}
