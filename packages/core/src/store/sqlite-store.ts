import { mkdirSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import {
  DEFAULT_FTS_INDEX_DELAY_MS,
  DEFAULT_FTS_INDEX_EVERY_ROWS,
  DEFAULT_STORE_THREAD_BATCH,
  DEFAULT_STORE_THREAD_NICE,
} from "../defaults.js";
import { type ChatErrorCode, StoreError } from "../errors.js";
import { BackgroundSearch, type SearchRow } from "./background-search.js";
import { BackgroundWriter } from "./background-writer.js";
import { MIGRATIONS } from "./migrations.js";
import type { ThreadPriority, ThreadPriorityOptions } from "./store-thread.js";
import type {
  ChatStore,
  ClosableMessageSink,
  HistoryAnchor,
  HistoryQuery,
  RetentionRule,
  StoredAccount,
  StoredBan,
  StoredMessage,
  StoredTopic,
} from "./types.js";

/** The database file's name inside a data directory. */
export const DATA_FILE_NAME = "tcpchat.db";

/** Options of {@link openSqliteStore}. */
export interface SqliteStoreOptions {
  /**
   * How long opening waits for another process's lock before CHAT_ERR_STORE_LOCKED, in ms
   * (default 1000).
   */
  lockTimeoutMs?: number;
  /**
   * SQLite's max_page_count for history writes: a database file capped at this many pages
   * (4 KiB each) reports a full disk (SQLITE_FULL) past it. Default: no cap. Tests use it to fill
   * a "disk" without filling one.
   */
  maxPageCount?: number;
  /**
   * Longest a message committed by the history writer's thread waits before it is added to the
   * full-text index, in ms (default 1000). A search never misses it: it has the rest indexed
   * first.
   */
  ftsIndexDelayMs?: number;
  /** Committed messages that make the writer's thread index them before the delay (default 4096). */
  ftsIndexEveryRows?: number;
}

/** A row of `messages` as the queries read it: the search thread's columns, and a DM's recipient. */
interface MessageRow extends SearchRow {
  recipient?: string | null;
}

interface BanRow {
  target: string;
  source: string;
  created_at: number;
  expires_at: number | null;
  reason: string | null;
}

interface AccountRow {
  key: string;
  name: string;
  password_hash: string;
  created_at: number;
  operator: number;
}

const COLUMNS = "id, ts, room, room_key, sender, body, action, recipient";
/** Rows per INSERT statement (as in history-worker.js, which says why). */
const ROWS_PER_INSERT = 32;
/** Values bound per message row, in COLUMNS order. */
const ROW_FIELDS = 8;

/**
 * Opens (or creates) the store of a data directory: `DIR/tcpchat.db`, creating DIR if needed.
 * `":memory:"` keeps everything in memory (gone at exit). Failures are {@link StoreError}s
 * with a stable code: CHAT_ERR_STORE_OPEN, _CORRUPT, _LOCKED or _TOO_NEW.
 */
export function openDataDirectory(dir: string, options: SqliteStoreOptions = {}): SqliteStore {
  if (dir === ":memory:") return openSqliteStore(":memory:", options);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (error) {
    throw storeError("CHAT_ERR_STORE_OPEN", error, `Cannot create the data directory ${dir}`);
  }
  return openSqliteStore(join(dir, DATA_FILE_NAME), options);
}

/** Opens (or creates) a SQLite store at `file` (or `":memory:"`). See {@link openDataDirectory}. */
export function openSqliteStore(file: string, options: SqliteStoreOptions = {}): SqliteStore {
  const lockTimeoutMs = options.lockTimeoutMs ?? 1000;
  const lock = file === ":memory:" ? undefined : takeDirectoryLock(file, lockTimeoutMs);
  let db: Database.Database;
  try {
    db = new Database(file, { timeout: lockTimeoutMs });
  } catch (error) {
    lock?.close();
    throw storeError(classify(error, "CHAT_ERR_STORE_OPEN"), error, `Cannot open ${file}`);
  }
  try {
    // WAL: readers never wait for the writer (the history writer's thread commits on a
    // connection of its own while this one answers history requests), and a commit appends to
    // the log instead of rewriting pages. synchronous=NORMAL: a commit does not wait for fsync
    // (a power cut may lose the last commits, never corrupt the file).
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = NORMAL");
    if (options.maxPageCount !== undefined) db.pragma(`max_page_count = ${options.maxPageCount}`);
    migrate(db);
    const store = new SqliteStore(db, file, {
      lock,
      lockTimeoutMs,
      maxPageCount: options.maxPageCount,
      indexDelayMs: options.ftsIndexDelayMs ?? DEFAULT_FTS_INDEX_DELAY_MS,
      indexEveryRows: options.ftsIndexEveryRows ?? DEFAULT_FTS_INDEX_EVERY_ROWS,
    });
    // What the last run committed and did not index (it stopped before its catch-up).
    store.indexPending();
    return store;
  } catch (error) {
    db.close();
    lock?.close();
    if (error instanceof StoreError) throw error;
    throw storeError(classify(error, "CHAT_ERR_STORE_CORRUPT"), error, `Cannot use ${file}`);
  }
}

/**
 * One server per database: two processes must never hand out the same message ids. The history
 * writer's thread needs a second connection, so the database itself cannot be opened in
 * EXCLUSIVE mode; instead a small lock database beside it (`FILE-lock`) is, and keeps its
 * exclusive lock until closed. The lock is the operating system's: a process that dies drops it.
 */
function takeDirectoryLock(file: string, timeoutMs: number): Database.Database {
  let lock: Database.Database | undefined;
  try {
    lock = new Database(`${file}-lock`, { timeout: timeoutMs });
    lock.pragma("locking_mode = EXCLUSIVE");
    // The first write takes the exclusive lock, and EXCLUSIVE mode holds it after the commit.
    lock.exec("BEGIN EXCLUSIVE; COMMIT");
    return lock;
  } catch (error) {
    lock?.close();
    throw storeError(classify(error, "CHAT_ERR_STORE_OPEN"), error, `Cannot open ${file}`);
  }
}

/** Applies the migrations this database has not seen, each in its own transaction. */
function migrate(db: Database.Database): void {
  db.exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)");
  const row = db.prepare("SELECT max(version) AS version FROM schema_version").get() as {
    version: number | null;
  };
  const current = row.version ?? 0;
  if (current > MIGRATIONS.length) {
    throw new StoreError("CHAT_ERR_STORE_TOO_NEW", {
      message: `The database is at schema version ${current}; this tcpchat knows up to ${MIGRATIONS.length}.`,
    });
  }
  for (let version = current + 1; version <= MIGRATIONS.length; version++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[version - 1]!);
      db.prepare("INSERT INTO schema_version (version) VALUES (?)").run(version);
    })();
  }
}

