/** Messages between the bench's main thread and its load-generator workers. */
import type { LoadTransport } from "./transport-kind.js";

/** Data each worker starts with. */
export interface WorkerInit {
  workerIndex: number;
  /** Time origin of the run on the monotonic clock, in µs; message timestamps count from it. */
  t0Us: number;
}

/** Open `clients` connections and wait until each is ready. */
export interface ConnectRequest {
  op: "connect";
  host: string;
  port: number;
  /** Global client ids to open in this worker. */
  clients: number[];
  /** `greeting`: ready when the first line starts with `greetingPrefix`; `connect`: when TCP connects. */
  readyOn: "greeting" | "connect";
  greetingPrefix: string;
  timeoutMs: number;
  /** Local address to bind, e.g. another loopback address; default: the system's choice. */
  localAddress?: string;
  /** Stop reading once ready (a slow reader whose socket buffers never grew). */
  pause?: boolean;
  /**
   * How to reach the server (default `tcp`). `ws` upgrades on `wsPath` and is ready on
   * `welcome` (readyOn is not used); `tls` trusts `tlsCa` and then waits as readyOn says.
   */
  transport?: LoadTransport;
  /** PEM certificate the TLS clients trust (the run's own, made at start). */
  tlsCa?: string;
  /** WebSocket upgrade path (default `/ws`). */
  wsPath?: string;
  /** Most of this worker's clients connecting at once (not yet ready); 0 or absent: all. */
  window?: number;
}

/** Put each pair of clients in a room of its own (`/join ROOM`) and wait until both are in. */
export interface JoinPairsRequest {
  op: "join-pairs";
  pairs: Array<{ a: number; b: number; room: string }>;
  timeoutMs: number;
}

/**
 * One round of the readiness probe (servers without a greeting): each of `senders` writes one
 * setup line to the room, and the reply comes once each of `clients` has received a setup line
 * (anyone's) through the room, which the server relays only to clients it has accepted; or
 * when `timeoutMs` has passed.
 */
export interface ProbeRequest {
  op: "probe";
  /** This generator's clients still to hear a setup line. */
  clients: number[];
  /** This generator's clients that write a setup line now (none: only listen). */
  senders: number[];
  timeoutMs: number;
}

/**
 * Prepares one broadcast run (senders send, every client counts what it receives); the run
 * begins with {@link BroadcastStartRequest} once every worker has prepared.
 */
export interface BroadcastRequest {
  op: "broadcast";
  /** `closed`: each sender keeps `window` messages in flight; `open`: each sends at `ratePerSender`. */
  mode: "closed" | "open";
  senders: number[];
  /** Clients that decode every message: latency samples and per-sender sequence checks. */
  parsers: number[];
  /** Clients that stop reading for the whole run (the slow reader). */
  paused: number[];
  size: number;
  /** Whether the server sends a sender its own room messages (tcpchat does; `ncat --chat` does not). */
  selfEcho: boolean;
  window: number;
  ratePerSender: number;
  durationMs: number;
  maxMessagesPerSender: number;
  /**
   * Several server nodes (`--nodes`): client ids `i * nodeBlock` .. `(i + 1) * nodeBlock - 1`
   * are on node i, and latency is recorded only for messages from a sender on another node than
   * the receiver's (cross-node latency). Unset: one server, every message's latency counts.
   */
  nodeBlock?: number;
}

/** Starts the prepared broadcast run; the reply comes when this worker's senders stop. */
export interface BroadcastStartRequest {
  op: "broadcast-start";
}

/** Ends the running broadcast now, as if its time had run out. */
export interface BroadcastStopRequest {
  op: "broadcast-stop";
}

/** Delivery counts so far; with `expectedPerSender`, also check each parser's sequences. */
export interface CountsRequest {
  op: "counts";
  expectedPerSender?: Record<number, number>;
  /** With this, count receivers whose total differs from it. */
  expectedPerReceiver?: number;
}

/** Round trips between the clients of each joined pair until `durationMs` passes. */
export interface EchoRequest {
  op: "echo";
  size: number;
  durationMs: number;
  maxRoundTripsPerPair: number;
}

/** Close every connection of the worker. */
export interface CloseAllRequest {
  op: "close-all";
  /** Only these clients (default: every one). */
  ids?: number[];
}

/** A request from the main thread. */
export type WorkerRequest =
  | ConnectRequest
  | JoinPairsRequest
  | ProbeRequest
  | BroadcastRequest
  | BroadcastStartRequest
  | BroadcastStopRequest
  | CountsRequest
  | EchoRequest
  | CloseAllRequest;

/** Result of a connect request. */
export interface ConnectResult {
  ready: number;
  failed: number;
  /** Failure reasons (error code or first line) and how often each happened. */
  failures: Record<string, number>;
  startUs: number;
  lastReadyUs: number;
  /** Connect-to-ready times (µs), hdr-encoded. */
  histogram: string;
  /** TLS clients: handshakes completed, and when the last one did (µs). */
  handshakes?: number;
  lastHandshakeUs?: number;
}

/** Result of a join-pairs request. */
export interface JoinPairsResult {
  joined: number;
  failed: number;
}

/** Result of a probe request. */
export interface ProbeResult {
  /** Clients that heard no setup line within the round's time. */
  unheard: number[];
}

/** Result of a broadcast-start request, sent when this worker's senders stop. */
export interface BroadcastResult {
  /** Messages sent, by sender id. */
  sent: Record<number, number>;
  startUs: number;
  endUs: number;
  /** Open loop: how late each batch left against its schedule (µs), hdr-encoded. */
  sendLag: string;
}

/** Result of a counts request. */
export interface CountsResult {
  /** Bench messages counted by clients that read (paused clients excluded). */
  delivered: number;
  /** Clients counted, and the least and most any of them received. */
  receivers: number;
  minPerReceiver: number;
  maxPerReceiver: number;
  /** Connections that closed since the run started. */
  closed: number;
  lastDeliveryUs: number;
  /** Send-to-receipt times (µs) seen by parsers, hdr-encoded. */
  histogram: string;
  parsed: number;
  /** Sequence numbers skipped (lost) or seen again (duplicated) by parsers. */
  gaps: number;
  duplicates: number;
  /** Parser/sender pairs whose count differs from what the sender sent (with expectedPerSender). */
  mismatched: number;
  checkedStreams: number;
  /** Receivers whose count differs from expectedPerReceiver. */
  receiversOff: number;
}

/** Result of an echo request. */
export interface EchoResult {
  roundTrips: number;
  startUs: number;
  endUs: number;
  histogram: string;
  unfinishedPairs: number;
}

/** Result of a close-all request. */
export interface CloseAllResult {
  closed: number;
}

/** A worker's reply to one request. */
export type WorkerReply =
  | { kind: "reply"; id: number; ok: true; result: unknown }
  | { kind: "reply"; id: number; ok: false; error: string };

/** A worker's periodic progress report. */
export interface WorkerProgress {
  kind: "progress";
  ready: number;
  sent: number;
  delivered: number;
  roundTrips: number;
}
