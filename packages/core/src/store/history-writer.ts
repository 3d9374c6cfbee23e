import type { MessageSink, StoredMessage } from "./types.js";
import { whenDone } from "./types.js";

/** Options of {@link HistoryWriter}. */
export interface HistoryWriterOptions {
  /** How long a message may wait before its batch is written, in ms (default 20). */
  flushMs: number;
  /**
   * Most messages waiting to be written (default 50,000). Past it, the oldest waiting message is
   * dropped from history (it was delivered live) and counted in `dropped`: memory stays bounded
   * while the disk is full or slower than the chat.
   */
  maxQueue: number;
  /** After a failed write, how long to wait before trying again, in ms (default 1000). */
  retryMs: number;
  /** A write failed: history is paused (called once per outage, with the error). */
  onPaused?(error: unknown): void;
  /** Writes work again after a pause; `dropped` messages were lost to the queue limit meanwhile. */
  onResumed?(dropped: number): void;
  /**
   * A batch was committed; `lagMs` is how long its oldest message waited, from being accepted to
   * its commit (the time in the queue and the write itself).
   */
  onWritten?(count: number, lagMs: number): void;
}

/** Dropped messages left at the front of the queue before it is cut down (see dropOldest). */
const COMPACT_AFTER = 1024;

/** Figures of a {@link HistoryWriter}. */
export interface HistoryWriterStats {
  /** Messages written to the store. */
  written: number;
  /** Messages waiting (or in the write under way). */
  queued: number;
  /** Messages dropped from history because the queue was full. */
  dropped: number;
  /** Failed writes (each is retried). */
  failures: number;
  /** Whether writes are failing now. */
  paused: boolean;
}

/**
 * Writes room messages to the store off the per-message path: a message is appended to a queue
 * (an array push), and the queue goes to the store in one transaction per `flushMs`. A write that
 * fails (disk full, I/O error) keeps its batch and is retried every `retryMs`; nothing accepted is
 * lost until the queue holds `maxQueue` messages, and what is dropped past that is counted and
 * reported, never silent. The sink is the store itself (synchronous for SQLite in memory) or
 * the store's own writer (SQLite on disk: a worker thread, see BackgroundWriter); with an
 * asynchronous sink one batch is in flight at a time, and what comes meanwhile waits for the
 * next, so a slow disk makes batches bigger and commits fewer without blocking the chat.
 */
export class HistoryWriter {
  /** Waiting messages are `queue[head..]`: dropping the oldest moves `head`, never shifts. */
  private queue: StoredMessage[] = [];
  private head = 0;
  /** The batch being written by an asynchronous sink (always empty with a synchronous one). */
  private inFlight: StoredMessage[] = [];
  /** Settles when the write under way has committed or failed. */
  private inFlightDone: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private droppedSincePause = 0;
  readonly stats: HistoryWriterStats = {
    written: 0,
    queued: 0,
    dropped: 0,
    failures: 0,
    paused: false,
  };

  constructor(
    private readonly sink: MessageSink,
    private readonly options: HistoryWriterOptions,
  ) {}

  /** Whether messages are waiting or being written (not yet known to be committed). */
  get pending(): boolean {
    return this.waiting + this.inFlight.length > 0;
  }

  /** Messages in the queue (not the write under way). */
  private get waiting(): number {
    return this.queue.length - this.head;
  }

  /**
   * The messages of one room not yet known to be committed, oldest first: with an asynchronous
   * sink, reads add them to what the store answers (a commit acknowledged a moment late may be
   * in both; ids tell them apart).
   */
  pendingIn(roomKey: string): StoredMessage[] {
    const found: StoredMessage[] = [];
    for (const m of this.inFlight) if (m.roomKey === roomKey) found.push(m);
    for (let i = this.head; i < this.queue.length; i++) {
      const m = this.queue[i]!;
      if (m.roomKey === roomKey) found.push(m);
    }
    return found;
  }

