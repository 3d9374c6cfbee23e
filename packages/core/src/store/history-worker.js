// The history writer's thread: it owns a write connection to the database and commits the
// batches the main thread posts, one transaction each, so that SQLite's synchronous work (the
// inserts, the full-text index, the WAL) never runs on the event loop that serves the chat.
//
// Plain JavaScript on purpose: the same file runs from src/ (tests) and is copied to dist/ by
// tsup, and Node 20 cannot start a TypeScript worker. The protocol is in background-writer.ts:
//   in:  { seq, numbers, lengths, text }  a batch, packed: per message, id, ts and action (0/1)
//        in `numbers`; room, roomKey, from, text and the recipient joined in `text`, their
//        lengths in `lengths` (NO_RECIPIENT for a room message)
//        { seq, index: true } add every committed message to the full-text index now
//        { seq, prune: { maxAgeMs, maxPerRoom, now, budget } } one retention batch
//        { close: true } commit nothing more, index what is left, close the connection, exit
//   out: { seq: 0, thread } once at start: { tid, nice, batch } after lowering its priority
//        (workerData.nice and .batch, see thread-priority.js), or null where they are unknown
//        { seq, committedAt, deleted? } when the batch was committed (ms since the epoch), or
//        { seq, error: { message, code } } when it was not
import { parentPort, workerData } from "node:worker_threads";
import Database from "better-sqlite3";
import { lowerThreadPriority } from "./thread-priority.js";

/**
 * Values per message in a posted batch: id, ts, room, roomKey, from, text, action (0 or 1), and
 * the recipient of a direct message (null for a room message).
 */
const ROW_FIELDS = 8;
/** Numbers and strings per message in a packed batch (background-writer.ts). */
const NUMBER_FIELDS = 3;
const STRING_FIELDS = 5;
const NO_RECIPIENT = 0xffffffff;

/** The flat rows (ROW_FIELDS values per message, in column order) of a packed batch. */
function unpack({ numbers, lengths, text }) {
  const count = numbers.length / NUMBER_FIELDS;
  const rows = new Array(count * ROW_FIELDS);
  let at = 0;
  let r = 0;
  const next = (length) => {
    const start = at;
    at += length;
    return text.slice(start, at);
  };
  for (let i = 0; i < count; i++) {
    const n = i * NUMBER_FIELDS;
    const l = i * STRING_FIELDS;
    rows[r++] = numbers[n];
    rows[r++] = numbers[n + 1];
    rows[r++] = next(lengths[l]);
    rows[r++] = next(lengths[l + 1]);
    rows[r++] = next(lengths[l + 2]);
    rows[r++] = next(lengths[l + 3]);
    rows[r++] = numbers[n + 2];
    rows[r++] = lengths[l + 4] === NO_RECIPIENT ? null : next(lengths[l + 4]);
  }
  return rows;
}
/**
 * Rows per INSERT statement: one bind and step for 32 rows instead of 32 (measured with
 * scripts/history-write-cost.mjs; 64 was no better). 32 x 8 parameters stay far below SQLite's
 * limit of 32766.
 */
const ROWS_PER_INSERT = 32;

const db = new Database(workerData.file, { timeout: workerData.lockTimeoutMs });
// The main thread opened the file first (migrations, WAL): this connection only writes. It
// must match the main connection's durability setting, which is per connection.
db.pragma("synchronous = NORMAL");
if (workerData.maxPageCount !== undefined) db.pragma(`max_page_count = ${workerData.maxPageCount}`);
/** Longest a committed row waits for the full-text index, in ms. */
const indexDelayMs = workerData.indexDelayMs;
/** Committed rows not yet indexed that make the next catch-up run at once. */
const indexEveryRows = workerData.indexEveryRows;

// Kept in step with SqliteStore (the main connection's path, sqlite-store.ts).
const insertStatements = new Map();
/** The INSERT of `count` rows (prepared once per count, at most ROWS_PER_INSERT of them). */
function insertOf(count) {
  let statement = insertStatements.get(count);
  if (statement === undefined) {
    const values = new Array(count).fill("(?, ?, ?, ?, ?, ?, ?, ?)").join(", ");
    statement = db.prepare(
      `INSERT INTO messages (id, ts, room, room_key, sender, body, action, recipient) VALUES ${values}`,
    );
    insertStatements.set(count, statement);
  }
  return statement;
}
const upsertRoom = db.prepare(
  "INSERT INTO rooms (room_key, room) VALUES (?, ?) ON CONFLICT (room_key) DO UPDATE SET room = excluded.room",
);
const appendRows = db.transaction((rows) => {
  // The flat array is already in column order: each statement binds a slice of it.
  const step = ROWS_PER_INSERT * ROW_FIELDS;
  for (let at = 0; at < rows.length; at += step) {
    const end = Math.min(at + step, rows.length);
    insertOf((end - at) / ROW_FIELDS).run(rows.slice(at, end));
  }
  // Once per room of the batch (a batch holds a few rooms, many messages each).
  const rooms = new Map();
  for (let i = 3; i < rows.length; i += ROW_FIELDS) rooms.set(rows[i], rows[i - 1]);
  for (const [roomKey, room] of rooms) upsertRoom.run(roomKey, room);
});

