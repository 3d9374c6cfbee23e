/**
 * Glue between the pure state and the outside world: feeds ChatClient events and key
 * actions through the reducer, runs the effects it asks for against the client, pings for
 * the lag figure and batches redraws to one per event-loop turn. Knows nothing of blessed.
 */
import {
  backoffDelay,
  type ChatClient,
  type ChatError,
  chatError,
  DEFAULT_MAX_LINE_BYTES,
  DEFAULT_MESSAGE_BURST,
  DEFAULT_MESSAGE_RATE,
  ERROR_CODES,
  isChatErrorCode,
  neutralizeFrame,
} from "@tcpchat/core";
import { dmKey, roomKey } from "../state/buffers.js";
import { reduce } from "../state/reducer.js";
import type { Action, AppState, Effect, ShownError } from "../state/types.js";
import { Pacer } from "./pacer.js";

/** Options of {@link Controller}. */
export interface ControllerOptions {
  client: ChatClient;
  state: AppState;
  /** Draws the state; called at most once per event-loop turn. */
  render: (state: AppState) => void;
  /** Called once the user quit and the client said goodbye. */
  exit: (code: number) => void;
  /** Interval between lag pings while connected, in ms (default 15000). */
  pingIntervalMs?: number;
  /** Backoff of the first connection's retries (later ones are the client's own). */
  retry?: { initialDelayMs: number; maxDelayMs: number };
}

// Refusals that say "not now" rather than "not you": worth retrying the first connection.
const RETRYABLE_REFUSALS = new Set<string>([
  "CHAT_ERR_REFUSED_SERVER_FULL",
  "CHAT_ERR_REFUSED_RATE_LIMITED",
  "CHAT_ERR_REFUSED_SHUTTING_DOWN",
  "CHAT_ERR_REFUSED_TOO_MANY_FROM_ADDRESS",
  "CHAT_ERR_REFUSED_TOO_MANY_FROM_SUBNET",
  "CHAT_ERR_CONN_CLOSED",
]);

/**
 * Frames taken in before the next redraw. A server that floods faster than the TUI draws is
 * paused (TCP holds it back) until the frame is drawn, so neither memory nor the time between
 * redraws grows with the flood, and keys keep being answered.
 */
export const MAX_FRAMES_PER_RENDER = 500;

/** An error as the state shows it; the hint comes from core's error table. */
export function toShownError(error: unknown): ShownError {
  const e = error as Partial<ChatError> & { message?: string };
  const code = typeof e.code === "string" ? e.code : "CHAT_ERR_CONN_CLOSED";
  const fallbackHint = isChatErrorCode(code) ? ERROR_CODES[code].hint : "";
  return { code, message: e.message ?? String(error), hint: e.hint ?? fallbackHint };
}

/** Runs the TUI: owns the current state and the client. */
export class Controller {
  private current: AppState;
  private renderQueued = false;
  private framesSinceRender = 0;
  private heldForRender = false;
  private timer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private ticks = 0;
  private exited = false;
  private readonly pacer = new Pacer({
    messageRate: DEFAULT_MESSAGE_RATE,
    messageBurst: DEFAULT_MESSAGE_BURST,
  });
  private maxLineBytes = DEFAULT_MAX_LINE_BYTES;

  constructor(private readonly options: ControllerOptions) {
    this.current = options.state;
  }

  /** The current state. */
  get state(): AppState {
    return this.current;
  }

  /** Applies an action, runs its effects and schedules a redraw. */
  dispatch = (action: Action): void => {
    const { state, effects } = reduce(this.current, action);
    this.current = state;
    for (const effect of effects) this.run(effect);
    this.requestRender();
  };

  /** Redraws on the next turn (many events in one turn cost one redraw). */
  requestRender(): void {
    if (this.renderQueued) return;
    this.renderQueued = true;
    setImmediate(() => {
      this.renderQueued = false;
      if (!this.exited) this.options.render(this.current);
      this.framesSinceRender = 0;
      if (this.heldForRender) {
        this.heldForRender = false;
        this.options.client.resume();
      }
    });
  }

