import {
  HistoryWriter,
  type HistoryWriterOptions,
  type HistoryWriterStats,
} from "./history-writer.js";
import { withPending } from "./pending-reads.js";
import { ReadBudget } from "./read-budget.js";
import type {
  Awaitable,
  ChatStore,
  ClosableMessageSink,
  HistoryQuery,
  RetentionRule,
  StoredMessage,
} from "./types.js";

/** Stored ids read per query by {@link History.knownIds}. */
const KNOWN_IDS_PAGE = 500;

/** Settings of {@link History}; every field has a default in defaults.ts. */
export interface HistorySettings
  extends Omit<HistoryWriterOptions, "onPaused" | "onResumed" | "onWritten"> {
  /** Messages a client gets when it joins a room (0: none). */
  joinLimit: number;
  /** Most messages one history or search request returns. */
  maxRequestLimit: number;
  /** What retention removes (nothing when both fields are undefined). */
  retention: RetentionRule;
  /** Whether to commit through the store's own writer (a worker thread) when it has one. */
  writeThread: boolean;
  /** How often retention runs, in ms. */
  retentionEveryMs: number;
  /** Most messages one retention run deletes: small batches keep each run short. */
  retentionBatch: number;
  /**
   * Time that history and search reads may take per second (on the event loop, or a search's
   * on the store's search thread), all clients together, ms (also the burst); past it requests
   * are answered "busy, retry".
   */
  readMsPerSecond: number;
  /** Time history reads on the event loop may take within one turn, all together, ms. */
  readTurnMs: number;
  /**
   * The nice value (Linux) of the store's writer and search threads: higher lets the event loop
   * have the CPU first when it is contended; 0 leaves them as the process runs.
   */
  threadNice: number;
  /**
   * Whether the store's writer and search threads run under Linux's SCHED_BATCH: woken (a
   * batch handed over), they wait for the running thread's turn instead of preempting it.
   */
  threadBatch: boolean;
}

/** Figures of {@link History}: its writer's, and how its writer's thread is scheduled. */
export interface HistoryStats extends HistoryWriterStats {
  /**
   * The nice value the writer's thread runs at, once it has started; absent without a thread
   * (history in memory, `writeThread: false`) or where it could not be read (no /proc).
   */
  writerNice?: number;
  /** Whether the writer's thread runs under SCHED_BATCH (absent as `writerNice` is). */
  writerBatch?: boolean;
}

/** What {@link History} reports to its owner. */
export interface HistoryEvents {
  onPaused?(error: unknown): void;
  onResumed?(dropped: number): void;
  onWritten?(count: number, lagMs: number): void;
  onRetentionError?(error: unknown): void;
}

/**
 * Room history over a {@link ChatStore}: a {@link HistoryWriter} for the messages (committing
 * through the store's own writer when it has one: SQLite on disk writes on a worker thread),
 * reads that include what was said a moment ago, and retention in small background batches.
 *
 * Read-your-writes: with a synchronous store a read first writes what is queued. With a
 * background writer a read answers at once from the store's committed rows plus the messages
 * still queued or in flight, merged by id with the query's own semantics, so that a join sees
 * the messages said just before it, in the same turn, before the room's next batch. A search
 * (the full-text index is the store's) waits for the pending commit instead.
 */