// The full-text index follows behind the durable mark of migration 5: one INSERT ... SELECT
// over every row committed since the last catch-up, in a transaction of its own.
const indexedThrough = db.prepare("SELECT indexed_through FROM fts_progress").pluck();
const lastId = db.prepare("SELECT coalesce(max(id), 0) FROM messages").pluck();
const indexRange = db.prepare(
  "INSERT INTO messages_fts (rowid, body) SELECT id, body FROM messages WHERE id > ? AND id <= ?",
);
const setIndexedThrough = db.prepare("UPDATE fts_progress SET indexed_through = ?");
const indexPending = db.transaction(() => {
  const from = indexedThrough.get();
  const to = lastId.get();
  if (to <= from) return;
  indexRange.run(from, to);
  setIndexedThrough.run(to);
}).immediate;

// Retention, kept in step with SqliteStore.pruneMessages (the path without this thread): ids
// grow with time, so the oldest `budget` rows are the candidates for age, and each room is cut
// below its maxPerRoom-th newest id. Here its deletes (and their full-text index deletes) do not
// hold the event loop.
const pruneByAge = db.prepare(
  "DELETE FROM messages WHERE id IN (SELECT id FROM messages ORDER BY id LIMIT ?) AND ts < ?",
);
const roomKeys = db.prepare("SELECT room_key FROM rooms").pluck();
const cutoffOf = db
  .prepare("SELECT id FROM messages WHERE room_key = ? ORDER BY id DESC LIMIT 1 OFFSET ?")
  .pluck();
const trimRoom = db.prepare(
  "DELETE FROM messages WHERE id IN (SELECT id FROM messages WHERE room_key = ? AND id <= ? ORDER BY id LIMIT ?)",
);
const prune = db.transaction(({ maxAgeMs, maxPerRoom, now, budget }) => {
  let deleted = 0;
  if (maxAgeMs !== undefined && budget > 0)
    deleted += pruneByAge.run(budget, now - maxAgeMs).changes;
  if (maxPerRoom !== undefined) {
    for (const roomKey of roomKeys.all()) {
      if (deleted >= budget) break;
      const cutoff = cutoffOf.get(roomKey, maxPerRoom);
      if (cutoff !== undefined) deleted += trimRoom.run(roomKey, cutoff, budget - deleted).changes;
    }
  }
  return deleted;
});

/** Rows committed since the last catch-up (counted here: the mark is read only to index). */
let unindexed = 0;
let indexTimer;

function catchUp() {
  if (indexTimer !== undefined) clearTimeout(indexTimer);
  indexTimer = undefined;
  indexPending();
  unindexed = 0;
}

/** After a commit: index now when enough rows wait, else within the delay. */
function scheduleIndex() {
  if (unindexed >= indexEveryRows) {
    try {
      catchUp();
    } catch {
      // A failed catch-up (a full disk) leaves the mark where it was: the timer tries again.
      armIndexTimer();
    }
    return;
  }
  armIndexTimer();
}

function armIndexTimer() {
  if (indexTimer !== undefined) return;
  indexTimer = setTimeout(() => {
    indexTimer = undefined;
    try {
      catchUp();
    } catch {
      armIndexTimer();
    }
  }, indexDelayMs);
}

function replyError(seq, error) {
  parentPort.postMessage({
    seq,
    error: { message: String(error?.message ?? error), code: error?.code },
  });
}

// Set up at the process's priority (loading the driver and preparing statements takes about a
// second on a busy machine, and the first messages after a start wait for it); from here on
// the chat's event loop comes before this thread.
parentPort.postMessage({
  seq: 0,
  thread: lowerThreadPriority(workerData.nice, workerData.batch) ?? null,
});

parentPort.on("message", (message) => {
  if (message.close === true) {
    try {
      catchUp();
    } catch {
      // Left to the next start: opening the store indexes what the mark shows is missing.
    }
    db.close();
    parentPort.close();
    return;
  }
  if (message.prune !== undefined) {
    try {
      const deleted = prune(message.prune);
      parentPort.postMessage({ seq: message.seq, committedAt: Date.now(), deleted });
    } catch (error) {
      replyError(message.seq, error);
    }
    return;
  }
  if (message.index === true) {
    try {
      catchUp();
      parentPort.postMessage({ seq: message.seq, committedAt: Date.now() });
    } catch (error) {
      replyError(message.seq, error);
    }
    return;
  }
  const rows = unpack(message);
  try {
    appendRows(rows);
    parentPort.postMessage({ seq: message.seq, committedAt: Date.now() });
  } catch (error) {
    replyError(message.seq, error);
    return;
  }
  unindexed += rows.length / ROW_FIELDS;
  scheduleIndex();
});
