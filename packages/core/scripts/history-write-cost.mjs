// Measures what the history writer's thread spends per message, for ways of writing a batch:
// node + better-sqlite3 on a real file in a temp directory (WAL, synchronous=NORMAL), batches of
// BATCH rows committed one transaction each, as store/history-worker.js does. Prints CPU µs per
// message (user + system of this process) and wall µs per message for each variant.
//   node scripts/history-write-cost.mjs [--rows N] [--batch N] [--text bench|chat] [--only a,b]
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";

const args = new Map();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i], process.argv[i + 1]);
const ROWS = Number(args.get("--rows") ?? 60_000);
const BATCH = Number(args.get("--batch") ?? 150);
const TEXT = args.get("--text") ?? "bench";
const ONLY = args.get("--only")?.split(",");
const REPEAT = Number(args.get("--repeat") ?? 1);
const ROW_FIELDS = 8;

const SCHEMA = (fts) => `
  CREATE TABLE messages (id INTEGER PRIMARY KEY, ts INTEGER NOT NULL, room TEXT NOT NULL,
    room_key TEXT NOT NULL, sender TEXT NOT NULL, body TEXT NOT NULL,
    action INTEGER NOT NULL DEFAULT 0, recipient TEXT);
  CREATE INDEX messages_room_id ON messages (room_key, id);
  CREATE INDEX messages_room_ts ON messages (room_key, ts);
  CREATE TABLE rooms (room_key TEXT PRIMARY KEY, room TEXT NOT NULL);
  CREATE VIRTUAL TABLE messages_fts USING fts5 (body, content = 'messages', content_rowid = 'id',
    tokenize = 'unicode61'${fts});
  CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, body) VALUES ('delete', old.id, old.body);
  END;
  CREATE TABLE fts_indexed (id INTEGER NOT NULL);
  INSERT INTO fts_indexed VALUES (0);
`;

// The bench's message text (message.ts): three numeric tokens, nearly every one a new term.
// Chat-like text: eight words from a vocabulary of 5,000.
const VOCAB = Array.from({ length: 5000 }, (_, i) => `w${(i * 7919).toString(36)}`);
let seed = 1;
const rand = () => {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed;
};
function text(n) {
  if (TEXT === "bench") {
    return `B${String(n % 200).padStart(6, "0")}.${String(n).padStart(10, "0")}.${String(n * 33).padStart(12, "0")}.${"x".repeat(60)}~`;
  }
  const words = [];
  for (let i = 0; i < 8; i++) words.push(VOCAB[rand() % VOCAB.length]);
  return words.join(" ");
}

function makeBatches() {
  const batches = [];
  let id = 1;
  const t0 = Date.now();
  for (let done = 0; done < ROWS; done += BATCH) {
    const rows = [];
    for (let k = 0; k < BATCH; k++, id++) {
      rows.push(id, t0 + id, "#lobby", "#lobby", `n${id % 200}`, text(id), 0, null);
    }
    batches.push(rows);
  }
  return batches;
}

function open(fts = "", setup = "") {
  const dir = mkdtempSync(join(tmpdir(), "tcpchat-wcost-"));
  const db = new Database(join(dir, "t.db"));
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  db.exec(SCHEMA(fts));
  if (setup) db.exec(setup);
  return { db, dir };
}

const INSERT_ONE =
  "INSERT INTO messages (id, ts, room, room_key, sender, body, action, recipient) VALUES (?, ?, ?, ?, ?, ?, ?, ?)";
const UPSERT_ROOM =
  "INSERT INTO rooms (room_key, room) VALUES (?, ?) ON CONFLICT (room_key) DO UPDATE SET room = excluded.room";

/** Per-row insert + per-row FTS insert (history-worker.js today). */
function perRow(db, { index = true } = {}) {
  const ins = db.prepare(INSERT_ONE);
  const fts = db.prepare("INSERT INTO messages_fts (rowid, body) VALUES (?, ?)");
  const up = db.prepare(UPSERT_ROOM);
  return db.transaction((rows) => {
    let last = "";
    for (let i = 0; i < rows.length; i += ROW_FIELDS) {
      ins.run(
        rows[i],
        rows[i + 1],
        rows[i + 2],
        rows[i + 3],
        rows[i + 4],
        rows[i + 5],
        rows[i + 6],
        rows[i + 7],
      );
      if (index) fts.run(rows[i], rows[i + 5]);
      if (rows[i + 3] !== last) {
        up.run(rows[i + 3], rows[i + 2]);
        last = rows[i + 3];
      }
    }
  });
}