function classify(error: unknown, fallback: ChatErrorCode): ChatErrorCode {
  const code = (error as { code?: string }).code ?? "";
  if (code === "SQLITE_NOTADB" || code.startsWith("SQLITE_CORRUPT"))
    return "CHAT_ERR_STORE_CORRUPT";
  if (code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED")) {
    return "CHAT_ERR_STORE_LOCKED";
  }
  if (code.startsWith("SQLITE_CANTOPEN") || code.startsWith("SQLITE_READONLY")) {
    return "CHAT_ERR_STORE_OPEN";
  }
  return fallback;
}

function storeError(code: ChatErrorCode, cause: unknown, what: string): StoreError {
  const detail = cause instanceof Error ? cause.message : String(cause);
  return new StoreError(code, { message: `${what}: ${detail}.`, cause });
}

/**
 * The SELECT of one page of a room's history: the newest rows before `anchor` (`<`, `<=`;
 * newest first) or the oldest after it (`>`; oldest first), `@limit` of them. A time anchor
 * orders by time, then id: the (room_key, ts) index (which ends in the id) then walks the page
 * in order and stops after `@limit` rows. Ordered by id alone, SQLite read every message on the
 * anchor's side of the time and sorted them, so one request cost the event loop time in
 * proportion to the room: 0.39 to 0.74 s for a page before a time in a room of 1 million
 * messages (0.5 to 0.7 ms with the index).
 */
