import type { createClient } from "redis";
import type { BanChange } from "../policy/ban-store.js";
import type { BanInfo } from "../policy/peer-stats.js";
import { CHANGE_BAN, PRUNE_BAN } from "./scripts.js";

type Client = ReturnType<typeof createClient>;

/** Options of {@link ClusterBans}. */
export interface ClusterBansOptions {
  client: Client;
  nodeId: string;
  /** Hash of target -> ban entry (JSON): the cluster's operator bans and lifted bans. */
  hashKey: string;
  /** Channel every node hears ban changes on. */
  channel: string;
}

/**
 * The last change of one target as the cluster knows it: a ban, or a tombstone (no `ban`) for
 * a lifted one. `version` orders changes of a target (see {@link ClusterBans}); `node` breaks
 * a tie between two nodes' changes made in the same millisecond.
 */
export interface BanEntry {
  target: string;
  version: number;
  node: string;
  ban?: BanInfo;
  /**
   * Of a tombstone: when the lifted ban would have ended by itself (after that the tombstone has
   * nothing left to hold back and is dropped); undefined: it was a ban until lifted.
   */
  until?: number;
}

/** What goes on the ban channel: one entry, written by `node`'s script. */
interface BanNotice {
  node: string;
  entry: BanEntry;
}

function isBan(value: unknown): value is BanInfo {
  const ban = value as BanInfo | null;
  return (
    typeof ban === "object" &&
    ban !== null &&
    typeof ban.target === "string" &&
    typeof ban.createdAt === "number" &&
    (ban.expiresAt === undefined || typeof ban.expiresAt === "number")
  );
}

/** An entry as stored or announced; a bare ban (the format before versions) counts as one. */
export function parseBanEntry(value: unknown): BanEntry | undefined {
  if (isBan(value)) {
    return { target: value.target, version: value.createdAt, node: "", ban: value };
  }
  const entry = value as Partial<BanEntry> | null;
  if (
    typeof entry !== "object" ||
    entry === null ||
    typeof entry.target !== "string" ||
    typeof entry.version !== "number" ||
    typeof entry.node !== "string" ||
    (entry.ban !== undefined && !isBan(entry.ban)) ||
    (entry.until !== undefined && typeof entry.until !== "number")
  ) {
    return undefined;
  }
  return entry as BanEntry;
}

/** Whether `a` is a later change than `b` (the order the Redis script applies too). */
export function isNewer(a: BanEntry, b: BanEntry | undefined): boolean {
  if (b === undefined) return true;
  return a.version > b.version || (a.version === b.version && a.node > b.node);
}

/** Whether an entry has nothing left to say: a ban that ended, or a tombstone past its ban. */
function isSpent(entry: BanEntry, now: number): boolean {
  const end = entry.ban === undefined ? entry.until : entry.ban.expiresAt;
  return end !== undefined && end <= now;
}

/**
 * Operator bans shared by the nodes of a cluster. A ban made or lifted on one node (by the
 * console or an operator client: the accept policy's ban list reports it) is written to a
 * Redis hash and announced on a channel in one script; every other node applies it to its own
 * ban list. A node that starts reads the hash. Automatic bans (connect rate) stay with the
 * node whose connect rate made them.
 *
 * A lifted ban must stay lifted when Redis comes back. While Redis is away each node keeps its
 * own view, and a Redis that restarted has none; when it is back every node writes its view
 * into it. If bans were plain hash fields, a node that never heard of an unban (made on another
 * node while Redis was away) would write the old ban back, and every node would re-read it.
 * So every change, an unban included, is an entry with a version, and an unban leaves a
 * tombstone. The script keeps, per target, only the entry with the highest version, and
 * announces it when it replaces one; a node applies an entry only when it is newer than its
 * own. Written-back views then merge to the last change whatever the order the nodes come
 * back in. Versions are a hybrid clock (the wall clock, but always above any version this node
 * has seen), so a change made after seeing another is ordered after it even when the clocks
 * of two machines disagree; only changes made without seeing each other fall to the clocks.
 */
