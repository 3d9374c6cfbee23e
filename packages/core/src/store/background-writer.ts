import {
  StoreThread,
  type ThreadPriority,
  type ThreadPriorityOptions,
  type ThreadReply,
} from "./store-thread.js";
import type { MessageSink, RetentionRule, StoredMessage } from "./types.js";

/** Options of {@link BackgroundWriter}. */
export interface BackgroundWriterOptions {
  /** The database file (already created and migrated by the main connection). */
  file: string;
  /** How long a write waits for a lock held by another connection, in ms. */
  lockTimeoutMs: number;
  /** SQLite's max_page_count for the write connection (tests use it to fill the "disk"). */
  maxPageCount?: number;
  /** Longest a committed message waits for the full-text index, in ms. */
  indexDelayMs: number;
  /** Committed messages not yet indexed that make the thread index them at once. */
  indexEveryRows: number;
  /**
   * How the thread lowers its priority as it starts (Linux), so that the event loop gets the CPU
   * first when it is contended (see thread-priority.js).
   */
  priority: ThreadPriorityOptions;
}

interface Reply extends ThreadReply {
  /** When the worker committed the batch, ms since the epoch. */
  committedAt?: number;
  /** Messages a retention batch deleted. */
  deleted?: number;
}

/** Numbers per message in a posted batch: id, ts, action (see history-worker.js). */
const NUMBER_FIELDS = 3;
/** Strings per message in a posted batch: room, roomKey, from, text, to. */
const STRING_FIELDS = 5;
/** The length that stands for "no recipient" (a room message). */
const NO_RECIPIENT = 0xffffffff;

/**
 * Commits history batches on a worker thread that owns its own write connection, so that the
 * inserts, the full-text index and the WAL's work leave the event loop. A batch is posted packed:
 * its numbers in one typed array and its strings joined into one string with their lengths in
 * another, both arrays transferred. Structured clone then copies one string instead of walking
 * eight values per message, which took about 0.7 us of the event loop per message (measured
 * with a MessageChannel, 200-message batches: 0.82 us per message as a flat array, 0.13 packed).
 * Its promise settles when the worker acknowledges the commit or reports why it failed: the
 * {@link HistoryWriter} above keeps its retry, pause and bound exactly as with a synchronous
 * store. A worker that dies fails its batches and is started again for the next one.
 */
export class BackgroundWriter implements MessageSink {
  private readonly thread: StoreThread<Reply>;

  constructor(options: BackgroundWriterOptions) {
    this.thread = new StoreThread(
      new URL("./history-worker.js", import.meta.url),
      {
        file: options.file,
        lockTimeoutMs: options.lockTimeoutMs,
        maxPageCount: options.maxPageCount,
        indexDelayMs: options.indexDelayMs,
        indexEveryRows: options.indexEveryRows,
        nice: options.priority.nice,
        batch: options.priority.batch,
      },
      "the history writer thread",
    );
    // Started now, not at the first batch: loading the driver and preparing statements in a new
    // thread takes a while (about a second on a busy machine), which the first messages said
    // after the server starts should not wait for.
    this.thread.warmUp();
  }

  /** Whether close() was called: a closed writer takes no more batches. */
  get closed(): boolean {
    return this.thread.closed;
  }

  /** The thread's id, nice value and policy once it has started (undefined where unknown). */
  get priority(): ThreadPriority | undefined {
    return this.thread.priority;
  }

  /** Resolves with the time of the commit (ms since the epoch) once the worker reports it. */
  appendMessages(batch: readonly StoredMessage[]): Promise<number | undefined> {
    const numbers = new Float64Array(batch.length * NUMBER_FIELDS);
    const lengths = new Uint32Array(batch.length * STRING_FIELDS);
    let text = "";
    let n = 0;
    let l = 0;
    for (const m of batch) {
      numbers[n++] = m.id;
      numbers[n++] = m.ts;
      numbers[n++] = m.action ? 1 : 0;
      lengths[l++] = m.room.length;
      lengths[l++] = m.roomKey.length;
      lengths[l++] = m.from.length;
      lengths[l++] = m.text.length;
      lengths[l++] = m.to === undefined ? NO_RECIPIENT : m.to.length;
      text += m.room + m.roomKey + m.from + m.text + (m.to ?? "");
    }
    return this.thread
      .post((seq) => ({ seq, numbers, lengths, text }), [numbers.buffer, lengths.buffer])
      .then((reply) => reply.committedAt);
  }

  /**
   * One retention batch on the thread (SqliteStore.pruneMessages' rule and budget): its deletes,
   * and the full-text index deletes they trigger, leave the event loop too. Resolves with how
   * many messages it deleted.
   */
  pruneMessages(rule: RetentionRule, now: number, budget: number): Promise<number> {
    const prune = { maxAgeMs: rule.maxAgeMs, maxPerRoom: rule.maxPerRoom, now, budget };
    return this.post((seq) => ({ seq, prune })).then((reply) => reply.deleted ?? 0);
  }

  /**
   * Settles when every batch posted before it is in the full-text index: the thread indexes
   * committed messages behind a mark, in larger transactions (migration 5), and a search asks
   * it to catch up first. Rejects when the catch-up fails (the index then lags; nothing is lost).
   */
  indexed(): Promise<void> {
    return this.post((seq) => ({ seq, index: true })).then(() => undefined);
  }

  private post(message: (seq: number) => object): Promise<Reply> {
    return this.thread.post(message);
  }

  /**
   * Lets the worker finish what it was given, closes its connection and waits for it to exit;
   * every call waits for the same exit.
   */
  close(): Promise<void> {
    return this.thread.close();
  }
}
