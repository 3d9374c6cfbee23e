/** Every default limit of tcpchat, in one place. The welcome frame advertises the server's values. */

/** Protocol version spoken by this core: the `tcpchat/N` in the greeting. */
export const PROTOCOL_VERSION = 1;
/** Name and version the server announces. */
export const SERVER_SOFTWARE = "tcpchat 0.1.0";

/** Default TCP port of `tcpchat serve`. */
export const DEFAULT_PORT = 3000;
/** Room every new session joins. */
export const DEFAULT_ROOM = "lobby";

/** Longest line accepted, in bytes of UTF-8, not counting the line ending (16 KiB). */
export const DEFAULT_MAX_LINE_BYTES = 16 * 1024;
/** Longest telnet subnegotiation (IAC SB ... IAC SE) a text-mode session skips, in bytes. */
export const DEFAULT_MAX_TELNET_SUBNEGOTIATION_BYTES = 512;
/** Longest nick and room name, in Unicode code points after NFC normalization. */
export const DEFAULT_MAX_NAME_LENGTH = 32;
/** Most rooms one session may be in at once. */
export const DEFAULT_MAX_ROOMS_PER_SESSION = 20;
/** Bytes a session may have queued for writing before it is cut off as a slow consumer (1 MiB). */
export const DEFAULT_SEND_QUEUE_BYTES = 1024 * 1024;
/** Sustained messages per second one session may send (token bucket refill rate). */
export const DEFAULT_MESSAGE_RATE = 20;
/** Messages one session may send in a burst (token bucket size). */
export const DEFAULT_MESSAGE_BURST = 40;
/**
 * Work tokens per second per session: every line costs one, big replies (`/who` of a big room,
 * `/help`) more. A session with none left is not read until it has one again, so its input
 * waits in the kernel instead of costing the server work and memory.
 */
export const DEFAULT_REQUEST_RATE = 50;
/** Work tokens one session may spend at once. */
export const DEFAULT_REQUEST_BURST = 100;
/** Nick changes per second per session (one per 5 s sustained): each is heard by every peer. */
export const DEFAULT_NICK_RATE = 0.2;
/** Nick changes one session may make at once. */
export const DEFAULT_NICK_BURST = 3;
/** Error replies per second per session; past the budget errors are counted and summed up. */
export const DEFAULT_ERROR_REPLY_RATE = 1;
/** Error replies one session may get at once. */
export const DEFAULT_ERROR_REPLY_BURST = 10;
/** A peer that sends nothing is settled as a text client (and announced) after this, in ms. */
export const DEFAULT_MODE_SETTLE_MS = 500;
/**
 * Most writes a turn's output may take and still be flushed at the end of the I/O callback that
 * queued it, instead of at the end of the event-loop turn (`setImmediate`). Below this there is
 * little to batch (a 1:1 exchange, a reply), so waiting for every other connection's reads of
 * the turn only adds latency; above it (a big room), waiting lets what other connections send in
 * the same turn share one write per member.
 */
export const DEFAULT_FLUSH_AT_ONCE_WRITES = 16;
/** Time a connection has to complete its first line once it has started one, in ms. */
export const DEFAULT_FIRST_LINE_TIMEOUT_MS = 10_000;
/** Time any later line may take from its first byte to its LF, in ms. */
export const DEFAULT_LINE_TIMEOUT_MS = 30_000;
/** How long a nick freed by a dropped connection is kept for its owner's address, in ms. */
export const DEFAULT_NICK_HOLD_MS = 60_000;
/**
 * How long a session's writes may make no progress (Node's queue for it never empties, so the
 * kernel's send buffer is full too) before it is cut off, in ms. This is what frees the kernel
 * buffers of a client that stopped reading but stays under the send-queue limit. Not shorter:
 * a phone on a train or a laptop waking up stalls for seconds and must not be dropped.
 */
export const DEFAULT_SEND_STALL_MS = 10_000;
/**
 * Youngest a connection that never sent a line may be and still be evicted at the connection
 * cap, in ms: long enough for a real client's first line to arrive (a hello comes one round
 * trip after the greeting), short enough that a wall of silent sockets gives way at once.
 */