export class ClusterBans {
  /** The last change of each target this node knows, bans and tombstones. */
  private readonly known = new Map<string, BanEntry>();
  private apply: ((change: BanChange) => void) | undefined;
  /** The highest version seen or made here. */
  private clock = 0;
  /** Times this node wrote its view back into Redis and read the merged one (after a reconnect). */
  restores = 0;

  constructor(private readonly options: ClusterBansOptions) {}

  /**
   * Sets how a change from elsewhere is applied here (the accept policy's), and applies every
   * ban known so far to it; undefined: changes are only remembered.
   */
  attach(apply: ((change: BanChange) => void) | undefined): void {
    this.apply = apply;
    if (apply === undefined) return;
    const now = Date.now();
    for (const entry of this.known.values()) {
      if (entry.ban !== undefined && !isSpent(entry, now)) apply({ op: "ban", ban: entry.ban });
    }
  }

  /** Reads the cluster's bans from Redis and applies those newer than this node's view. */
  async load(): Promise<void> {
    const { client, hashKey } = this.options;
    const stored = await client.hGetAll(hashKey);
    const now = Date.now();
    for (const [target, text] of Object.entries(stored)) {
      let entry: BanEntry | undefined;
      try {
        entry = parseBanEntry(JSON.parse(text));
      } catch {
        continue;
      }
      if (entry === undefined) continue;
      if (isSpent(entry, now)) {
        // Only if unchanged since read: a newer entry written meanwhile stays.
        void client.eval(PRUNE_BAN, { keys: [hashKey], arguments: [target, text] }).catch(() => {});
      }
      this.take(entry);
    }
  }

  /** A message on the ban channel: another node's change is applied here if it is newer. */
  heard(text: string): void {
    let notice: BanNotice;
    try {
      notice = JSON.parse(text) as BanNotice;
    } catch {
      return;
    }
    if (notice.node === this.options.nodeId) return;
    const entry = parseBanEntry(notice.entry);
    if (entry !== undefined) this.take(entry);
  }

  /** A change made on this node: written to the hash and announced to the other nodes. */
  publish(change: BanChange): void {
    const { nodeId } = this.options;
    const version = Math.max(Date.now(), this.clock + 1);
    this.clock = version;
    let entry: BanEntry;
    if (change.op === "ban") {
      entry = { target: change.ban.target, version, node: nodeId, ban: change.ban };
    } else {
      const lifted = this.known.get(change.target)?.ban;
      entry = { target: change.target, version, node: nodeId };
      if (lifted !== undefined && lifted.expiresAt !== undefined) entry.until = lifted.expiresAt;
    }
    this.known.set(entry.target, entry);
    // Redis away: the entry is in this node's view, which is written back when it returns.
    if (this.options.client.isReady) void this.write(entry).catch(() => {});
  }

  /**
   * After Redis came back (perhaps empty): writes this node's view into it, each entry kept
   * only where it is newer than what the hash holds (and then announced), then reads the
   * merged view, taking what other nodes wrote meanwhile.
   */
  async restore(): Promise<void> {
    const now = Date.now();
    for (const entry of [...this.known.values()]) {
      if (!isSpent(entry, now)) await this.write(entry);
    }
    await this.load();
    this.restores += 1;
  }

  private write(entry: BanEntry): Promise<unknown> {
    const { client, nodeId, hashKey, channel } = this.options;
    return client.eval(CHANGE_BAN, {
      keys: [hashKey, channel],
      arguments: [
        entry.target,
        JSON.stringify(entry),
        String(entry.version),
        entry.node,
        JSON.stringify({ node: nodeId, entry } satisfies BanNotice),
      ],
    });
  }

  /** Keeps an entry from elsewhere if it is newer than this node's, and applies it. */
  private take(entry: BanEntry): void {
    if (entry.version > this.clock) this.clock = entry.version;
    if (!isNewer(entry, this.known.get(entry.target))) return;
    this.known.set(entry.target, entry);
    if (entry.ban !== undefined) {
      if (!isSpent(entry, Date.now())) this.apply?.({ op: "ban", ban: entry.ban });
    } else {
      this.apply?.({ op: "unban", target: entry.target });
    }
  }
}
