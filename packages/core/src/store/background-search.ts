import { Worker } from "node:worker_threads";

/** Options of {@link BackgroundSearch}. */
export interface BackgroundSearchOptions {
  /** The database file (already created and migrated by the main connection). */
  file: string;
  /** How long a read waits for a lock held by another connection, in ms. */
  lockTimeoutMs: number;
}

/** A row as the search thread returns it (the columns of SqliteStore's search). */
export interface SearchRow {
  id: number;
  ts: number;
  room: string;
  room_key: string;
  sender: string;
  body: string;
  action: number;
}

interface Reply {
  seq: number;
  rows?: SearchRow[];
  ms?: number;
  error?: { message: string; code?: string };
}

interface Waiter {
  resolve(result: { rows: SearchRow[]; ms: number }): void;
  reject(error: Error): void;
}

/**
 * Runs full-text searches on a worker thread with its own read-only connection, so that a
 * costly one (tens of ms in a room of a million messages) leaves the event loop. Searches are
 * answered in order; what bounds how many wait is the caller's (History's read budget). WAL lets
 * this connection read while the writer's thread commits. A worker that dies fails its searches
 * and is started again for the next one.
 */
export class BackgroundSearch {
  private worker: Worker | undefined;
  private readonly waiters = new Map<number, Waiter>();
  private nextSeq = 1;
  private closing: Promise<void> | undefined;

  constructor(private readonly options: BackgroundSearchOptions) {}

  /** Whether close() was called. */
  get closed(): boolean {
    return this.closing !== undefined;
  }

  /** Resolves with the rows (newest first) and the query's time on the search thread, ms. */
  search(
    match: string,
    roomKey: string,
    limit: number,
  ): Promise<{ rows: SearchRow[]; ms: number }> {
    if (this.closing !== undefined) {
      return Promise.reject(new Error("the search thread is closed"));
    }
    const seq = this.nextSeq++;
    const worker = this.worker ?? this.start();
    return new Promise((resolve, reject) => {
      this.waiters.set(seq, { resolve, reject });
      worker.postMessage({ seq, match, roomKey, limit });
    });
  }

  /** Closes the thread's connection and waits for it to exit; every call waits for the same exit. */
  close(): Promise<void> {
    this.closing ??= this.stop();
    return this.closing;
  }

  private async stop(): Promise<void> {
    const worker = this.worker;
    if (worker === undefined) return;
    const exited = new Promise<void>((resolve) => worker.once("exit", () => resolve()));
    worker.ref();
    worker.postMessage({ close: true });
    await exited;
  }

  private start(): Worker {
    const worker = new Worker(new URL("./search-worker.js", import.meta.url), {
      workerData: { file: this.options.file, lockTimeoutMs: this.options.lockTimeoutMs },
    });
    // Unreferenced: an owner that never closes the store does not keep the process alive.
    worker.unref();
    worker.on("message", (reply: Reply) => {
      const waiter = this.waiters.get(reply.seq);
      if (waiter === undefined) return;
      this.waiters.delete(reply.seq);
      if (reply.error === undefined) waiter.resolve({ rows: reply.rows ?? [], ms: reply.ms ?? 0 });
      else waiter.reject(Object.assign(new Error(reply.error.message), { code: reply.error.code }));
    });
    const fail = (error: Error) => {
      if (this.worker === worker) this.worker = undefined;
      for (const waiter of this.waiters.values()) waiter.reject(error);
      this.waiters.clear();
    };
    worker.on("error", fail);
    worker.on("exit", (code) => {
      if (this.waiters.size > 0) fail(new Error(`the search thread exited (code ${code})`));
      if (this.worker === worker) this.worker = undefined;
    });
    this.worker = worker;
    return worker;
  }
}
