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
  // 2: the history writer indexes each batch itself (SqliteStore.appendMessages). An AFTER INSERT
  // trigger runs in a statement savepoint, and FTS5 writes its pending terms out as a new segment
  // at every savepoint: one segment per message, merged again and again, which made an insert
  // cost about 4x one that indexes its row with a plain statement in the same transaction.
  // Every insert into messages must therefore also insert its row into messages_fts.
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
];