export const DEFAULT_EVICT_MIN_AGE_MS = 250;
/** Above this many members, joins and leaves in a room are announced as one summary per window. */
export const DEFAULT_ANNOUNCE_ROOM_SIZE = 50;
/** Window over which joins and leaves in a big room are summed up, in milliseconds. */
export const DEFAULT_ANNOUNCE_WINDOW_MS = 1000;
/** Interval between server pings to structured clients, in milliseconds. */
export const DEFAULT_PING_INTERVAL_MS = 30_000;
/** Time a structured client has to answer a ping, in milliseconds. */
export const DEFAULT_PING_TIMEOUT_MS = 10_000;
/** TCP keepalive initial delay for text clients (and all sockets), in milliseconds. */
export const DEFAULT_KEEPALIVE_MS = 60_000;
/** How long graceful shutdown waits for queues to drain before closing, in milliseconds. */
export const DEFAULT_SHUTDOWN_GRACE_MS = 5_000;
/**
 * When the port also takes TLS or HTTP, how long a new connection's first bytes are waited for
 * before it is greeted as a text client, in ms. Short: nc users type nothing before they have
 * read the greeting, so every silent peer waits this long for it.
 */
export const DEFAULT_SNIFF_TIMEOUT_MS = 250;
/** A TLS handshake not finished within this is dropped, in ms. */
export const DEFAULT_TLS_HANDSHAKE_TIMEOUT_MS = 10_000;
/** HTTP on the chat port: the largest request head (request line and headers), in bytes. */
export const DEFAULT_HTTP_MAX_HEADER_BYTES = 8 * 1024;
/** HTTP on the chat port: time a request head may take to arrive, in ms. */
export const DEFAULT_HTTP_HEADERS_TIMEOUT_MS = 10_000;
/** Path that upgrades to a WebSocket. */
export const DEFAULT_WEBSOCKET_PATH = "/ws";
/** WebSocket liveness: a ping this often; a peer with no pong by the next one is dropped, in ms. */
export const DEFAULT_WEBSOCKET_PING_INTERVAL_MS = 30_000;
/** Listen backlog: large, so that a burst of thousands of connects is queued, not dropped. */
export const DEFAULT_BACKLOG = 4096;
/**
 * Node/V8 flags the server process runs with (`tcpchat serve` and the bench's server children).
 * A connect storm makes V8 grow its young generation to its 16 MiB-per-semi-space maximum and
 * keep it committed; at 10,000 idle clients that is most of the memory per connection. Capped
 * at 4 MiB, `pnpm bench` measured the same broadcast throughput and a third less RSS per idle
 * connection (see the performance docs).
 */
export const SERVER_NODE_FLAGS: readonly string[] = ["--max-semi-space-size=4"];
/** Client: connect timeout in milliseconds. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
/** Client: how long a request waits for its ack, in milliseconds. */
export const DEFAULT_ACK_TIMEOUT_MS = 10_000;
/**
 * Client: how much longer than the server's `maxLineBytes` a frame from the server may be. The
 * limit counts a message's UTF-8 bytes; as JSON, each control character becomes a six-byte
 * `\u00XX` escape, so a 16 KiB message can arrive as a line of about 96 KiB.
 */
export const CLIENT_LINE_ENVELOPE_FACTOR = 6;
/**
 * Client: bytes allowed beyond `maxLineBytes * CLIENT_LINE_ENVELOPE_FACTOR`, for the frame's
 * other fields and for lists the server does not cut to its line limit (`presence` of a big
 * room, `rooms`). With the default `maxLineBytes` the client takes lines up to 160 KiB: a
 * presence of 1,500 nicks of 32 Hangul syllables each (about 150 KB) fits.
 */
export const CLIENT_LINE_HEADROOM_BYTES = 64 * 1024;
/** Client: the most a line from the server may be, whatever it advertises (1 MiB). */
export const DEFAULT_CLIENT_MAX_LINE_BYTES = 1024 * 1024;

// Accept policy (see policy/config.ts for what each rule does).
/** Default prefix length of the IPv4 subnet that `maxPerSubnet` counts (a /24). */
export const DEFAULT_POLICY_SUBNET_PREFIX_IPV4 = 24;
/** Default prefix length of the IPv6 subnet that `maxPerSubnet` counts (a /64, one site's LAN). */
export const DEFAULT_POLICY_SUBNET_PREFIX_IPV6 = 64;
/** Default number of connect-rate refusals, within `banWindowMs`, that trigger a temporary ban. */
export const DEFAULT_CONNECT_BAN_AFTER = 10;
/** Default window in which connect-rate refusals are counted towards a ban, in milliseconds. */
export const DEFAULT_CONNECT_BAN_WINDOW_MS = 10_000;
/** Default length of a temporary ban for connecting too often, in milliseconds. */
export const DEFAULT_CONNECT_BAN_DURATION_MS = 60_000;
/** Default time a custom predicate has to answer, in milliseconds. */
export const DEFAULT_CUSTOM_TIMEOUT_MS = 1_000;
/** Default cap on addresses with connect-rate state (buckets) or automatic bans kept in memory. */
export const DEFAULT_MAX_TRACKED_ADDRESSES = 10_000;

