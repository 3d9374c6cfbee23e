import type { ChatErrorCode } from "../errors.js";
import type { DmFrame, ServerFrame } from "../protocol/frames.js";

/**
 * Where a room's batch goes beyond this process (see STYLE "Bus"): nowhere by default; to the
 * other nodes of a cluster when one is configured. The hub calls it at a few narrow points and
 * never waits for it: a room hands it the frames its own members produced once per flush, and
 * the bus hands the batches of other nodes back to the hub ({@link ChatHub.deliverRemote}),
 * which writes them through the same encode-once path as local ones.
 */
export interface RoomBus {
  /** A room got its first member on this node: start hearing it. */
  roomOpened(roomKey: string, roomName: string): void;
  /** A room lost its last member on this node: stop hearing it. */
  roomClosed(roomKey: string): void;
  /** The frames a room's local members produced in one flush, in order (never empty). */
  publish(roomKey: string, frames: readonly ServerFrame[]): void;
  /** A local session joined (true) or left (false) a room. */
  memberChanged(roomKey: string, nick: string, joined: boolean): void;
  /** Members of the room on other nodes (their nicks). */
  remoteMembers(roomKey: string): Iterable<string>;
  /** How many members the room has on other nodes. */
  remoteCount(roomKey: string): number;
  /** The nick as another node's user spells it, or undefined when no other node holds it. */
  remoteNick(nickKey: string): string | undefined;
  /**
   * A nick held on another node that `nick` (whose key is `nickKey`) looks like (TR39
   * skeleton), as spelt there; undefined when none.
   */
  remoteLookalike(nick: string, nickKey: string): string | undefined;
  /** A local session took (nick) or freed (null) a nick. */
  nickChanged(oldKey: string | null, nick: string | null, nickKey: string | null): void;
  /** A room's name and members on every node, for a room with none here; null if none has any. */
  lookupRoom(roomKey: string): Promise<{ name: string; nicks: string[] } | null>;
  /** Every room with members on some node of the cluster, with its members on all of them. */
  listRooms(): Promise<Array<{ name: string; members: number }>>;
  /**
   * Sends a direct message to the node that holds its target; false if no node does.
   * `fromAccount`: the sender's account, when logged in (the DM is then stored on both nodes
   * if the recipient is logged in too).
   */
  sendDm(toKey: string, frame: DmFrame, fromAccount?: string): boolean;
  /**
   * While a room that just opened here fetches the history it missed from the cluster (see
   * {@link ClusterHub.recordRemote}): a promise that settles when it has; otherwise undefined.
   * Join history and history requests for the room wait for it.
   */
  historyPending(roomKey: string): Promise<void> | undefined;
  /**
   * Kicks a nick held on another node; resolves with the nick as spelt there, or null when no
   * node holds it (or its node did not answer).
   */
  kickRemote(
    nickKey: string,
    code: ChatErrorCode,
    reason: string | undefined,
  ): Promise<string | null>;
  /**
   * Disconnects, on every other node, the sessions whose address `target` (an address or CIDR
   * block just banned) covers; resolves with how many (those of nodes that answered in time).
   */
  kickCovered(target: string, code: ChatErrorCode, reason: string | undefined): Promise<number>;
  /**
   * The peer address of the session holding a nick on another node (with the nick as spelt
   * there); null when no node holds it (or its node did not answer).
   */
  remoteAddress(nickKey: string): Promise<{ nick: string; address: string } | null>;
}

/**
 * Where a cluster node's message ids come from (ids unique across the nodes, see
 * cluster/message-ids.ts). The hub asks it for each message instead of counting up itself.
 */
export interface MessageIdSource {
  /** The next id (a safe integer, larger than every id this node made before). */
  next(now: number): number;
  /** Ids continue above `id` (the store's highest). */
  continueAfter(id: number): void;
}