export function pageSql(anchor: HistoryAnchor | undefined, side: "<" | "<=" | ">"): string {
  const column = anchor === undefined ? undefined : "id" in anchor ? "id" : "ts";
  const where = column === undefined ? "" : ` AND ${column} ${side} @${column}`;
  const direction = side === ">" ? "ASC" : "DESC";
  const order = column === "ts" ? `ts ${direction}, id ${direction}` : `id ${direction}`;
  return `SELECT ${COLUMNS} FROM messages WHERE room_key = @roomKey${where} ORDER BY ${order} LIMIT @limit`;
}

function toMessage(row: MessageRow): StoredMessage {
  return {
    id: row.id,
    ts: row.ts,
    room: row.room,
    roomKey: row.room_key,
    from: row.sender,
    text: row.body,
    action: row.action === 1,
    ...(row.recipient == null ? {} : { to: row.recipient }),
  };
}

/**
 * An FTS5 query that matches every word as a prefix, with FTS5's syntax characters neutralized:
 * each word becomes a quoted string (quotes doubled), so `a OR b`, `NEAR(` or `"` are just text.
 */
export function ftsQuery(words: readonly string[]): string {
  return words.map((word) => `"${word.replaceAll('"', '""')}"*`).join(" ");
}

/**
 * The SQLite backend of {@link ChatStore} (better-sqlite3: synchronous calls, so a history
 * reply is ready in the same turn as its request). One connection, statements prepared once.
 */
export class SqliteStore implements ChatStore {
  readonly description: string;
  private readonly insertStatements = new Map<number, Database.Statement>();
  private readonly upsertRoom: Database.Statement;
  private readonly appendBatch: (batch: readonly StoredMessage[]) => void;
  private readonly indexedThrough: Database.Statement;
  private readonly lastId: Database.Statement;
  private readonly indexRange: Database.Statement;
  private readonly setIndexedThrough: Database.Statement;

  private writer: BackgroundWriter | undefined;
  /** The full-text search's thread (a database on disk only), started at the first search. */
  private searcher: BackgroundSearch | undefined;
  /** How the threads started from now on lower their priority (see {@link setThreadPriority}). */
  private threadPriority: ThreadPriorityOptions = {
    nice: DEFAULT_STORE_THREAD_NICE,
    batch: DEFAULT_STORE_THREAD_BATCH,
  };

  constructor(
    private readonly db: Database.Database,
    /** The database file, or ":memory:". */
    readonly file: string,
    private readonly files: {
      /** The directory lock (undefined in memory), released by close(). */
      lock: Database.Database | undefined;
      lockTimeoutMs: number;
      maxPageCount: number | undefined;
      indexDelayMs: number;
      indexEveryRows: number;
    } = {
      lock: undefined,
      lockTimeoutMs: 1000,
      maxPageCount: undefined,
      indexDelayMs: DEFAULT_FTS_INDEX_DELAY_MS,
      indexEveryRows: DEFAULT_FTS_INDEX_EVERY_ROWS,
    },
  ) {
    const version = (db.prepare("SELECT sqlite_version() AS v").get() as { v: string }).v;
    this.description =
      file === ":memory:"
        ? `SQLite ${version} in memory (nothing is kept)`
        : `SQLite ${version} at ${file}`;
    this.upsertRoom = db.prepare(
      "INSERT INTO rooms (room_key, room) VALUES (?, ?) ON CONFLICT (room_key) DO UPDATE SET room = excluded.room",
    );
    // The full-text index follows the mark of migration 5 (not a trigger: see migration 2).
    this.indexedThrough = db.prepare("SELECT indexed_through FROM fts_progress").pluck();
    this.lastId = db.prepare("SELECT coalesce(max(id), 0) FROM messages").pluck();
    this.indexRange = db.prepare(
      "INSERT INTO messages_fts (rowid, body) SELECT id, body FROM messages WHERE id > ? AND id <= ?",
    );
    this.setIndexedThrough = db.prepare("UPDATE fts_progress SET indexed_through = ?");
    // Kept in step with history-worker.js (the thread's path), except that this path indexes
    // each batch in its own transaction: it runs in memory and in tests, where a search must
    // not wait for a thread that is not there.
    this.appendBatch = db.transaction((batch: readonly StoredMessage[]) => {
      for (let at = 0; at < batch.length; at += ROWS_PER_INSERT) {
        const end = Math.min(at + ROWS_PER_INSERT, batch.length);
        const values: Array<string | number | null> = new Array((end - at) * ROW_FIELDS);
        let i = 0;
        for (let k = at; k < end; k++) {
          const m = batch[k]!;
          values[i++] = m.id;
          values[i++] = m.ts;
          values[i++] = m.room;
          values[i++] = m.roomKey;
          values[i++] = m.from;
          values[i++] = m.text;
          values[i++] = m.action ? 1 : 0;
          values[i++] = m.to ?? null;
        }
        this.insertOf(end - at).run(values);
      }
      const rooms = new Map<string, string>();
      for (const m of batch) rooms.set(m.roomKey, m.room);
      for (const [roomKey, room] of rooms) this.upsertRoom.run(roomKey, room);
      this.indexRows();
    });
  }