/** Multi-row statements: `chunk` rows per INSERT (and per FTS INSERT when ftsMulti). */
function multiRow(db, chunk, { index = "multi" } = {}) {
  const cache = new Map();
  const stmt = (kind, n) => {
    const key = `${kind}${n}`;
    let s = cache.get(key);
    if (s === undefined) {
      s =
        kind === "m"
          ? db.prepare(
              `INSERT INTO messages (id, ts, room, room_key, sender, body, action, recipient) VALUES ${Array(n).fill("(?, ?, ?, ?, ?, ?, ?, ?)").join(", ")}`,
            )
          : db.prepare(
              `INSERT INTO messages_fts (rowid, body) VALUES ${Array(n).fill("(?, ?)").join(", ")}`,
            );
      cache.set(key, s);
    }
    return s;
  };
  const up = db.prepare(UPSERT_ROOM);
  const ftsOne = db.prepare("INSERT INTO messages_fts (rowid, body) VALUES (?, ?)");
  const ftsSelect = db.prepare(
    "INSERT INTO messages_fts (rowid, body) SELECT id, body FROM messages WHERE id >= ? AND id <= ?",
  );
  return db.transaction((rows) => {
    const count = rows.length / ROW_FIELDS;
    for (let at = 0; at < count; at += chunk) {
      const n = Math.min(chunk, count - at);
      stmt("m", n).run(rows.slice(at * ROW_FIELDS, (at + n) * ROW_FIELDS));
      if (index === "multi") {
        const pairs = new Array(n * 2);
        for (let k = 0; k < n; k++) {
          pairs[2 * k] = rows[(at + k) * ROW_FIELDS];
          pairs[2 * k + 1] = rows[(at + k) * ROW_FIELDS + 5];
        }
        stmt("f", n).run(pairs);
      } else if (index === "row") {
        for (let k = at; k < at + n; k++)
          ftsOne.run(rows[k * ROW_FIELDS], rows[k * ROW_FIELDS + 5]);
      }
    }
    if (index === "select") ftsSelect.run(rows[0], rows[rows.length - ROW_FIELDS]);
    const rooms = new Map();
    for (let i = 0; i < rows.length; i += ROW_FIELDS) rooms.set(rows[i + 3], rows[i + 2]);
    for (const [key, room] of rooms) up.run(key, room);
  });
}

/** Writes messages per batch; indexes FTS every `everyRows` in one transaction of its own. */
function deferred(db, chunk, everyRows) {
  const write = multiRow(db, chunk, { index: "none" });
  const mark = db.prepare("SELECT id FROM fts_indexed").pluck();
  const indexFrom = db.prepare(
    "INSERT INTO messages_fts (rowid, body) SELECT id, body FROM messages WHERE id > ?",
  );
  const setMark = db.prepare("UPDATE fts_indexed SET id = (SELECT max(id) FROM messages)");
  const catchUp = db.transaction(() => {
    indexFrom.run(mark.get());
    setMark.run();
  });
  let since = 0;
  const fn = (rows) => {
    write(rows);
    since += rows.length / ROW_FIELDS;
    if (since >= everyRows) {
      catchUp();
      since = 0;
    }
  };
  fn.finish = () => catchUp();
  return fn;
}

