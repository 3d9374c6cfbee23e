import {
  StoreThread,
  type ThreadPriority,
  type ThreadPriorityOptions,
  type ThreadReply,
} from "./store-thread.js";

/** Options of {@link BackgroundSearch}. */
export interface BackgroundSearchOptions {
  /** The database file (already created and migrated by the main connection). */
  file: string;
  /** How long a read waits for a lock held by another connection, in ms. */
  lockTimeoutMs: number;
  /** How the thread lowers its priority as it starts (as BackgroundWriterOptions.priority). */
  priority: ThreadPriorityOptions;
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

interface Reply extends ThreadReply {
  rows?: SearchRow[];
  ms?: number;
}

/**
 * Runs full-text searches on a worker thread with its own read-only connection, so that a
 * costly one (tens of ms in a room of a million messages) leaves the event loop. Searches are
 * answered in order; what bounds how many wait is the caller's (History's read budget). WAL lets
 * this connection read while the writer's thread commits. A worker that dies fails its searches
 * and is started again for the next one.
 */
export class BackgroundSearch {
  private readonly thread: StoreThread<Reply>;

  constructor(options: BackgroundSearchOptions) {
    this.thread = new StoreThread(
      new URL("./search-worker.js", import.meta.url),
      {
        file: options.file,
        lockTimeoutMs: options.lockTimeoutMs,
        nice: options.priority.nice,
        batch: options.priority.batch,
      },
      "the search thread",
    );
  }

  /** Whether close() was called. */
  get closed(): boolean {
    return this.thread.closed;
  }

  /** The thread's id, nice value and policy once it has started (undefined where unknown). */
  get priority(): ThreadPriority | undefined {
    return this.thread.priority;
  }

  /** Resolves with the rows (newest first) and the query's time on the search thread, ms. */
  search(
    match: string,
    roomKey: string,
    limit: number,
  ): Promise<{ rows: SearchRow[]; ms: number }> {
    return this.thread
      .post((seq) => ({ seq, match, roomKey, limit }))
      .then((reply) => ({ rows: reply.rows ?? [], ms: reply.ms ?? 0 }));
  }

  /** Closes the thread's connection and waits for it to exit; every call waits for the same exit. */
  close(): Promise<void> {
    return this.thread.close();
  }
}
