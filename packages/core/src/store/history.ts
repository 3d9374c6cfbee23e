import {
  HistoryWriter,
  type HistoryWriterOptions,
  type HistoryWriterStats,
} from "./history-writer.js";
import type { Awaitable, ChatStore, HistoryQuery, RetentionRule, StoredMessage } from "./types.js";

/** Settings of {@link History}; every field has a default in defaults.ts. */
export interface HistorySettings
  extends Omit<HistoryWriterOptions, "onPaused" | "onResumed" | "onWritten"> {
  /** Messages a client gets when it joins a room (0: none). */
  joinLimit: number;
  /** Most messages one history or search request returns. */
  maxRequestLimit: number;
  /** What retention removes (nothing when both fields are undefined). */
  retention: RetentionRule;
  /** How often retention runs, in ms. */
  retentionEveryMs: number;
  /** Most messages one retention run deletes: small batches keep each run short. */
  retentionBatch: number;
}

/** What {@link History} reports to its owner. */
export interface HistoryEvents {
  onPaused?(error: unknown): void;
  onResumed?(dropped: number): void;
  onWritten?(count: number, lagMs: number): void;
  onRetentionError?(error: unknown): void;
}

/**
 * Room history over a {@link ChatStore}: a {@link HistoryWriter} for the messages, reads that
 * first write what is queued (a reply includes what was said a moment ago), and retention in
 * small background batches.
 */
export class History {
  readonly writer: HistoryWriter;
  private retentionTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly store: ChatStore,
    readonly settings: HistorySettings,
    private readonly events: HistoryEvents = {},
  ) {
    this.writer = new HistoryWriter(store, {
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

  /** Writer figures (written, queued, dropped, failures, paused). */
  get stats(): HistoryWriterStats {
    return this.writer.stats;
  }

  /** Queues a room message for writing. */
  record(message: StoredMessage): void {
    this.writer.record(message);
  }

  /** Messages for a query (limit capped at `maxRequestLimit`), oldest first. */
  query(query: HistoryQuery): Awaitable<StoredMessage[]> {
    const capped = { ...query, limit: Math.min(query.limit, this.settings.maxRequestLimit) };
    return this.afterFlush(() => this.store.queryMessages(capped));
  }

  /** Messages of a room containing every word, the newest first-capped, oldest first. */
  search(roomKey: string, words: readonly string[], limit: number): Awaitable<StoredMessage[]> {
    const capped = Math.min(limit, this.settings.maxRequestLimit);
    return this.afterFlush(() => this.store.searchMessages(roomKey, words, capped));
  }

  /** One retention batch (the timer calls it); returns how many messages it deleted. */
  applyRetention(now: number): Awaitable<number> {
    try {
      const deleted = this.store.pruneMessages(
        this.settings.retention,
        now,
        this.settings.retentionBatch,
      );
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

  /** Writes what is queued and stops retention; the store stays open (its owner closes it). */
  async close(): Promise<void> {
    if (this.retentionTimer !== undefined) clearInterval(this.retentionTimer);
    this.retentionTimer = undefined;
    await this.writer.close();
  }

  private afterFlush<T>(read: () => Awaitable<T>): Awaitable<T> {
    const flushed = this.writer.flush();
    return flushed instanceof Promise ? flushed.then(read) : read();
  }
}
