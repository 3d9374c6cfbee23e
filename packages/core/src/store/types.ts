/**
 * The store: what tcpchat keeps beyond one process's memory (room history, bans, accounts).
 * The interface is narrow on purpose so that another backend (Redis in a cluster) can implement
 * it; every method may answer synchronously (SQLite) or with a promise (a network store), and
 * callers handle both through {@link whenDone}. Nothing here imports `node:*` or a driver.
 */

/** A value now, or later. */
export type Awaitable<T> = T | Promise<T>;

/**
 * One message as stored: its id is the hub's message id as a number (base 36 on the wire). A
 * room message has its room in `room`/`roomKey`. A direct message between two registered users
 * has `to` (the recipient's nick), and its conversation in `room`/`roomKey`
 * ({@link dmConversation}): a key no room can have, so room queries never see it.
 */
export interface StoredMessage {
  /** Unique and increasing across restarts (the hub continues after the store's last id). */
  readonly id: number;
  /** Server time the message was accepted, in ms since the Unix epoch. */
  readonly ts: number;
  /** The room's display name (as the room frames carry it). */
  readonly room: string;
  /** The room's case-folded key: queries match on it. */
  readonly roomKey: string;
  readonly from: string;
  readonly text: string;
  /** A `/me` action. */
  readonly action: boolean;
  /** For a direct message: the recipient's nick as it was sent (undefined: a room message). */
  readonly to?: string;
}

/**
 * The conversation of two accounts (their keys, in either order) as a stored message's
 * `room`/`roomKey`: `@a @b`, sorted. It holds a space, which no room name may (spec 5), so it
 * can never be a room's key, and a history query for it names both accounts.
 */
export function dmConversation(accountA: string, accountB: string): string {
  const [first, second] = accountA <= accountB ? [accountA, accountB] : [accountB, accountA];
  return `@${first} @${second}`;
}

/**
 * Which messages a history request wants, with IRCv3 `chathistory` semantics: `latest` the
 * newest `limit`; `before` the newest `limit` older than the anchor; `after` the oldest `limit`
 * newer than the anchor; `around` up to `limit` centred on the anchor (the anchor itself
 * included). An anchor is a message id or a timestamp. Results are always oldest first.
 */
export type HistoryQuery =
  | { readonly kind: "latest"; readonly roomKey: string; readonly limit: number }
  | {
      readonly kind: "before" | "after" | "around";
      readonly roomKey: string;
      readonly limit: number;
      readonly anchor: HistoryAnchor;
    };

/** A position in a room's history: a message id, or a server timestamp in ms. */
export type HistoryAnchor = { readonly id: number } | { readonly ts: number };

/** What retention removes: messages older than `maxAgeMs`, and past `maxPerRoom` in a room. */
export interface RetentionRule {
  /** Oldest a message may get, in ms (undefined: no age limit). */
  readonly maxAgeMs?: number;
  /** Most messages kept per room (undefined: no count limit). */
  readonly maxPerRoom?: number;
}

/** A ban as stored: the policy's canonical target, who set it, until when. */
export interface StoredBan {
  readonly target: string;
  readonly source: string;
  readonly createdAt: number;
  /** Epoch ms when it ends; undefined: until lifted. */
  readonly expiresAt?: number;
  readonly reason?: string;
}

/** A registered account: the nick it owns and its password hash (PHC string format). */
export interface StoredAccount {
  /** The nick's case-folded key (names.ts `nameKey`). */
  readonly key: string;
  /** The nick as registered. */
  readonly name: string;
  readonly passwordHash: string;
  readonly createdAt: number;
  /** Operator accounts may /kick, /ban and /topic from any client. */
  readonly operator: boolean;
}

/** Where the history writer sends its batches: the store itself, or a writer of its own. */
export interface MessageSink {
  /**
   * Appends a batch of messages in one transaction (all or none). A writer on another thread
   * resolves with a number, when the commit happened (ms since the epoch): its acknowledgement
   * may wait for a busy event loop, and the write lag is measured to the commit, not to the
   * bookkeeping. Any other result means "now".
   */
  appendMessages(batch: readonly StoredMessage[]): Awaitable<unknown>;
}

