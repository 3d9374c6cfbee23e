/** Messages between the bench and a server child process (over the IPC channel of `fork`). */

/** Which server a child runs. */
export const SERVER_KINDS = {
  tcpchat: "tcpchat",
  naive: "naive",
  /** The naive relay with one write per socket per event-loop turn (see naive-relay.ts). */
  coalescing: "coalescing",
} as const;
/** A server the bench can start in a child process. */
export type ServerKind = (typeof SERVER_KINDS)[keyof typeof SERVER_KINDS];

/** What the child is started with (as JSON in argv). */
export interface ServerChildConfig {
  kind: ServerKind;
  /** ChatServerOptions for tcpchat (ignored by the naive relay). */
  options: Record<string, unknown>;
  host: string;
  /** An accept policy (core's PolicyConfig, as JSON) for tcpchat; the flood run uses it. */
  policy?: Record<string, unknown>;
  /**
   * A data directory for tcpchat: the server keeps history in SQLite there (`openDataDirectory`),
   * and its stats gain `historyLag`, the commit lag of its batches. Without it, no history.
   */
  dataDir?: string;
}

/** A request to the child; each gets one {@link ChildReply} with the same id. */
export type ChildRequest =
  | { id: number; op: "measure" }
  | { id: number; op: "peek" }
  | { id: number; op: "reset-peak" }
  | { id: number; op: "close" };

/** The server process's memory and CPU, measured after a forced GC. */
export interface ServerMeasure {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
  /** Highest RSS since the last reset-peak (or since start where the kernel cannot reset it). */
  peakRss: number;
  /**
   * How late a 10 ms timer ran in the server since the last reset-peak, ms: how long the
   * server's event loop was busy without a break (a long flush or a GC pause shows here).
   */
  loopDelay: { p50Ms: number; p99Ms: number; maxMs: number };
  /** CPU time since the child started, µs. */
  cpuUserUs: number;
  cpuSystemUs: number;
  /** The server's own counters (tcpchat `stats()`, or the naive relay's). */
  stats: Record<string, unknown>;
}

/** A message from the child. */
export type ChildMessage =
  | { type: "listening"; address: string; port: number }
  | { type: "failed"; error: string }
  | { type: "reply"; id: number; measure?: ServerMeasure; peakReset?: boolean };

/** Commit lag of a tcpchat child's history batches (its stats' `historyLag`), in ms. */
export interface HistoryLag {
  /** Batches committed so far. */
  batches: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}