  /** The INSERT of `count` message rows, prepared once per count. */
  private insertOf(count: number): Database.Statement {
    let statement = this.insertStatements.get(count);
    if (statement === undefined) {
      const values = new Array(count).fill("(?, ?, ?, ?, ?, ?, ?, ?)").join(", ");
      statement = this.db.prepare(`INSERT INTO messages (${COLUMNS}) VALUES ${values}`);
      this.insertStatements.set(count, statement);
    }
    return statement;
  }

  /** Indexes the rows past the mark (inside the caller's transaction); false when none were. */
  private indexRows(): boolean {
    const from = this.indexedThrough.get() as number;
    const to = this.lastId.get() as number;
    if (to <= from) return false;
    this.indexRange.run(from, to);
    this.setIndexedThrough.run(to);
    return true;
  }

  /**
   * Adds every committed message not yet in the full-text index to it, on this connection: at
   * open (what a stopped run left) and before a search (what the writer's thread has not caught
   * up with yet; usually nothing, since a search asks the thread first). Two reads when there is
   * nothing to do; the write transaction is taken only when there is.
   */
  indexPending(): void {
    if ((this.lastId.get() as number) <= (this.indexedThrough.get() as number)) return;
    this.db.transaction(() => this.indexRows()).immediate();
  }

  appendMessages(batch: readonly StoredMessage[]): void {
    if (batch.length > 0) this.appendBatch(batch);
  }

  /**
   * How the writer's and search's threads started after this call lower their priority, on
   * Linux: the nice value (default DEFAULT_STORE_THREAD_NICE; 0 leaves it as the process's)
   * and SCHED_BATCH (default DEFAULT_STORE_THREAD_BATCH). A thread already started keeps what it
   * has: an unprivileged thread cannot take back the priority it gave up.
   */
  setThreadPriority(priority: ThreadPriorityOptions): void {
    this.threadPriority = { ...priority };
  }

  /** The search thread's id, nice value and policy once it has started (undefined if unknown). */
  get searchThreadPriority(): ThreadPriority | undefined {
    return this.searcher?.priority;
  }

  /**
   * A worker thread with its own write connection for history batches (see
   * {@link BackgroundWriter}); undefined in memory, where no second connection sees this one's
   * data and writes stay on this connection.
   */
  openMessageWriter(): ClosableMessageSink | undefined {
    if (this.file === ":memory:") return undefined;
    // A server closed and started again on the same store gets a fresh thread.
    if (this.writer?.closed) this.writer = undefined;
    this.writer ??= new BackgroundWriter({
      file: this.file,
      lockTimeoutMs: this.files.lockTimeoutMs,
      maxPageCount: this.files.maxPageCount,
      indexDelayMs: this.files.indexDelayMs,
      indexEveryRows: this.files.indexEveryRows,
      priority: this.threadPriority,
    });
    return this.writer;
  }

