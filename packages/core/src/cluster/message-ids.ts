/**
 * Message ids of a cluster node. Every node records every message of the rooms it relays, so
 * an id must be unique across the nodes and mean the same on all of them, and it stays what
 * the protocol says an id is (spec 4.4: a base-36 integer that only grows, which clients page
 * history by). A Redis counter per message would cost a round trip on the hot path; instead an
 * id is made like a Snowflake id: `tick * NODE_SLOTS + slot`, where `slot` is a number only
 * this node holds (claimed in Redis, {@link CLAIM_SLOT}) and `tick` counts
 * {@link TICKS_PER_MS} per millisecond since {@link ID_EPOCH_MS}. Ids from different nodes
 * therefore order by the time they were accepted (to 1/64 ms on one clock); a node that makes
 * more than 64 ids in a millisecond runs a little ahead of its clock rather than repeat one.
 * 2^53 / 64 / 64 ms is about 69 years after the epoch: every id is a safe integer.
 */

/** How many nodes can hold a slot at once (6 bits of the id). */
export const NODE_SLOTS = 64;
/** Ids one node makes per millisecond before it runs ahead of its clock (6 bits). */
export const TICKS_PER_MS = 64;
/** 2026-01-01T00:00:00Z: ticks count from here. */
export const ID_EPOCH_MS = 1_767_225_600_000;

/** Makes a node's message ids (see the module comment); pure, the clock is passed in. */
export class ClusterMessageIds {
  private lastTick = 0;

  /** @param slot this node's slot, 0 to NODE_SLOTS - 1 (replaced if the node claims another). */
  constructor(public slot: number) {}

  /**
   * The next id, for a message accepted at `now` (ms since the Unix epoch, with its fraction:
   * ids of two nodes within one millisecond order by time only if the clock is finer than that).
   */
  next(now: number): number {
    const tick = Math.max(this.lastTick + 1, Math.floor((now - ID_EPOCH_MS) * TICKS_PER_MS));
    this.lastTick = tick;
    return tick * NODE_SLOTS + this.slot;
  }

  /** Ids continue above `id` (the store's highest: a restart never reuses one). */
  continueAfter(id: number): void {
    this.lastTick = Math.max(this.lastTick, Math.floor(id / NODE_SLOTS));
  }
}