  /**
   * Writes what is queued now and settles when it is committed, or when a write fails (while
   * paused nothing waits for the retries); undefined when nothing is pending.
   */
  committed(): Promise<void> | undefined {
    if (!this.pending) return undefined;
    return (async () => {
      // At most the write under way, then the rest of the queue.
      for (let round = 0; round < 2 && this.pending && !this.stats.paused; round++) {
        await (this.flush() ?? this.inFlightDone);
      }
    })();
  }

  /** Queues a message; written within `flushMs` (or at the next retry while paused). */
  record(message: StoredMessage): void {
    if (this.closed) return;
    this.queue.push(message);
    if (this.waiting + this.inFlight.length > this.options.maxQueue) this.dropOldest();
    this.stats.queued = this.waiting + this.inFlight.length;
    this.arm(this.options.flushMs);
  }

  /**
   * Leaves the oldest waiting message out of history. At the bound this runs for every message
   * recorded, so it is O(1): `head` moves on, and the array is cut down (one copy of what
   * waits) only once the dropped part is as long as the rest.
   */
  private dropOldest(): void {
    this.head += 1;
    this.stats.dropped += 1;
    this.droppedSincePause += 1;
    if (this.head >= COMPACT_AFTER && this.head * 2 >= this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }

  /** The waiting messages, oldest first, taken out of the queue. */
  private takeWaiting(): StoredMessage[] {
    const taken = this.head === 0 ? this.queue : this.queue.slice(this.head);
    this.queue = [];
    this.head = 0;
    return taken;
  }

  /**
   * Writes what is queued now. Reads call it first, so a history reply includes messages sent a
   * moment ago. Returns a promise only for an asynchronous store.
   */
  flush(): void | Promise<void> {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.waiting === 0 || this.inFlight.length > 0) return;
    const batch = this.takeWaiting();
    this.inFlight = batch;
    let settle: (() => void) | undefined;
    const done = new Promise<void>((resolve) => {
      settle = resolve;
    });
    whenDone(
      () => this.sink.appendMessages(batch),
      (committedAt) => {
        this.inFlight = [];
        this.inFlightDone = undefined;
        this.stats.written += batch.length;
        this.stats.queued = this.waiting;
        this.options.onWritten?.(
          batch.length,
          (typeof committedAt === "number" ? committedAt : Date.now()) - batch[0]!.ts,
        );
        if (this.stats.paused) {
          this.stats.paused = false;
          this.options.onResumed?.(this.droppedSincePause);
          this.droppedSincePause = 0;
        }
        // What came during the write has waited already: it goes when its oldest message is
        // due (now, if it is: not a timer and a loop turn later), not a flushMs after this commit.
        if (this.waiting > 0) {
          const dueIn = this.options.flushMs - (Date.now() - this.queue[this.head]!.ts);
          if (dueIn <= 0) void this.flush();
          else this.arm(dueIn);
        }
        settle!();
      },
      (error) => {
        // The batch goes back in front of what came meanwhile, in order, within the bound.
        this.inFlight = [];
        this.inFlightDone = undefined;
        const queue = batch.concat(this.takeWaiting());
        const over = queue.length - this.options.maxQueue;
        // One copy per failed write (each retryMs), not one per message.
        this.queue = over > 0 ? queue.slice(over) : queue;
        if (over > 0) {
          this.stats.dropped += over;
          this.droppedSincePause += over;
        }
        this.stats.queued = this.queue.length;
        this.stats.failures += 1;
        if (!this.stats.paused) {
          this.stats.paused = true;
          this.options.onPaused?.(error);
        }
        this.arm(this.options.retryMs);
        settle!();
      },
    );
    // A synchronous store has settled by now: no promise for its callers to wait on.
    if (this.inFlight.length === 0) return undefined;
    this.inFlightDone = done;
    return done;
  }

  /** Writes what is left (one last try) and stops; later messages are ignored. */
  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(delayMs: number): void {
    if (this.timer !== undefined || this.closed) return;
    this.timer = setTimeout(this.flushBound, delayMs);
    this.timer.unref();
  }

  private readonly flushBound = (): void => {
    this.timer = undefined;
    void this.flush();
  };
}