export class History {
  readonly writer: HistoryWriter;
  /** The event-loop time reads may take, server-wide (the request handlers charge it). */
  readonly readBudget: ReadBudget;
  /** The store's own writer (a worker thread), or undefined: writes go through the store. */
  private readonly backgroundWriter: ClosableMessageSink | undefined;
  private retentionTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly store: ChatStore,
    readonly settings: HistorySettings,
    private readonly events: HistoryEvents = {},
  ) {
    this.readBudget = new ReadBudget(
      settings.readMsPerSecond,
      settings.readMsPerSecond,
      Date.now(),
      settings.readTurnMs,
    );
    // Before the threads start: each lowers its own priority as it starts.
    store.setThreadPriority?.({ nice: settings.threadNice, batch: settings.threadBatch });
    this.backgroundWriter = settings.writeThread ? store.openMessageWriter?.() : undefined;
    this.writer = new HistoryWriter(this.backgroundWriter ?? store, {
      flushMs: settings.flushMs,
      maxQueue: settings.maxQueue,
      retryMs: settings.retryMs,
      onPaused: events.onPaused,
      onResumed: events.onResumed,
      onWritten: events.onWritten,
    });
    const { maxAgeMs, maxPerRoom } = settings.retention;
    if (maxAgeMs !== undefined || maxPerRoom !== undefined) {
      this.retentionTimer = setInterval(
        () => this.applyRetention(Date.now()),
        settings.retentionEveryMs,
      );
      this.retentionTimer.unref();
    }
  }

  /** Writer figures (written, queued, dropped, failures, paused) and how its thread runs. */
  get stats(): HistoryStats {
    const priority = this.backgroundWriter?.priority;
    if (priority === undefined) return this.writer.stats;
    return { ...this.writer.stats, writerNice: priority.nice, writerBatch: priority.batch };
  }

  /** Queues a room message for writing. */
  record(message: StoredMessage): void {
    this.writer.record(message);
  }

  /**
   * Messages for a query (limit capped at `maxRequestLimit`), oldest first. `spent`, if given,
   * hears how long the store's own calls took on this thread, ms (when they run, maybe later).
   */
  query(query: HistoryQuery, spent?: (ms: number) => void): Awaitable<StoredMessage[]> {
    const capped = { ...query, limit: Math.min(query.limit, this.settings.maxRequestLimit) };
    const read = timed(() => this.store.queryMessages(capped), spent);
    if (this.backgroundWriter === undefined || !this.writer.pending) {
      return this.afterFlush(read);
    }
    const pending = this.writer.pendingIn(capped.roomKey);
    const stored = read();
    if (pending.length === 0) return stored;
    return stored instanceof Promise
      ? stored.then((rows) => withPending(capped, rows, pending))
      : withPending(capped, stored, pending);
  }

  /**
   * Messages of a room containing every word, the newest first-capped, oldest first. `spent` as
   * for {@link query}, or the search's time on the store's search thread when it runs there.
   */
  search(
    roomKey: string,
    words: readonly string[],
    limit: number,
    spent?: (ms: number) => void,
  ): Awaitable<StoredMessage[]> {
    const capped = Math.min(limit, this.settings.maxRequestLimit);
    const read = timed(() => this.store.searchMessages(roomKey, words, capped), spent);
    const backgroundWriter = this.backgroundWriter;
    if (backgroundWriter === undefined) return this.afterFlush(read);
    // On disk, the search runs on the store's search thread when it has one: a costly query
    // leaves the event loop (its time there is what `spent` hears).
    const search = () => this.store.searchInBackground?.(roomKey, words, capped, spent) ?? read();
    // Committed first, then indexed by the writer's thread (it indexes behind its commits); a
    // failed catch-up still answers, on this connection (the store indexes what it can first).
    const indexed = () =>
      backgroundWriter.indexed === undefined
        ? search()
        : backgroundWriter.indexed().then(search, read);
    const committed = this.writer.committed();
    return committed === undefined ? indexed() : committed.then(indexed);
  }

  /**
   * Which of `ids` (messages of one room) are already stored or queued: a cluster node that
   * fetches a room's past from the cluster's log records only the others (an id is stored once).
   * Pages through the room's stored ids from the smallest asked for to the largest.
   */
  async knownIds(roomKey: string, ids: readonly number[]): Promise<Set<number>> {
    const wanted = new Set(ids);
    const found = new Set<number>();
    if (wanted.size === 0) return found;
    if (this.backgroundWriter === undefined) await this.writer.flush();
    // Queued or in flight first, committed after: a batch that commits in between is then in
    // the store, so nothing slips between the two reads.
    for (const message of this.writer.pendingIn(roomKey))
      if (wanted.has(message.id)) found.add(message.id);
    let min = Number.POSITIVE_INFINITY;
    let max = 0;
    for (const id of wanted) {
      if (id < min) min = id;
      if (id > max) max = id;
    }
    let after = min - 1;
    for (;;) {
      const rows = await this.store.queryMessages({
        kind: "after",
        roomKey,
        limit: KNOWN_IDS_PAGE,
        anchor: { id: after },
      });
      for (const row of rows) if (wanted.has(row.id)) found.add(row.id);
      const last = rows[rows.length - 1];
      if (last === undefined || rows.length < KNOWN_IDS_PAGE || last.id >= max) return found;
      after = last.id;
    }
  }

  /** One retention batch (the timer calls it); returns how many messages it deleted. */
  applyRetention(now: number): Awaitable<number> {
    const { retention, retentionBatch } = this.settings;
    try {
      // On the writer's thread when it has one (SQLite on disk), else on the store.
      const deleted =
        this.backgroundWriter?.pruneMessages !== undefined
          ? this.backgroundWriter.pruneMessages(retention, now, retentionBatch)
          : this.store.pruneMessages(retention, now, retentionBatch);
      if (deleted instanceof Promise) {
        return deleted.catch((error: unknown) => {
          this.events.onRetentionError?.(error);
          return 0;
        });
      }
      return deleted;
    } catch (error) {
      this.events.onRetentionError?.(error);
      return 0;
    }
  }

  /**
   * Writes what is queued, stops retention and closes the background writer (its thread commits
   * the last batch first); the store stays open (its owner closes it).
   */
  async close(): Promise<void> {
    if (this.retentionTimer !== undefined) clearInterval(this.retentionTimer);
    this.retentionTimer = undefined;
    await this.writer.close();
    await this.backgroundWriter?.close();
  }

  private afterFlush<T>(read: () => Awaitable<T>): Awaitable<T> {
    const flushed = this.writer.flush();
    return flushed instanceof Promise ? flushed.then(read) : read();
  }
}

/** `read`, telling `spent` how long each call took (synchronous time on this thread), ms. */
function timed<T>(read: () => T, spent: ((ms: number) => void) | undefined): () => T {
  if (spent === undefined) return read;
  return () => {
    const started = performance.now();
    try {
      return read();
    } finally {
      spent(performance.now() - started);
    }
  };
}