  /** Wires the client's events and starts connecting. */
  start(): void {
    const { client } = this.options;
    const now = Date.now;
    client.on("state", (status) => {
      if (status === "connecting" || status === "open" || status === "closed") {
        this.dispatch({ type: "connection", status, now: now() });
      }
      if (status === "open") this.measureLag();
    });
    client.on("reconnecting", (info) => {
      this.dispatch({
        type: "reconnecting",
        attempt: info.attempt,
        delayMs: info.delayMs,
        error: toShownError(info.error),
        now: now(),
      });
    });
    client.on("close", (info) => {
      this.dispatch({
        type: "closed",
        error: info.error === undefined ? undefined : toShownError(info.error),
        now: now(),
      });
    });
    client.on("frame", (frame) => {
      // Shown, never run: escape sequences from a server that does not neutralize peers'
      // text (spec 3.4) reach blessed as visible symbols.
      this.dispatch({ type: "frame", frame: neutralizeFrame(frame), now: now() });
      this.framesSinceRender += 1;
      if (this.framesSinceRender >= MAX_FRAMES_PER_RENDER && !this.heldForRender) {
        this.heldForRender = true;
        client.pause();
      }
    });
    client.on("protocol-error", (error) =>
      this.dispatch({ type: "protocol-error", error: toShownError(error), now: now() }),
    );
    // The client has already put defaults in place of missing or bogus limits.
    client.on("welcome", (welcome) => {
      this.pacer.setLimits(welcome.limits);
      this.maxLineBytes = welcome.limits.maxLineBytes;
    });
    client.on("server-error", (error) =>
      this.dispatch({
        type: "request-failed",
        error: toShownError(error),
        bufferKey: this.current.active,
        now: now(),
      }),
    );
    // One timer: the reconnect countdown redraws every second, the lag ping runs less often.
    const pingEvery = Math.max(1, Math.round((this.options.pingIntervalMs ?? 15_000) / 1000));
    this.timer = setInterval(() => {
      this.ticks += 1;
      if (this.current.connection.status === "reconnecting") this.requestRender();
      if (this.ticks % pingEvery === 0) this.measureLag();
    }, 1000);
    void this.connectFirst(0);
  }

  private async connectFirst(attempt: number): Promise<void> {
    const { client } = this.options;
    this.dispatch({ type: "connection", status: "connecting", now: Date.now() });
    try {
      await client.connect();
    } catch (failure) {
      if (this.current.quitting) return;
      // A handshake that fails after the TCP connect (a refusal line) would otherwise make
      // the client start its own reconnect loop; this loop decides about retries instead.
      await client.quit().catch(() => {});
      const error = toShownError(failure);
      const kind = isChatErrorCode(error.code) ? ERROR_CODES[error.code].kind : "connection";
      // A TLS failure (untrusted, expired, wrong name, plain text) stays the same on retry:
      // the flags or the server's certificate must change first.
      const retry =
        (kind === "connection" && !error.code.startsWith("CHAT_ERR_TLS_")) ||
        RETRYABLE_REFUSALS.has(error.code);
      if (!retry) {
        this.dispatch({ type: "connect-failed", error, now: Date.now() });
        return;
      }
      const policy = this.options.retry ?? { initialDelayMs: 1000, maxDelayMs: 30_000 };
      const retryAfter = (failure as { retryAfterMs?: number }).retryAfterMs ?? 0;
      const delayMs = Math.max(
        retryAfter,
        backoffDelay({ ...policy, factor: 2, jitter: 0.2, maxAttempts: Infinity }, attempt + 1),
      );
      this.dispatch({
        type: "reconnecting",
        attempt: attempt + 1,
        delayMs,
        error,
        now: Date.now(),
      });
      this.retryTimer = setTimeout(() => void this.connectFirst(attempt + 1), delayMs);
    }
  }

  private measureLag(): void {
    const { client } = this.options;
    if (client.state !== "open") return;
    client.ping().then(
      (ms) => this.dispatch({ type: "lag", ms: Math.round(ms) }),
      () => {},
    );
  }

  private fail(bufferKey: string, queueId?: number, text?: string) {
    return (error: unknown) =>
      this.dispatch({
        type: "request-failed",
        error: toShownError(error),
        bufferKey,
        now: Date.now(),
        queueId,
        text,
      });
  }

  /** Ends a buffer's history request: its messages have come (frames precede the ack). */
  private historyDone(bufferKey: string) {
    return (error?: unknown) =>
      this.dispatch({
        type: "history-done",
        bufferKey,
        now: Date.now(),
        error: error === undefined ? undefined : toShownError(error),
      });
  }

  private info(text: string): void {
    this.dispatch({ type: "local-info", text, now: Date.now() });
  }