/** Messages of a room a client gets when it joins (history on join; 0 turns it off). */
export const DEFAULT_HISTORY_JOIN_LIMIT = 20;
/** Most messages one `/history` or `/search` request returns. */
export const DEFAULT_HISTORY_MAX_REQUEST = 100;
/**
 * Time history and search reads may take per second (on the event loop, or a search's on the
 * store's search thread), all clients together, in ms: a quarter of a core. A full-text search of a room of a million messages takes up to ~30 ms.
 */
export const DEFAULT_HISTORY_READ_MS_PER_SECOND = 250;
/**
 * Longest that the input of all connections together may take within one event-loop turn, in
 * ms, before the rest waits for the next turn (each connection still gets its first lines every
 * turn). Budgets per connection alone let a flood's first turn handle 40 connections' bursts
 * back to back: about 500 frames, 150 ms while the chat waited.
 */
export const DEFAULT_INPUT_TURN_MS = 5;
/**
 * Longest that history reads answered on the event loop (and their replies) may take within one
 * turn, all clients together, in ms; further reads in that turn are answered "busy, retry in
 * 1 ms". The per-second budget alone let a flood's first turn run 52 pages back to back (61 ms,
 * while the chat waited), before the cost estimates had caught up.
 */
export const DEFAULT_HISTORY_READ_TURN_MS = 10;
/** How long a message may wait before its batch is written to the store, in ms. */
export const DEFAULT_HISTORY_FLUSH_MS = 20;
/**
 * Most messages waiting to be written while the store fails (a full disk): about 10 MB of short
 * messages. Past it the oldest waiting ones are left out of history (they were delivered live).
 */
export const DEFAULT_HISTORY_MAX_QUEUE = 50_000;
/** How long after a failed history write the next try comes, in ms. */
export const DEFAULT_HISTORY_RETRY_MS = 1000;
/**
 * Longest a committed message waits before the history writer's thread adds it to the full-text
 * index, in ms (a search never waits for it: it has what is left indexed first).
 */
export const DEFAULT_FTS_INDEX_DELAY_MS = 1000;
/** Committed messages that make the history writer's thread index at once, before the delay. */
export const DEFAULT_FTS_INDEX_EVERY_ROWS = 4096;
/**
 * Nice value of the store's own threads (the history writer's, the search's) on Linux; 0 leaves
 * them at the process's. Off by default: SCHED_BATCH (below) keeps the chat ahead without it.
 * The scheduler weighs a thread at nice 2 at 655 against the event loop's 1024, at 5 at 335,
 * at 10 at 110; measured on a busy 2-core machine (the history guide has the runs), 10 left the
 * writer seconds behind and past its bound (history lost messages), and 5 tripled the write
 * lag's median.
 */
export const DEFAULT_STORE_THREAD_NICE = 0;
/**
 * Whether the store's own threads run under Linux's SCHED_BATCH: a woken thread does not
 * preempt the running one, so the writer handed a batch waits for the event loop's turn instead
 * of taking its core at once, and it keeps its share of the CPU. On a busy 2-core machine (the
 * history guide has the runs) the event loop's time held inside postMessage by the woken writer
 * fell from a median of 229 ms per history-on server to 36 ms, but no gain in deliveries could
 * be told from the noise, on a busy machine or a quiet one (history on/off 0.77x with it, 0.80x
 * without), so it is off unless asked for.
 */
export const DEFAULT_STORE_THREAD_BATCH = false;
/** How often retention runs, in ms. */
export const DEFAULT_RETENTION_EVERY_MS = 10_000;
/** Most messages one retention run deletes (small batches keep the event loop free). */
export const DEFAULT_RETENTION_BATCH = 500;
/** Shortest password `/register` accepts, in code points. */
export const DEFAULT_MIN_PASSWORD_LENGTH = 8;
/**
 * Most messages history on join may send: they wait with a session whose mode is not settled
 * yet, and that wait is capped (session.ts).
 */
export const MAX_HISTORY_JOIN_LIMIT = 200;

/**
 * How long a client that brings a registered nick in its hello (not logged in to it) may keep
 * it before it is renamed to a guest nick, in ms: time to send its `auth`.
 */
export const DEFAULT_LOGIN_GRACE_MS = 30_000;
