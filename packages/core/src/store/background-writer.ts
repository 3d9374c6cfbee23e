import { Worker } from "node:worker_threads";
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
}

interface Reply {
  seq: number;
  /** When the worker committed the batch, ms since the epoch. */
  committedAt?: number;
  /** Messages a retention batch deleted. */
  deleted?: number;
  error?: { message: string; code?: string };
}

interface Waiter {
  resolve(reply: Reply): void;
  reject(error: Error): void;
}

/** Values per message in a posted batch (see history-worker.js). */
const ROW_FIELDS = 8;

/**
 * Commits history batches on a worker thread that owns its own write connection, so that the
 * inserts, the full-text index and the WAL's work leave the event loop. A batch is posted as one
 * flat array (structured clone copies one array of primitives, not an object per message), and
 * its promise settles when the worker acknowledges the commit or reports why it failed: the
 * {@link HistoryWriter} above keeps its retry, pause and bound exactly as with a synchronous
 * store. A worker that dies fails its batches and is started again for the next one.
 */
export class BackgroundWriter implements MessageSink {
  private worker: Worker | undefined;
  private readonly waiters = new Map<number, Waiter>();
  private nextSeq = 1;
  private closedFlag = false;
  private closing: Promise<void> | undefined;

  constructor(private readonly options: BackgroundWriterOptions) {
    // Started now, not at the first batch: loading the driver and preparing statements in a new
    // thread takes a while (about a second on a busy machine), which the first messages said
    // after the server starts should not wait for.
    this.start();
  }

  /** Whether close() was called: a closed writer takes no more batches. */
  get closed(): boolean {
    return this.closedFlag;
  }

  /** Resolves with the time of the commit (ms since the epoch) once the worker reports it. */
  appendMessages(batch: readonly StoredMessage[]): Promise<number | undefined> {
    if (this.closedFlag) return Promise.reject(new Error("the history writer thread is closed"));
    const rows: Array<string | number | null> = new Array(batch.length * ROW_FIELDS);
    let i = 0;
    for (const m of batch) {
      rows[i++] = m.id;
      rows[i++] = m.ts;
      rows[i++] = m.room;
      rows[i++] = m.roomKey;
      rows[i++] = m.from;
      rows[i++] = m.text;
      rows[i++] = m.action ? 1 : 0;
      rows[i++] = m.to ?? null;
    }
    return this.post((seq) => ({ seq, rows })).then((reply) => reply.committedAt);
  }

  /**
   * One retention batch on the thread (SqliteStore.pruneMessages' rule and budget): its deletes,
   * and the full-text index deletes they trigger, leave the event loop too. Resolves with how
   * many messages it deleted.
   */
  pruneMessages(rule: RetentionRule, now: number, budget: number): Promise<number> {
    if (this.closedFlag) return Promise.reject(new Error("the history writer thread is closed"));
    const prune = { maxAgeMs: rule.maxAgeMs, maxPerRoom: rule.maxPerRoom, now, budget };
    return this.post((seq) => ({ seq, prune })).then((reply) => reply.deleted ?? 0);
  }

  /**
   * Settles when every batch posted before it is in the full-text index: the thread indexes
   * committed messages behind a mark, in larger transactions (migration 5), and a search asks
   * it to catch up first. Rejects when the catch-up fails (the index then lags; nothing is lost).
   */
  indexed(): Promise<void> {
    if (this.closedFlag) return Promise.reject(new Error("the history writer thread is closed"));
    return this.post((seq) => ({ seq, index: true })).then(() => undefined);
  }

  private post(message: (seq: number) => object): Promise<Reply> {
    const seq = this.nextSeq++;
    const worker = this.worker ?? this.start();
    return new Promise((resolve, reject) => {
      this.waiters.set(seq, { resolve, reject });
      worker.postMessage(message(seq));
    });
  }

  /**
   * Lets the worker finish what it was given, closes its connection and waits for it to exit;
   * every call waits for the same exit.
   */
  close(): Promise<void> {
    this.closedFlag = true;
    this.closing ??= this.stop();
    return this.closing;
  }

  private async stop(): Promise<void> {
    const worker = this.worker;
    if (worker === undefined) return;
    const exited = new Promise<void>((resolve) => worker.once("exit", () => resolve()));
    // Referenced while it drains: an unreferenced worker lets the process run out of work and
    // quit while close() is still awaited (exit code 13 from an awaiting top-level module).
    worker.ref();
    // Messages are handled in order: every batch posted before this is committed first.
    worker.postMessage({ close: true });
    await exited;
  }

  private start(): Worker {
    const worker = new Worker(new URL("./history-worker.js", import.meta.url), {
      workerData: {
        file: this.options.file,
        lockTimeoutMs: this.options.lockTimeoutMs,
        maxPageCount: this.options.maxPageCount,
        indexDelayMs: this.options.indexDelayMs,
        indexEveryRows: this.options.indexEveryRows,
      },
    });
    // Unreferenced: an owner that never closes the store does not keep the process alive.
    worker.unref();
    worker.on("message", (reply: Reply) => {
      const waiter = this.waiters.get(reply.seq);
      if (waiter === undefined) return;
      this.waiters.delete(reply.seq);
      if (reply.error === undefined) waiter.resolve(reply);
      else waiter.reject(Object.assign(new Error(reply.error.message), { code: reply.error.code }));
    });
    const fail = (error: Error) => {
      if (this.worker === worker) this.worker = undefined;
      for (const waiter of this.waiters.values()) waiter.reject(error);
      this.waiters.clear();
    };
    worker.on("error", fail);
    worker.on("exit", (code) => {
      if (this.waiters.size > 0) fail(new Error(`the history writer thread exited (code ${code})`));
      if (this.worker === worker) this.worker = undefined;
    });
    this.worker = worker;
    return worker;
  }
}
