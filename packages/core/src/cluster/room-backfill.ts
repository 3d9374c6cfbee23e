import type { ServerFrame } from "../protocol/frames.js";
import { decodeEnvelope } from "./envelope.js";
import type { ClusterRoom, LogEntry } from "./room-receiver.js";
import type { ClusterHub } from "./types.js";

/** Where a room's log stood when this node last relayed it (kept after the room closes here). */
export interface LogMark {
  epoch: string;
  seq: number;
}

/** What {@link backfillRoom} needs from the node. */
export interface BackfillOptions {
  nodeId: string;
  hub: ClusterHub | undefined;
  /** Most batches read (the newest ones). */
  maxBatches: number;
  /** Where this node stopped relaying the room last time, if it did in this life. */
  mark: LogMark | undefined;
  /** The newest entry of the room's stream (XREVRANGE + - COUNT 1), or null when it is empty. */
  readNewest(roomKey: string): Promise<LogEntry | null>;
  /** Entries `from`..`to` (stream ids) of the room's stream, at most `count`. */
  readLog(roomKey: string, from: string, to: string, count: number): Promise<LogEntry[] | null>;
}

/** Batches read per XRANGE. */
const BACKFILL_PAGE = 500;

/**
 * History across the nodes of a cluster. Every node records every message of the rooms it
 * relays: its own members' as they are said, other nodes' as their batches arrive. What a node
 * cannot have heard is what was said while it had no member in the room. So when a room gets its
 * first member here, after subscribing to its channel, this reads the room's stream (the capped
 * log every batch already goes to) from where this node stopped relaying it, or the newest
 * `maxBatches` batches, and records the messages its history lacks (other nodes' batches; ids
 * are the cluster's, so the store tells which it has). The room's position moves to the newest
 * batch read: batches heard on the channel meanwhile, up to there, are now history, and the
 * join history and history requests that waited for this read include them.
 *
 * Limits: what the stream has dropped (past its cap) is not fetched, and a node that restarts
 * empty (`--data :memory:`) has only what the stream still holds.
 */
export async function backfillRoom(room: ClusterRoom, options: BackfillOptions): Promise<void> {
  const hub = options.hub;
  if (hub === undefined || !hub.keepsHistory || options.maxBatches <= 0) return;
  const newest = await options.readNewest(room.key);
  if (newest === null) return;
  const last = Number.parseInt(newest.id, 10);
  const epoch = String(newest.message.e);
  const { mark } = options;
  const oldest = Math.max(1, last - options.maxBatches + 1);
  let next = mark !== undefined && mark.epoch === epoch ? Math.max(oldest, mark.seq + 1) : oldest;
  // Ids already taken in this read: a batch its publisher re-sent is in the stream twice.
  const taken = new Set<number>();
  while (next <= last && !room.closed) {
    const entries = await options.readLog(room.key, `${next}-0`, `${last}-0`, BACKFILL_PAGE);
    if (entries === null || entries.length === 0) break;
    const frames: Array<{ id: number; frame: ServerFrame }> = [];
    for (const entry of entries) {
      next = Number.parseInt(entry.id, 10) + 1;
      if (entry.message.e !== epoch) continue;
      const envelope = decodeEnvelope(String(entry.message.m));
      // This node's own messages were recorded as they were said.
      if (envelope === null || envelope.origin === options.nodeId) continue;
      for (const frame of envelope.frames) {
        if (frame.type !== "message") continue;
        const id = Number.parseInt(frame.id, 36);
        if (!Number.isSafeInteger(id) || taken.has(id)) continue;
        taken.add(id);
        frames.push({ id, frame });
      }
    }
    if (frames.length === 0) continue;
    const known = await hub.knownMessageIds(
      room.key,
      frames.map((item) => item.id),
    );
    if (known === null) return;
    hub.recordRemote(
      room.key,
      frames.filter((item) => !known.has(item.id)).map((item) => item.frame),
    );
  }
  if (room.closed) return;
  room.log.start(epoch, last);
  room.heard = true;
}