const VARIANTS = {
  row: (db) => perRow(db),
  "row-noFTS": (db) => perRow(db, { index: false }),
  "multi16+ftsRow": (db) => multiRow(db, 16, { index: "row" }),
  "multi32+ftsRow": (db) => multiRow(db, 32, { index: "row" }),
  "multi64+ftsRow": (db) => multiRow(db, 64, { index: "row" }),
  "multi32+fts32": (db) => multiRow(db, 32),
  "multi64+fts64": (db) => multiRow(db, 64),
  "multi64+ftsSelect": (db) => multiRow(db, 64, { index: "select" }),
  "multi32+ftsSelect": (db) => multiRow(db, 32, { index: "select" }),
  "row+ftsSelect": (db) => multiRow(db, 1, { index: "select" }),
  "multi64+ftsSelect-noTsIndex": [
    (db) => multiRow(db, 64, { index: "select" }),
    "",
    "DROP INDEX messages_room_ts",
  ],
  "multi64-noFTS": (db) => multiRow(db, 64, { index: "none" }),
  "deferred32/4096": (db) => deferred(db, 32, 4096),
  "deferred64/1500": (db) => deferred(db, 64, 1500),
  "deferred64/6000": (db) => deferred(db, 64, 6000),
  "deferred64/30000": (db) => deferred(db, 64, 30000),
  "row+detail=column": [(db) => perRow(db), ", detail = column"],
  "row+detail=none": [(db) => perRow(db), ", detail = none"],
  "multi64+fts64+column": [(db) => multiRow(db, 64), ", detail = column"],
  "row+automerge8": [
    (db) => perRow(db),
    "",
    "INSERT INTO messages_fts(messages_fts, rank) VALUES('automerge', 8)",
  ],
  "row+automerge16+crisis64": [
    (db) => perRow(db),
    "",
    "INSERT INTO messages_fts(messages_fts, rank) VALUES('automerge', 16); INSERT INTO messages_fts(messages_fts, rank) VALUES('crisismerge', 64)",
  ],
  "row+pgsz4000": [
    (db) => perRow(db),
    "",
    "INSERT INTO messages_fts(messages_fts, rank) VALUES('pgsz', 4000)",
  ],
  "row-noTsIndex": [(db) => perRow(db), "", "DROP INDEX messages_room_ts"],
  "multi64+fts64-noTsIndex": [(db) => multiRow(db, 64), "", "DROP INDEX messages_room_ts"],
  "deferred64/6000-noTsIndex": [(db) => deferred(db, 64, 6000), "", "DROP INDEX messages_room_ts"],
  "deferred32/4096+automerge8": [
    (db) => deferred(db, 32, 4096),
    "",
    "INSERT INTO messages_fts(messages_fts, rank) VALUES('automerge', 8)",
  ],
  "deferred32/4096+cache16M": [(db) => deferred(db, 32, 4096), "", "PRAGMA cache_size = -16000"],
  "deferred32/4096+ckpt10000": [
    (db) => deferred(db, 32, 4096),
    "",
    "PRAGMA wal_autocheckpoint = 10000",
  ],
};

const batches = makeBatches();
console.log(
  `rows ${ROWS}, batch ${BATCH}, text ${TEXT} (e.g. ${JSON.stringify(text(12345))}), SQLite ${new Database(":memory:").prepare("select sqlite_version() v").get().v}`,
);
// Each variant runs REPEAT times, interleaved with the others so that a change in the machine's
// load falls on all alike; the median run is printed.
const results = new Map();
for (let r = 0; r < REPEAT; r++) {
  for (const [name, spec] of Object.entries(VARIANTS)) {
    if (ONLY && !ONLY.includes(name)) continue;
    const [make, fts, setup] = Array.isArray(spec) ? spec : [spec, "", ""];
    const { db, dir } = open(fts, setup);
    const write = make(db);
    const cpu0 = process.cpuUsage();
    const wall0 = process.hrtime.bigint();
    for (const rows of batches) write(rows);
    write.finish?.();
    const wall = Number(process.hrtime.bigint() - wall0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const n = batches.length * BATCH;
    const probe = TEXT === "bench" ? '"x"*' : '"w"*';
    const hits = db
      .prepare("SELECT count(*) c FROM messages_fts WHERE messages_fts MATCH ?")
      .get(probe).c;
    db.close();
    rmSync(dir, { recursive: true, force: true });
    const runs = results.get(name) ?? [];
    runs.push({ cpu: (cpu.user + cpu.system) / n, wall: wall / n, hits });
    results.set(name, runs);
  }
}
const median = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
for (const [name, runs] of results) {
  const cpus = runs.map((r) => r.cpu.toFixed(2)).join(" ");
  console.log(
    `${name.padEnd(28)} cpu ${median(runs.map((r) => r.cpu))
      .toFixed(2)
      .padStart(6)} us/msg (runs ${cpus})  wall ${median(runs.map((r) => r.wall))
      .toFixed(2)
      .padStart(6)} us/msg  fts hits ${runs[0].hits}`,
  );
}
