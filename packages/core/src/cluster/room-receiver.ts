import { decodeEnvelope, decodePublished, type Sequenced } from "./envelope.js";
import type { RoomLog } from "./room-log.js";
import type { ClusterHub, ClusterStats } from "./types.js";

/** This node's view of one room it has members in. */
export interface ClusterRoom {
  key: string;
  name: string;
  log: RoomLog;
  /** Members on other nodes: nick -> node id. */
  remote: Map<string, string>;
  /** Members here (nicks), sent to other nodes as `+nick` and `-nick` in the next batch. */
  local: Map<string, number>;
  pendingMembers: string[];
  /** Batches arriving while the room catches up, applied after it. */
  waiting: Sequenced[] | null;
  /** Whether a batch was heard since the room opened here (what was missed before is not ours). */
  heard: boolean;
  /** Subscribed (or failed to be): its batches may be published, the node will hear them. */
  ready: boolean;
  closed: boolean;
  /** While the room fetches the history it missed (see room-backfill.ts); then undefined. */
  backfill: Promise<void> | undefined;
  /** Its listener on the room's channel (removed alone: a reopened room has its own). */
  listener: (text: string) => void;
}

/** One entry of a room's stream, as XRANGE returns it. */
export interface LogEntry {
  id: string;
  message: Record<string, unknown>;
}

/** What the receive path needs from the node: who it is, its counters, and Redis reads. */
export interface RoomReceiverOptions {
  nodeId: string;
  stats: ClusterStats;
  /** The hub that writes to members here (undefined before the node starts). */
  hub: () => ClusterHub | undefined;
  /** A room's `epoch` and `seq` from its meta hash (null where unset). */
  readPosition(roomKey: string): Promise<[string | null, string | null]>;
  /** Entries `from`..`to` (stream ids) of a room's stream, at most `count`. */
  readLog(roomKey: string, from: string, to: string, count: number): Promise<LogEntry[] | null>;
}

/** Batches fetched per XRANGE while catching up. */
const CATCH_UP_PAGE = 500;

/**
 * The receive path of a room on one node: batches heard on its channel are applied in
 * sequence; a gap, or a reconnect, is filled from the room's stream in order, and re-sent
 * batches are dropped by their (node, batch) counter; what the stream no longer has is counted
 * and the room's members here are told (Centrifugo's "insufficient state").
 */
export class RoomReceiver {
  constructor(private readonly options: RoomReceiverOptions) {}

  /** A message heard on the room's channel. */
  heard(room: ClusterRoom, text: string): void {
    if (room.closed) return;
    const batch = decodePublished(text);
    if (batch === null) return;
    if (room.waiting !== null) {
      room.waiting.push(batch);
      return;
    }
    this.apply(room, batch);
  }

  /** Applies the batches that waited for a catch-up, which may start another one. */
  release(room: ClusterRoom): void {
    const waiting = room.waiting ?? [];
    room.waiting = null;
    for (let i = 0; i < waiting.length; i++) {
      if (room.closed) return;
      this.apply(room, waiting[i]!);
      // apply() may have started another catch-up: the rest waits for it.
      const again = room.waiting as Sequenced[] | null;
      if (again !== null) {
        again.push(...waiting.slice(i + 1));
        return;
      }
    }
  }

  /** After a reconnect: catches the room up from where it stopped to where the log is now. */
  async resync(room: ClusterRoom): Promise<void> {
    try {
      const [epoch, seq] = await this.options.readPosition(room.key);
      if (epoch === null || epoch === undefined) return;
      const last = Number(seq ?? 0);
      if (epoch !== room.log.epoch) await this.catchUp(room, epoch, 1, last);
      else if (last > room.log.seq) await this.catchUp(room, epoch, room.log.seq + 1, last);
    } catch {
      // Lost again: the next reconnect retries.
    }
  }

  /** Applies a batch in sequence, or starts a catch-up when batches before it are missing. */
  private apply(room: ClusterRoom, batch: Sequenced): void {
    if (!room.heard) {
      // The first batch since the room opened here: what the log has before it was published
      // before this node's join was, so it belongs to the room's past, not to these members.
      room.heard = true;
      room.log.start(batch.epoch, batch.seq - 1);
    }
    const verdict = room.log.check(batch.epoch, batch.seq);
    if (verdict.kind === "duplicate") return;
    if (verdict.kind === "gap") {
      room.waiting = [batch];
      void this.catchUp(room, batch.epoch, verdict.from, verdict.to).finally(() =>
        this.release(room),
      );
      return;
    }
    this.accept(room, batch);
  }

  /** Takes a batch in sequence; returns whether it came from another node and was new. */
  private accept(room: ClusterRoom, batch: Sequenced): boolean {
    const { envelope } = batch;
    const fresh = room.log.advance(batch.epoch, batch.seq, envelope.origin, envelope.batch);
    if (!fresh || envelope.origin === this.options.nodeId) return false;
    for (const change of envelope.members ?? []) {
      const nick = change.slice(1);
      if (change.startsWith("+")) room.remote.set(nick, envelope.origin);
      else if (room.remote.get(nick) === envelope.origin) room.remote.delete(nick);
    }
    let frames = envelope.frames;
    const hub = this.options.hub();
    if (frames.some((frame) => frame.type === "nick")) {
      // Heard once per shared room: the hub tells each member here once.
      for (const frame of frames)
        if (frame.type === "nick") hub?.announceRemoteNick(frame, room.key);
      frames = frames.filter((frame) => frame.type !== "nick");
    }
    if (frames.length > 0) {
      this.options.stats.received += 1;
      hub?.deliverRemote(room.key, frames);
    }
    return true;
  }

  /**
   * Fetches positions `from`..`to` of a room's log from its stream, in order. What the stream
   * no longer has (past its cap, or a log that restarted empty) is counted and the room's
   * members here are told how many batches they missed.
   */
  private async catchUp(room: ClusterRoom, epoch: string, from: number, to: number): Promise<void> {
    let next = from;
    try {
      while (next <= to && !room.closed) {
        const entries = await this.options.readLog(room.key, `${next}-0`, `${to}-0`, CATCH_UP_PAGE);
        if (entries === null || entries.length === 0) break;
        for (const entry of entries) {
          const seq = Number.parseInt(entry.id, 10);
          const envelope = decodeEnvelope(String(entry.message.m));
          if (entry.message.e !== epoch || envelope === null) continue;
          // Members hear what is missing at the place it is missing from.
          if (seq > next) this.reportLost(room, seq - next);
          // Pretend the log was at seq-1 so that accept() takes this one in sequence.
          if (room.log.epoch !== epoch) room.log.start(epoch, seq - 1);
          room.log.seq = Math.max(room.log.seq, seq - 1);
          if (this.accept(room, { epoch, seq, envelope })) this.options.stats.recovered += 1;
          next = seq + 1;
        }
      }
    } catch {
      // Redis went away again: the reconnect starts another catch-up.
      return;
    }
    if (next <= to && !room.closed) {
      this.reportLost(room, to - next + 1);
      room.log.start(epoch, to);
    }
  }

  /** Tells the room's members here how many batches could not be recovered (Centrifugo's "insufficient state"). */
  private reportLost(room: ClusterRoom, count: number): void {
    this.options.stats.lost += count;
    this.options.hub()?.deliverRemote(room.key, [
      {
        type: "notice",
        text: `${count} batch${count === 1 ? "" : "es"} of messages in #${room.name} could not be recovered (the cluster's log no longer has them).`,
      },
    ]);
  }
}
