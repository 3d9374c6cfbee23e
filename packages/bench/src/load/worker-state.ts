import type { Socket } from "node:net";
import type * as hdr from "hdr-histogram-js";
import { nowUs } from "../clock.js";
import { createLatencyHistogram } from "../latency.js";
import { LineScanner } from "../line-scanner.js";
import type { WorkerProgress } from "./protocol.js";

/** One client connection of the load generator. */
export interface Client {
  id: number;
  socket: Socket;
  ready: boolean;
  closed: boolean;
  scanner: LineScanner;
  /** Reacts after each chunk has been scanned (senders top up their window here). */
  afterChunk: (() => void) | undefined;
  /**
   * Bytes after a message's text on a received line (`"}` for a JSON-line client, whose text is
   * the frame's last field); undefined for text clients. Every scanner of the client uses it.
   */
  lineTrailer?: Buffer;
  /**
   * Turns text-mode request lines (`/join ROOM`, message text) into what this client speaks on
   * the wire (JSON requests in a WebSocket frame); undefined: written as they are.
   */
  encodeLines?: (lines: Buffer | string) => Buffer;
}

/** Writes text-mode request lines to a client, in whatever its transport speaks. */
export function writeLines(client: Client, lines: Buffer | string): void {
  client.socket.write(client.encodeLines === undefined ? lines : client.encodeLines(lines));
}

/** Counters of the current broadcast run. */
export interface RunState {
  histogram: hdr.Histogram;
  parsed: number;
  gaps: number;
  duplicates: number;
  /** Per parser: sender id -> last sequence number seen. */
  lastSeq: Map<number, Map<number, number>>;
  paused: Set<number>;
  /** Senders that do not receive their own messages (servers without self-echo). */
  ownStream: Set<number>;
  /** Messages each local sender sent in this run. */
  sent: Map<number, number>;
}

/** Fresh counters for a run. */
export function newRunState(): RunState {
  return {
    histogram: createLatencyHistogram(),
    parsed: 0,
    gaps: 0,
    duplicates: 0,
    lastSeq: new Map(),
    paused: new Set(),
    ownStream: new Set(),
    sent: new Map(),
  };
}

/** A progress report with every count at zero. */
export function emptyProgress(): WorkerProgress {
  return { kind: "progress", ready: 0, sent: 0, delivered: 0, roundTrips: 0 };
}

/** A scanner that only counts bench messages (`trailer`: see {@link Client.lineTrailer}). */
export function countingScanner(trailer?: Buffer): LineScanner {
  return new LineScanner(2, undefined, trailer);
}

/**
 * Size of a worker's read buffer. One buffer serves every socket of the worker, since each read
 * is scanned before the next one starts; 256 KiB lets one read take what a 64 KiB read would
 * need four calls for when a receiver falls behind.
 */
export const READ_BUFFER_BYTES = 256 * 1024;

/** Everything one load-generator thread holds: its clients and the counters of the run. */
export class WorkerState {
  readonly clients = new Map<number, Client>();
  /** Pairs joined by the last join-pairs request: client id -> peer id. */
  readonly peers = new Map<number, number>();
  /** Where every socket of this worker reads into (see {@link READ_BUFFER_BYTES}). */
  readonly readBuffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);
  /** Time of the chunk being handled, read once per chunk rather than once per line. */
  chunkNowUs = 0;
  lastDeliveryUs = 0;
  closedSinceRun = 0;
  progress: WorkerProgress = emptyProgress();
  run: RunState = newRunState();

  /** @param t0Us time origin of the run on the monotonic clock; message stamps count from it. */
  constructor(readonly t0Us: number) {}

  /** Handles a chunk received by `client`. */
  onData(client: Client, chunk: Buffer): void {
    this.chunkNowUs = nowUs();
    if (client.scanner.push(chunk) > 0) this.lastDeliveryUs = this.chunkNowUs;
    client.afterChunk?.();
  }

  /**
   * Handles the payload pieces of one received chunk, as {@link onData} handles a chunk (a
   * WebSocket client's chunk without its frame headers).
   */
  onPieces(client: Client, scan: (count: (piece: Buffer) => void) => void): void {
    this.chunkNowUs = nowUs();
    let found = 0;
    scan((piece) => {
      found += client.scanner.push(piece);
    });
    if (found > 0) this.lastDeliveryUs = this.chunkNowUs;
    client.afterChunk?.();
  }
}
