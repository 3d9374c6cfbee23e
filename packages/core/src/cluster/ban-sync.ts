import type { createClient } from "redis";
import type { BanChange } from "../policy/ban-store.js";
import type { BanInfo } from "../policy/peer-stats.js";
import { CHANGE_BAN } from "./scripts.js";

type Client = ReturnType<typeof createClient>;

/** Options of {@link ClusterBans}. */
export interface ClusterBansOptions {
  client: Client;
  nodeId: string;
  /** Hash of target -> ban (JSON): the cluster's operator bans, read by a node that starts. */
  hashKey: string;
  /** Channel every node hears ban changes on. */
  channel: string;
}

/** What goes on the ban channel. */
interface BanNotice {
  node: string;
  change: BanChange;
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

function parseChange(value: unknown): BanChange | undefined {
  const change = value as { op?: unknown; ban?: unknown; target?: unknown } | null;
  if (typeof change !== "object" || change === null) return undefined;
  if (change.op === "ban" && isBan(change.ban)) return { op: "ban", ban: change.ban };
  if (change.op === "unban" && typeof change.target === "string") {
    return { op: "unban", target: change.target };
  }
  return undefined;
}

const expired = (ban: BanInfo, now: number) => ban.expiresAt !== undefined && ban.expiresAt <= now;

/**
 * Operator bans shared by the nodes of a cluster. A ban made or lifted on one node (by the
 * console or an operator client: the accept policy's ban list reports it) is written to a
 * Redis hash and announced on a channel in one script; every other node applies it to its own
 * ban list. A node that starts, or that finds Redis again, reads the hash. Automatic bans
 * (connect rate) stay with the node whose connect rate made them.
 */
export class ClusterBans {
  /** The cluster's operator bans as this node knows them, by target. */
  private readonly known = new Map<string, BanInfo>();
  private apply: ((change: BanChange) => void) | undefined;

  constructor(private readonly options: ClusterBansOptions) {}

  /**
   * Sets how a change from elsewhere is applied here (the accept policy's), and applies every
   * ban known so far to it; undefined: changes are only remembered.
   */
  attach(apply: ((change: BanChange) => void) | undefined): void {
    this.apply = apply;
    if (apply === undefined) return;
    const now = Date.now();
    for (const ban of this.known.values()) if (!expired(ban, now)) apply({ op: "ban", ban });
  }

  /** Reads the cluster's bans from Redis and applies them (expired ones are dropped there). */
  async load(): Promise<void> {
    const { client, hashKey } = this.options;
    const stored = await client.hGetAll(hashKey);
    const now = Date.now();
    for (const [target, text] of Object.entries(stored)) {
      let ban: unknown;
      try {
        ban = JSON.parse(text);
      } catch {
        continue;
      }
      if (!isBan(ban)) continue;
      if (expired(ban, now)) {
        void client.hDel(hashKey, target).catch(() => {});
        continue;
      }
      this.known.set(ban.target, ban);
      this.apply?.({ op: "ban", ban });
    }
  }

  /** A message on the ban channel: another node's change is applied here. */
  heard(text: string): void {
    let notice: BanNotice;
    try {
      notice = JSON.parse(text) as BanNotice;
    } catch {
      return;
    }
    if (notice.node === this.options.nodeId) return;
    const change = parseChange(notice.change);
    if (change === undefined) return;
    this.remember(change);
    this.apply?.(change);
  }

  /** A change made on this node: written to the hash and announced to the other nodes. */
  publish(change: BanChange): void {
    this.remember(change);
    const { client, nodeId, hashKey, channel } = this.options;
    if (!client.isReady) return;
    const target = change.op === "ban" ? change.ban.target : change.target;
    void client
      .eval(CHANGE_BAN, {
        keys: [hashKey, channel],
        arguments: [
          change.op,
          target,
          change.op === "ban" ? JSON.stringify(change.ban) : "",
          JSON.stringify({ node: nodeId, change } satisfies BanNotice),
        ],
      })
      .catch(() => {});
  }

  /** After Redis came back (perhaps empty): writes back the bans this node knows, then reads. */
  async restore(): Promise<void> {
    const { client, hashKey } = this.options;
    const now = Date.now();
    for (const ban of this.known.values()) {
      if (!expired(ban, now)) await client.hSetNX(hashKey, ban.target, JSON.stringify(ban));
    }
    await this.load();
  }

  private remember(change: BanChange): void {
    if (change.op === "ban") this.known.set(change.ban.target, change.ban);
    else this.known.delete(change.target);
  }
}