  queryMessages(query: HistoryQuery): StoredMessage[] {
    const limit = Math.max(0, Math.floor(query.limit));
    if (limit === 0) return [];
    if (query.kind === "latest") {
      return this.older(query.roomKey, undefined, limit, false);
    }
    const anchor = query.anchor;
    switch (query.kind) {
      case "before":
        return this.older(query.roomKey, anchor, limit, false);
      case "after":
        return this.newer(query.roomKey, anchor, limit);
      case "around": {
        // The anchor and what precedes it get the larger half (IRCv3 leaves the split open).
        const newer = this.newer(query.roomKey, anchor, Math.floor(limit / 2));
        return [...this.older(query.roomKey, anchor, limit - newer.length, true), ...newer];
      }
    }
  }

  /** The newest `limit` messages before the anchor (or at it, `inclusive`), oldest first. */
  private older(
    roomKey: string,
    anchor: HistoryAnchor | undefined,
    limit: number,
    inclusive: boolean,
  ): StoredMessage[] {
    const rows = this.db
      .prepare(pageSql(anchor, inclusive ? "<=" : "<"))
      .all({ roomKey, limit, ...anchor }) as MessageRow[];
    return rows.reverse().map(toMessage);
  }

  /** The oldest `limit` messages after the anchor, oldest first. */
  private newer(roomKey: string, anchor: HistoryAnchor, limit: number): StoredMessage[] {
    if (limit === 0) return [];
    const rows = this.db
      .prepare(pageSql(anchor, ">"))
      .all({ roomKey, limit, ...anchor }) as MessageRow[];
    return rows.map(toMessage);
  }

  searchMessages(roomKey: string, words: readonly string[], limit: number): StoredMessage[] {
    if (words.length === 0 || limit <= 0) return [];
    try {
      this.indexPending();
    } catch {
      // The index could not catch up (a full disk, a lock held too long): search what it has.
    }
    const rows = this.db
      .prepare(
        `SELECT m.id, m.ts, m.room, m.room_key, m.sender, m.body, m.action
         FROM messages_fts f JOIN messages m ON m.id = f.rowid
         WHERE messages_fts MATCH @match AND m.room_key = @roomKey
         ORDER BY f.rowid DESC LIMIT @limit`,
      )
      .all({ match: ftsQuery(words), roomKey, limit }) as MessageRow[];
    return rows.reverse().map(toMessage);
  }

  searchInBackground(
    roomKey: string,
    words: readonly string[],
    limit: number,
    spent?: (ms: number) => void,
  ): Promise<StoredMessage[]> | undefined {
    if (this.file === ":memory:") return undefined;
    if (words.length === 0 || limit <= 0) return Promise.resolve([]);
    try {
      // Usually nothing to do (two reads): History has the writer's thread index first.
      this.indexPending();
    } catch {
      // The index could not catch up (a full disk, a lock held too long): search what it has.
    }
    if (this.searcher?.closed) this.searcher = undefined;
    this.searcher ??= new BackgroundSearch({
      file: this.file,
      lockTimeoutMs: this.files.lockTimeoutMs,
      priority: this.threadPriority,
    });
    return this.searcher.search(ftsQuery(words), roomKey, limit).then(({ rows, ms }) => {
      spent?.(ms);
      return rows.reverse().map(toMessage);
    });
  }

  lastMessageId(): number {
    const row = this.db.prepare("SELECT max(id) AS id FROM messages").get() as {
      id: number | null;
    };
    return row.id ?? 0;
  }

  pruneMessages(rule: RetentionRule, now: number, budget: number): number {
    let deleted = 0;
    if (rule.maxAgeMs !== undefined && budget > 0) {
      // Ids grow with time: the oldest `budget` rows are the candidates, so a table with nothing
      // to expire costs one short index walk, never a scan.
      deleted += this.db
        .prepare(
          "DELETE FROM messages WHERE id IN (SELECT id FROM messages ORDER BY id LIMIT @budget) AND ts < @cutoff",
        )
        .run({ budget, cutoff: now - rule.maxAgeMs }).changes;
    }
    if (rule.maxPerRoom !== undefined) {
      const rooms = this.db.prepare("SELECT room_key FROM rooms").pluck().all() as string[];
      const cutoffOf = this.db
        .prepare("SELECT id FROM messages WHERE room_key = ? ORDER BY id DESC LIMIT 1 OFFSET ?")
        .pluck();
      const trim = this.db.prepare(
        "DELETE FROM messages WHERE id IN (SELECT id FROM messages WHERE room_key = ? AND id <= ? ORDER BY id LIMIT ?)",
      );
      for (const roomKey of rooms) {
        if (deleted >= budget) break;
        const cutoff = cutoffOf.get(roomKey, rule.maxPerRoom) as number | undefined;
        if (cutoff !== undefined) deleted += trim.run(roomKey, cutoff, budget - deleted).changes;
      }
    }
    return deleted;
  }

