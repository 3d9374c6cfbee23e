import type { createClient } from "redis";
import { isGuestKeys, lookalikeKeys } from "../protocol/lookalikes.js";
import { CLAIM_NICK, RELEASE_NICK } from "./scripts.js";

type Client = ReturnType<typeof createClient>;

/** What a {@link NickMirror} needs from its node. */
export interface NickMirrorOptions {
  client: Client;
  nodeId: string;
  /** The hash of nick key -> `node nick`, and the channel its changes go out on. */
  nicksKey: string;
  /** Prefix of the nodes' heartbeat keys: a claim held by a node without one is free. */
  nodeKeyPrefix: string;
  /** This node gave out a nick that Redis kept for another live node. */
  lost(nickKey: string): void;
}

/**
 * The cluster's nicks as this node sees them. Claims live in a Redis hash (nick key -> node),
 * taken by a script that lets a live holder keep its nick; every change is published, so each
 * node keeps a mirror and the hub's nick checks stay synchronous, lookalikes included: the
 * mirror indexes the other nodes' nicks by their TR39 skeletons, as the hub's registry indexes
 * its own. Redis enforces only exact (case-folded) uniqueness; a lookalike is refused as soon
 * as the mirror knows the nick it looks like (a Redis round trip after it was taken).
 */
export class NickMirror {
  /** Nicks held on other nodes: key -> { nick, node }. */
  private readonly held = new Map<string, { nick: string; node: string }>();
  /** The other nodes' nicks by lookalike key (skeleton) -> nick key (guest nicks have none). */
  private readonly byLookalike = new Map<string, string>();
  /** Nicks held here: key -> nick (claimed again after Redis comes back). */
  private readonly local = new Map<string, string>();

  constructor(private readonly options: NickMirrorOptions) {}

  /** Reads every claim at start (changes after it arrive through {@link heard}). */
  async load(): Promise<void> {
    const claims = await this.options.client.hGetAll(this.options.nicksKey);
    for (const [key, value] of Object.entries(claims)) this.heard(`+${key} ${value}`);
  }

  /** Who holds a nick on another node, if anyone. */
  remote(nickKey: string): { nick: string; node: string } | undefined {
    return this.held.get(nickKey);
  }

  /**
   * A nick held on another node that `nick` looks like (another key with the same skeleton),
   * as spelt there; undefined when there is none.
   */
  remoteLookalike(nick: string, nickKey: string): string | undefined {
    for (const lookalike of lookalikeKeys(nick)) {
      const key = this.byLookalike.get(lookalike);
      if (key !== undefined && key !== nickKey) return this.held.get(key)?.nick;
    }
    return undefined;
  }

  /** The nodes that hold nicks, as far as this node knows (for spotting dead ones). */
  remoteNodes(): Iterable<string> {
    return [...this.held.values()].map((holder) => holder.node);
  }

  /**
   * A session here changed nick (or took its first, or gave it up): frees the old claim and
   * claims the new one. Returns the old nick as it was spelt, if this node held it.
   */
  changed(oldKey: string | null, nick: string | null, nickKey: string | null): string | undefined {
    let oldNick: string | undefined;
    if (oldKey !== null) {
      oldNick = this.local.get(oldKey);
      this.local.delete(oldKey);
      void this.release(oldKey, this.options.nodeId).catch(() => {});
    }
    if (nick !== null && nickKey !== null) {
      this.local.set(nickKey, nick);
      void this.claim(nickKey, nick).catch(() => {});
    }
    return oldNick;
  }

  /** Claims this node's nicks again (a Redis that restarted empty forgot them). */
  async reclaimAll(): Promise<void> {
    for (const [key, nick] of this.local) await this.claim(key, nick);
  }

  /** Frees this node's nicks (the node is leaving the cluster). */
  async releaseAll(): Promise<void> {
    for (const key of this.local.keys()) await this.release(key, this.options.nodeId);
  }

  /** A node's heartbeat expired: its nicks are free, here and in Redis. */
  nodeGone(node: string): void {
    for (const [key, holder] of this.held) {
      if (holder.node !== node) continue;
      this.forget(key);
      void this.release(key, node).catch(() => {});
    }
  }

  /** `+key node nick` (claimed) or `-key node` (freed), from any node, this one included. */
  heard(text: string): void {
    const [head, node, ...rest] = text.split(" ");
    if (head === undefined || node === undefined || node === this.options.nodeId) return;
    const key = head.slice(1);
    if (head.startsWith("+")) this.hold(key, rest.join(" "), node);
    else if (this.held.get(key)?.node === node) this.forget(key);
  }

  private hold(key: string, nick: string, node: string): void {
    const before = this.held.get(key);
    if (before !== undefined && before.nick !== nick) this.unindex(key, before.nick);
    this.held.set(key, { nick, node });
    const lookalikes = lookalikeKeys(nick);
    if (isGuestKeys(lookalikes)) return;
    for (const lookalike of lookalikes) this.byLookalike.set(lookalike, key);
  }

  private forget(key: string): void {
    const holder = this.held.get(key);
    if (holder === undefined) return;
    this.held.delete(key);
    this.unindex(key, holder.nick);
  }

  private unindex(key: string, nick: string): void {
    for (const lookalike of lookalikeKeys(nick)) {
      if (this.byLookalike.get(lookalike) === key) this.byLookalike.delete(lookalike);
    }
  }

  /**
   * Claims a nick this node gave out. The mirror makes a conflict rare (two nodes giving the
   * same nick out at once); when Redis kept another live node's claim, this node's session
   * loses the nick.
   */
  private async claim(key: string, nick: string): Promise<void> {
    const { client, nicksKey, nodeId, nodeKeyPrefix } = this.options;
    const holder = await client.eval(CLAIM_NICK, {
      keys: [nicksKey, nicksKey],
      arguments: [key, nodeId, nick, nodeKeyPrefix],
    });
    if (typeof holder !== "string" || holder === "") return;
    const [node, ...spelt] = holder.split(" ");
    this.hold(key, spelt.join(" "), node!);
    if (this.local.get(key) === nick) this.options.lost(key);
  }

  private async release(key: string, node: string): Promise<void> {
    const { client, nicksKey } = this.options;
    await client.eval(RELEASE_NICK, { keys: [nicksKey, nicksKey], arguments: [key, node] });
  }
}
