import type { ChatErrorCode } from "../errors.js";
import type { DmFrame, ServerFrame } from "../protocol/frames.js";

/** Options of a cluster node (`RedisCluster`). */
export interface ClusterOptions {
  /** Redis to join, `redis://host:port` (the nodes of one cluster share it). */
  url: string;
  /** Prefix of every key and channel (default "tcpchat"): two clusters may share a Redis. */
  prefix?: string;
  /** How often a node says it is alive, in ms (default 1000). */
  heartbeatMs?: number;
  /** A node silent for this long is gone: its members leave every room, in ms (default 3000). */
  nodeTtlMs?: number;
  /** Batches kept per room in its stream for catching up (default 10000; `MAXLEN ~`). */
  streamMaxLen?: number;
  /**
   * Most batches of a room's log a node reads when the room gets its first member here, to
   * record in its history what was said while it had none (default: `streamMaxLen`).
   */
  backfillBatches?: number;
  /** Figures of this node that other nodes see (connections), read at each heartbeat. */
  describe?: () => { connections: number };
}

/** What the cluster needs from the hub: how remote batches and DMs get written here. */
export interface ClusterHub {
  deliverRemote(roomKey: string, frames: readonly ServerFrame[]): void;
  announceRemoteNick(frame: ServerFrame, roomKey: string): void;
  nickLost(nickKey: string): void;
  /**
   * Writes a DM from another node to the session here that holds `toKey`, and stores it when
   * both ends are logged in (`fromAccount`: the sender's account). Returns the recipient's
   * account (null for a guest) once delivered, undefined when no session here holds the nick.
   */
  deliverDm(toKey: string, frame: DmFrame, fromAccount?: string): string | null | undefined;
  /**
   * Stores a DM sent from here to another node, which delivered it to `toAccount` (both ends
   * logged in).
   */
  recordSentDm(frame: DmFrame, fromAccount: string, toAccount: string): void;
  /**
   * Disconnects the session that holds a nick here, for an operator on another node; returns
   * the nick as it was spelt, or null when no session here holds it.
   */
  kickLocal(nickKey: string, code: ChatErrorCode, reason: string | undefined): string | null;
  /**
   * Disconnects every open session here whose peer address `pick` picks, telling it why (an
   * operator's `/ban --kick` on another node); returns how many.
   */
  disconnectAddresses(
    pick: (address: string) => boolean,
    code: ChatErrorCode,
    reason: string | undefined,
  ): number;
  /**
   * The session holding a nick here, as spelt and with its peer address, for an operator's
   * `/ban NICK` on another node; null when no open session here holds it.
   */
  addressOf(nickKey: string): { nick: string; address: string } | null;
  /** Whether this node keeps history (else nothing is fetched for it). */
  readonly keepsHistory: boolean;
  /** Records the message frames of a room's batch from the cluster in this node's history. */
  recordRemote(roomKey: string, frames: readonly ServerFrame[]): void;
  /**
   * Which of `ids` (messages of a room) this node's history already has (null: it keeps none).
   */
  knownMessageIds(roomKey: string, ids: readonly number[]): Promise<Set<number>> | null;
}

/** A node of the cluster, as its heartbeat says. */
export interface ClusterNodeInfo {
  id: string;
  connections: number;
  startedAt: number;
  /** Whether it is this node. */
  self: boolean;
}

/** Figures of this node's cluster traffic. */
export interface ClusterStats {
  /** Batches this node published. */
  published: number;
  /** Batches from other nodes written to members here. */
  received: number;
  /** Direct messages from other nodes for a session here. */
  dmsReceived: number;
  /**
   * Direct messages sent from here between two accounts that another node delivered and told
   * this node to store as well (the sender's copy of the conversation).
   */
  dmsKept: number;
  /** Batches fetched from a room's stream after a gap or a reconnect. */
  recovered: number;
  /** Batches known lost (past the stream's cap, or a log that restarted empty). */
  lost: number;
  /** Batches waiting to be published (Redis slow or away). */
  outbox: number;
  /** Round trip of the last heartbeat to Redis, in ms. */
  redisLagMs: number;
  /** Reconnections to Redis since start. */
  reconnects: number;
}
