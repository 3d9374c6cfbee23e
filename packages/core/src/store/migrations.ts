/**
 * The SQLite schema as an ordered list of migrations. Each runs once, in a transaction, and
 * records its number in `schema_version`; a database at a higher number than this list knows
 * was written by a newer tcpchat and is refused (CHAT_ERR_STORE_TOO_NEW) rather than guessed at.
 * Never edit a migration that has shipped: append a new one.
 */
export const MIGRATIONS: readonly string[] = [
  // 1: history with full-text search, bans, accounts.
  `
  CREATE TABLE messages (
    id INTEGER PRIMARY KEY,
    ts INTEGER NOT NULL,
    room TEXT NOT NULL,
    room_key TEXT NOT NULL,
    sender TEXT NOT NULL,
    body TEXT NOT NULL,
    action INTEGER NOT NULL DEFAULT 0
  );
  CREATE INDEX messages_room_id ON messages (room_key, id);
  CREATE INDEX messages_room_ts ON messages (room_key, ts);
  -- Rooms that have history: retention walks this list instead of scanning every message.
  CREATE TABLE rooms (
    room_key TEXT PRIMARY KEY,
    room TEXT NOT NULL
  );
  -- An external-content FTS5 index over the message bodies, kept in step by triggers.
  CREATE VIRTUAL TABLE messages_fts USING fts5 (
    body, content = 'messages', content_rowid = 'id', tokenize = 'unicode61'
  );
  CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
    INSERT INTO messages_fts (rowid, body) VALUES (new.id, new.body);
  END;
  CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, body) VALUES ('delete', old.id, old.body);
  END;
  CREATE TABLE bans (
    target TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER,
    reason TEXT
  );
  CREATE TABLE accounts (
    key TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    operator INTEGER NOT NULL DEFAULT 0
  );
  `,
  // 2: the history writer indexes each batch itself (SqliteStore.appendMessages; since 5, behind
  // a mark). An AFTER INSERT
  // trigger runs in a statement savepoint, and FTS5 writes its pending terms out as a new segment
  // at every savepoint: one segment per message, merged again and again, which made an insert
  // cost about 4x one that indexes its row with a plain statement in the same transaction.
  // Every row inserted into messages must therefore be inserted into messages_fts too.
  `
  DROP TRIGGER IF EXISTS messages_fts_insert;
  `,
  // 3: direct messages between registered users share the messages table (and its id space,
  // index and retention): `recipient` is the nick a DM went to, NULL for a room message, and
  // room_key holds the two accounts' conversation key (store/types.ts dmConversation).
  `
  ALTER TABLE messages ADD COLUMN recipient TEXT;
  `,
  // 4: room topics (rooms come and go with their members; their topics stay).
  `
  CREATE TABLE topics (
    room_key TEXT PRIMARY KEY,
    room TEXT NOT NULL,
    body TEXT NOT NULL,
    set_by TEXT NOT NULL,
    set_at INTEGER NOT NULL
  );
  `,
  // 5: the full-text index follows the messages table behind a durable mark instead of row by
  // row: rows with an id up to `indexed_through` are in messages_fts, later ones are indexed in
  // larger, less frequent transactions (history-worker.js, SqliteStore.indexPending). One FTS5
  // transaction over thousands of rows writes one segment where a batch of 150 wrote one each
  // (about half the writer's CPU per message on chat-like text), and a restart indexes what
  // the mark shows was left. A database from before this migration is fully indexed: the mark
  // starts at its last id. The delete trigger must not touch a row the index never saw (an
  // external-content FTS5 'delete' of unindexed values corrupts its term counts), hence WHEN.
  `
  CREATE TABLE fts_progress (indexed_through INTEGER NOT NULL);
  INSERT INTO fts_progress (indexed_through) SELECT coalesce(max(id), 0) FROM messages;
  DROP TRIGGER IF EXISTS messages_fts_delete;
  CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages
  WHEN old.id <= (SELECT indexed_through FROM fts_progress) BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, body) VALUES ('delete', old.id, old.body);
  END;
  `,
];