  saveBan(ban: StoredBan): void {
    this.db
      .prepare(
        `INSERT INTO bans (target, source, created_at, expires_at, reason) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (target) DO UPDATE SET source = excluded.source, created_at = excluded.created_at,
           expires_at = excluded.expires_at, reason = excluded.reason`,
      )
      .run(ban.target, ban.source, ban.createdAt, ban.expiresAt ?? null, ban.reason ?? null);
  }

  deleteBan(target: string): void {
    this.db.prepare("DELETE FROM bans WHERE target = ?").run(target);
  }

  loadBans(now: number): StoredBan[] {
    this.db.prepare("DELETE FROM bans WHERE expires_at IS NOT NULL AND expires_at <= ?").run(now);
    const rows = this.db.prepare("SELECT * FROM bans ORDER BY created_at").all() as BanRow[];
    return rows.map((row) => ({
      target: row.target,
      source: row.source,
      createdAt: row.created_at,
      ...(row.expires_at === null ? {} : { expiresAt: row.expires_at }),
      ...(row.reason === null ? {} : { reason: row.reason }),
    }));
  }

  getAccount(key: string): StoredAccount | undefined {
    const row = this.db.prepare("SELECT * FROM accounts WHERE key = ?").get(key) as
      | AccountRow
      | undefined;
    if (row === undefined) return undefined;
    return {
      key: row.key,
      name: row.name,
      passwordHash: row.password_hash,
      createdAt: row.created_at,
      operator: row.operator === 1,
    };
  }

  createAccount(account: StoredAccount): boolean {
    return (
      this.db
        .prepare(
          "INSERT INTO accounts (key, name, password_hash, created_at, operator) VALUES (?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING",
        )
        .run(
          account.key,
          account.name,
          account.passwordHash,
          account.createdAt,
          account.operator ? 1 : 0,
        ).changes === 1
    );
  }

  setOperator(key: string, operator: boolean): boolean {
    return (
      this.db.prepare("UPDATE accounts SET operator = ? WHERE key = ?").run(operator ? 1 : 0, key)
        .changes === 1
    );
  }

  accountKeys(): string[] {
    return this.db.prepare("SELECT key FROM accounts").pluck().all() as string[];
  }

  saveTopic(topic: StoredTopic): void {
    this.db
      .prepare(
        `INSERT INTO topics (room_key, room, body, set_by, set_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (room_key) DO UPDATE SET room = excluded.room, body = excluded.body,
           set_by = excluded.set_by, set_at = excluded.set_at`,
      )
      .run(topic.roomKey, topic.room, topic.text, topic.by, topic.ts);
  }

  deleteTopic(roomKey: string): void {
    this.db.prepare("DELETE FROM topics WHERE room_key = ?").run(roomKey);
  }

  loadTopics(): StoredTopic[] {
    const rows = this.db.prepare("SELECT * FROM topics").all() as Array<{
      room_key: string;
      room: string;
      body: string;
      set_by: string;
      set_at: number;
    }>;
    return rows.map((row) => ({
      roomKey: row.room_key,
      room: row.room,
      text: row.body,
      by: row.set_by,
      ts: row.set_at,
    }));
  }

  /** Closes the history writer's thread (after its last batch), then the database and its lock. */
  close(): void | Promise<void> {
    const writer = this.writer;
    const searcher = this.searcher;
    this.writer = undefined;
    this.searcher = undefined;
    const closeDatabase = () => {
      if (this.db.open) this.db.close();
      if (this.files.lock?.open) this.files.lock.close();
    };
    if (writer === undefined && searcher === undefined) return closeDatabase();
    return Promise.all([writer?.close(), searcher?.close()]).then(closeDatabase);
  }
}