  /** The request line would pass the server's line limit: refuse it here, with the reason. */
  private tooLong(frame: object): ChatError | undefined {
    const bytes = Buffer.byteLength(JSON.stringify({ ...frame, ref: "r0000000" }));
    if (bytes <= this.maxLineBytes) return undefined;
    return chatError("CHAT_ERR_LINE_TOO_LONG", {
      message: `The message is ${bytes} bytes as a request; the server takes at most ${this.maxLineBytes}.`,
    });
  }

  private run(effect: Effect): void {
    const { client } = this.options;
    switch (effect.type) {
      case "send": {
        const key = roomKey(effect.room);
        const tooLong = this.tooLong({
          type: "send",
          room: effect.room,
          text: effect.text,
          action: effect.action,
        });
        if (tooLong) return this.fail(key, effect.queueId, effect.text)(tooLong);
        this.pacer.run(() => {
          client
            .send(effect.text, { room: effect.room, action: effect.action })
            .then(() => {
              if (effect.queueId !== undefined) {
                this.dispatch({ type: "queued-sent", queueId: effect.queueId });
              }
            })
            .catch(this.fail(key, effect.queueId, effect.text));
        });
        return;
      }
      case "dm": {
        const key = dmKey(effect.to);
        const tooLong = this.tooLong({ type: "dm", to: effect.to, text: effect.text });
        if (tooLong) return this.fail(key, effect.queueId, effect.text)(tooLong);
        this.pacer.run(() => {
          client
            .dm(effect.to, effect.text)
            .then((ack) => {
              this.dispatch({
                type: "dm-sent",
                to: effect.to,
                text: effect.text,
                id: ack.id,
                ts: ack.ts,
              });
              if (effect.queueId !== undefined) {
                this.dispatch({ type: "queued-sent", queueId: effect.queueId });
              }
            })
            .catch(this.fail(key, effect.queueId, effect.text));
        });
        return;
      }
      case "join":
        client.join(effect.room).catch(this.fail(roomKey(effect.room)));
        return;
      case "part":
        client.part(effect.room).catch(this.fail(roomKey(effect.room)));
        return;
      case "nick":
        client.setNick(effect.nick).catch(this.fail(this.current.active));
        return;
      case "who":
        client.who(effect.room).then((presence) => {
          if (!effect.show) return;
          this.dispatch({
            type: "local-info",
            text: `#${presence.room} (${presence.nicks.length}): ${presence.nicks.join(", ")}`,
            now: Date.now(),
          });
        }, this.fail(this.current.active));
        return;
      case "rooms":
        client.listRooms().catch(this.fail(this.current.active));
        return;
      case "history": {
        const done = this.historyDone(effect.bufferKey);
        // A DM buffer pages the conversation with that nick; a room buffer, the room.
        const target = effect.dm ? { nick: effect.target } : { room: effect.target };
        client.history({ ...target, ...effect.query }).then(() => done(), done);
        return;
      }
      case "search": {
        const done = this.historyDone(effect.bufferKey);
        client.search(effect.text, { room: effect.room }).then(() => done(), done);
        return;
      }
      case "register":
        client
          .register(effect.password)
          .then(
            () =>
              this.info(
                `Registered ${this.current.nick ?? "your nick"}: log in with /login next time.`,
              ),
            this.fail(this.current.active),
          );
        return;
      case "login":
        client
          .login(effect.name, effect.password)
          .then(() => this.info(`Logged in as ${effect.name}.`), this.fail(this.current.active));
        return;
      case "ping":
        this.measureLag();
        return;
      case "operator": {
        // The server answers with notices (or a topic frame); only a refusal is shown here.
        const { request } = effect;
        const failed = this.fail(this.current.active);
        if (request.type === "kick") client.kick(request.nick, request.reason).catch(failed);
        else if (request.type === "unban") client.unban(request.target).catch(failed);
        else if (request.type === "ban") {
          const { type: _type, target, ...options } = request;
          client.ban(target, options).catch(failed);
        } else {
          const { type: _type, ...options } = request;
          client.topic(options).catch(failed);
        }
        return;
      }
      case "quit":
        this.stop();
        client
          .quit(effect.reason)
          .catch(() => {})
          .finally(() => this.finish(0));
        return;
    }
  }

  private stop(): void {
    this.pacer.clear();
    clearInterval(this.timer);
    clearTimeout(this.retryTimer);
  }

  private finish(code: number): void {
    if (this.exited) return;
    this.exited = true;
    this.options.exit(code);
  }
}