/** A {@link MessageSink} with a thread or connection of its own, closed after the last batch. */
export interface ClosableMessageSink extends MessageSink {
  /** Commits what it was given, then releases what it holds. */
  close(): Promise<void>;
  /**
   * Settles when every batch given before it can be found by a search, for a writer that
   * indexes behind its commits (SQLite's thread indexes in larger, later transactions).
   */
  indexed?(): Promise<void>;
  /**
   * {@link ChatStore.pruneMessages} on the writer's own thread or connection, for a writer that
   * has one: retention then never runs its deletes on the event loop.
   */
  pruneMessages?(rule: RetentionRule, now: number, budget: number): Promise<number>;
  /**
   * The writer's thread as the operating system schedules it (its id, nice value, and whether
   * it runs under SCHED_BATCH), for a writer with a thread, once the thread has reported it;
   * undefined where it is unknown.
   */
  readonly priority?: { tid: number; nice: number; batch: boolean } | undefined;
}

/** A room's topic as stored. */
export interface StoredTopic {
  /** The room's case-folded key. */
  readonly roomKey: string;
  /** The room's display name when the topic was set. */
  readonly room: string;
  readonly text: string;
  /** The nick that set it. */
  readonly by: string;
  /** When it was set, in ms since the Unix epoch. */
  readonly ts: number;
}

/**
 * What a backend keeps. Message writes come in batches from the history writer (never from the
 * per-message path); a write that throws or rejects leaves the batch with the writer, which
 * retries it.
 */
export interface ChatStore {
  /** Where the data lives, for the banner and logs ("SQLite 3.53.0 at DIR/tcpchat.db"). */
  readonly description: string;
  /** Appends a batch of messages in one transaction (all or none). */
  appendMessages(batch: readonly StoredMessage[]): Awaitable<void>;
  /**
   * A writer that commits history batches away from the event loop (SQLite: a worker thread with
   * a connection of its own), or undefined to write through `appendMessages`. Reads still answer
   * from the store; the history writer keeps what is not yet committed visible to them.
   */
  openMessageWriter?(): ClosableMessageSink | undefined;
  /**
   * How the store's own threads (history writer, search) started after this call lower their
   * priority on Linux, so that the event loop has the CPU first: a nice value (0: as the
   * process) and whether to run under SCHED_BATCH. Without it a store uses its own defaults.
   */
  setThreadPriority?(priority: { nice: number; batch: boolean }): void;
  /** Messages of one room for a history query, oldest first. */
  queryMessages(query: HistoryQuery): Awaitable<StoredMessage[]>;
  /** Messages of one room containing every word (full-text), the newest `limit`, oldest first. */
  searchMessages(
    roomKey: string,
    words: readonly string[],
    limit: number,
  ): Awaitable<StoredMessage[]>;
  /**
   * The same search on a thread of the store's own, off the event loop (SQLite on disk), or
   * undefined when the store has none. `spent` hears the search's time on that thread, ms.
   */
  searchInBackground?(
    roomKey: string,
    words: readonly string[],
    limit: number,
    spent?: (ms: number) => void,
  ): Promise<StoredMessage[]> | undefined;
  /** The highest message id stored, 0 when there is none. */
  lastMessageId(): Awaitable<number>;
  /** Deletes up to `budget` messages the rule no longer keeps; returns how many it deleted. */
  pruneMessages(rule: RetentionRule, now: number, budget: number): Awaitable<number>;
  saveBan(ban: StoredBan): Awaitable<void>;
  deleteBan(target: string): Awaitable<void>;
  /** Bans not yet expired at `now`. */
  loadBans(now: number): Awaitable<StoredBan[]>;
  getAccount(key: string): Awaitable<StoredAccount | undefined>;
  /** Creates an account; false when the key is taken. */
  createAccount(account: StoredAccount): Awaitable<boolean>;
  setOperator(key: string, operator: boolean): Awaitable<boolean>;
  /** Every registered account's key (loaded at start: nick checks are synchronous). */
  accountKeys(): Awaitable<string[]>;
  /** Sets (or replaces) a room's topic. */
  saveTopic(topic: StoredTopic): Awaitable<void>;
  /** Clears a room's topic (nothing happens when it has none). */
  deleteTopic(roomKey: string): Awaitable<void>;
  /** Every room's topic (loaded at start: topics are few, and shown on every join). */
  loadTopics(): Awaitable<StoredTopic[]>;
  close(): Awaitable<void>;
}

/**
 * Runs `then` with a value that may still be a promise: at once when it is not (SQLite answers
 * in the same turn, so ordering is kept), in a later turn when it is. Errors go to `fail`.
 */
export function whenDone<T>(
  value: () => Awaitable<T>,
  then: (result: T) => void,
  fail: (error: unknown) => void,
): void {
  let result: Awaitable<T>;
  try {
    result = value();
  } catch (error) {
    fail(error);
    return;
  }
  if (result instanceof Promise) result.then(then, fail);
  else then(result);
}
