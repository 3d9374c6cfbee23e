import { type ClientFrame, parseServerFrames, type ServerFrame } from "@tcpchat/core/protocol";

/** Where the page's link to the server stands, as the status bar shows it. */
export const LINK_STATE = {
  connecting: "connecting",
  online: "online",
  /** Dropped: waiting `retryInMs` before the next try. */
  waiting: "waiting",
  stopped: "stopped",
} as const;
/** A {@link LINK_STATE} value. */
export type LinkState = (typeof LINK_STATE)[keyof typeof LINK_STATE];

/** What {@link Connection} needs from the page. */
export interface ConnectionOptions {
  /** `ws://host:port/ws`. */
  readonly url: string;
  /** The hello to open each connection with (the nick may have changed since the last one). */
  readonly hello: () => ClientFrame;
  /** Sent right after `welcome` on a reconnect: rejoining rooms, for instance. */
  readonly onWelcome: (frame: ServerFrame & { type: "welcome" }, reconnected: boolean) => void;
  readonly onFrame: (frame: ServerFrame) => void;
  readonly onState: (state: LinkState, detail: { retryInMs?: number; reason?: string }) => void;
}

/** First wait after a drop; it doubles up to {@link MAX_BACKOFF_MS}, with jitter. */
export const FIRST_BACKOFF_MS = 500;
/** Longest wait between two tries. */
export const MAX_BACKOFF_MS = 15_000;

/** The wait before try number `attempt` (0 first): doubling, capped, 0.75x to 1.25x jitter. */
export function backoffMs(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS * 2 ** attempt);
  return Math.round(base * (0.75 + random() * 0.5));
}

/**
 * One WebSocket to the server that comes back by itself: when it drops, the page waits (with
 * backoff) and opens a new one, saying hello again. Frames are the JSON lines of spec 4; a
 * WebSocket message may hold several (spec 6a.7).
 */
export class Connection {
  private socket: WebSocket | undefined;
  private attempt = 0;
  private welcomed = false;
  private everWelcomed = false;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;

  constructor(private readonly options: ConnectionOptions) {}

  /** Opens the first connection. */
  start(): void {
    this.stopped = false;
    this.open();
  }

  /** Tries again now instead of waiting out the backoff. */
  retryNow(): void {
    if (this.socket !== undefined || this.stopped) return;
    clearTimeout(this.retryTimer);
    this.open();
  }

  /** Sends a request; false when the link is down (the page says so instead of losing it). */
  send(frame: ClientFrame): boolean {
    if (this.socket?.readyState !== WebSocket.OPEN || !this.welcomed) return false;
    this.socket.send(JSON.stringify(frame));
    return true;
  }

  /** Closes for good (leaving the page or changing nick at the join screen). */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.socket?.close(1000);
    this.socket = undefined;
    this.options.onState(LINK_STATE.stopped, {});
  }

  private open(): void {
    this.options.onState(LINK_STATE.connecting, {});
    const socket = new WebSocket(this.options.url);
    this.socket = socket;
    this.welcomed = false;
    socket.onopen = () => socket.send(JSON.stringify(this.options.hello()));
    socket.onmessage = (message) => {
      if (typeof message.data === "string") this.receive(message.data);
    };
    socket.onclose = (close) => {
      if (this.socket !== socket) return;
      this.socket = undefined;
      if (this.stopped) return;
      const retryInMs = backoffMs(this.attempt++);
      this.options.onState(LINK_STATE.waiting, { retryInMs, reason: close.reason });
      this.retryTimer = setTimeout(() => this.open(), retryInMs);
    };
  }

  private receive(data: string): void {
    for (const line of data.split("\n")) {
      if (line === "") continue;
      const { frames, error } = parseServerFrames(line);
      if (error !== undefined) console.warn(`${error.code}: ${error.message}`);
      for (const frame of frames) this.dispatch(frame);
    }
  }

  private dispatch(frame: ServerFrame): void {
    if (frame.type === "ping") {
      this.socket?.send(JSON.stringify({ type: "pong", ref: frame.ref }));
      return;
    }
    if (frame.type === "welcome") {
      this.welcomed = true;
      this.attempt = 0;
      this.options.onState(LINK_STATE.online, {});
      this.options.onFrame(frame);
      this.options.onWelcome(frame, this.everWelcomed);
      this.everWelcomed = true;
      return;
    }
    this.options.onFrame(frame);
  }
}
