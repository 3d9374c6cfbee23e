// The full-text search's thread: it owns a read-only connection to the database and answers the
// searches the main thread posts, one at a time, so that a costly FTS5 query (tens of ms in a
// room of a million messages) never runs on the event loop that serves the chat.
//
// Plain JavaScript for the reason history-worker.js is (it runs from src/ in tests and is copied
// to dist/ by tsup). The protocol is in background-search.ts:
//   in:  { seq, match, roomKey, limit }  match: an FTS5 query (ftsQuery in sqlite-store.ts)
//        { close: true }                  close the connection, exit
//   out: { seq: 0, thread }  once at start, as history-worker.js does
//        { seq, rows, ms }  rows newest first, ms the query's time on this thread, or
//        { seq, error: { message, code } }
import { performance } from "node:perf_hooks";
import { parentPort, workerData } from "node:worker_threads";
import Database from "better-sqlite3";
import { lowerThreadPriority } from "./thread-priority.js";

const db = new Database(workerData.file, { readonly: true, timeout: workerData.lockTimeoutMs });

// Kept in step with SqliteStore.searchMessages (the in-memory store's path).
const search = db.prepare(
  `SELECT m.id, m.ts, m.room, m.room_key, m.sender, m.body, m.action
   FROM messages_fts f JOIN messages m ON m.id = f.rowid
   WHERE messages_fts MATCH @match AND m.room_key = @roomKey
   ORDER BY f.rowid DESC LIMIT @limit`,
);

// Set up at the process's priority (the first search waits for it), then a search is
// background work like the writer's: the chat's event loop comes first.
parentPort.postMessage({
  seq: 0,
  thread: lowerThreadPriority(workerData.nice, workerData.batch) ?? null,
});

parentPort.on("message", (message) => {
  if (message.close === true) {
    db.close();
    parentPort.close();
    return;
  }
  const started = performance.now();
  try {
    const rows = search.all({
      match: message.match,
      roomKey: message.roomKey,
      limit: message.limit,
    });
    parentPort.postMessage({ seq: message.seq, rows, ms: performance.now() - started });
  } catch (error) {
    parentPort.postMessage({
      seq: message.seq,
      error: { message: String(error?.message ?? error), code: error?.code },
    });
  }
});
