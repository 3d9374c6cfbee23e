// The history writer's thread: it owns a write connection to the database and commits the
// batches the main thread posts, one transaction each, so that SQLite's synchronous work (the
// inserts, the full-text index, the WAL) never runs on the event loop that serves the chat.
//
// Plain JavaScript on purpose: the same file runs from src/ (tests) and is copied to dist/ by
// tsup, and Node 20 cannot start a TypeScript worker. The protocol is in background-writer.ts:
//   in:  { seq, rows }  rows: one flat array per batch, ROW_FIELDS values per message
//        { close: true } commit nothing more, close the connection, exit
//   out: { seq, committedAt } when the batch was committed (ms since the epoch), or
//        { seq, error: { message, code } } when it was not
import { parentPort, workerData } from "node:worker_threads";
import Database from "better-sqlite3";

/**
 * Values per message in a posted batch: id, ts, room, roomKey, from, text, action (0 or 1), and
 * the recipient of a direct message (null for a room message).
 */
const ROW_FIELDS = 8;

const db = new Database(workerData.file, { timeout: workerData.lockTimeoutMs });
// The main thread opened the file first (migrations, WAL): this connection only writes. It
// must match the main connection's durability setting, which is per connection.
db.pragma("synchronous = NORMAL");
if (workerData.maxPageCount !== undefined) db.pragma(`max_page_count = ${workerData.maxPageCount}`);

// Kept in step with SqliteStore.appendMessages (the in-memory store's path); the full-text index
// is written beside each row, not by a trigger (migration 2).
const insertMessage = db.prepare(
  "INSERT INTO messages (id, ts, room, room_key, sender, body, action, recipient) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
);
const indexMessage = db.prepare("INSERT INTO messages_fts (rowid, body) VALUES (?, ?)");
const upsertRoom = db.prepare(
  "INSERT INTO rooms (room_key, room) VALUES (?, ?) ON CONFLICT (room_key) DO UPDATE SET room = excluded.room",
);
const appendRows = db.transaction((rows) => {
  let lastRoom = "";
  for (let i = 0; i < rows.length; i += ROW_FIELDS) {
    const id = rows[i];
    const text = rows[i + 5];
    // id, ts, room, roomKey, from, text, action, recipient: positional, no object per message.
    insertMessage.run(
      id,
      rows[i + 1],
      rows[i + 2],
      rows[i + 3],
      rows[i + 4],
      text,
      rows[i + 6],
      rows[i + 7],
    );
    indexMessage.run(id, text);
    if (rows[i + 3] !== lastRoom) {
      upsertRoom.run(rows[i + 3], rows[i + 2]);
      lastRoom = rows[i + 3];
    }
  }
});

parentPort.on("message", (message) => {
  if (message.close === true) {
    db.close();
    parentPort.close();
    return;
  }
  try {
    appendRows(message.rows);
    parentPort.postMessage({ seq: message.seq, committedAt: Date.now() });
  } catch (error) {
    parentPort.postMessage({
      seq: message.seq,
      error: { message: String(error?.message ?? error), code: error?.code },
    });
  }
});
