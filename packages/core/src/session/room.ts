import type { ServerFrame } from "../protocol/frames.js";
import type { RoomBus } from "./bus.js";
import { CODEC_COUNT, encodeBatch } from "./codec.js";
import type { Session } from "./session.js";

/** The rooms list of a session in no room: shared, never changed. */
export const NO_ROOMS: readonly Room[] = [];

/**
 * A room and its pending broadcast batch. Frames broadcast in an event-loop turn are kept as
 * frames; at flush the batch is encoded once per codec that has members (one buffer each) and
 * the same bytes are written to every member: one write per member per turn, whatever the
 * count. Which codec a member uses is read from the member itself at flush, so no per-mode
 * count is kept that could drift from the members' modes.
 */
export class Room {
  readonly #members = new Set<Session>();
  /** The members as an array for flushes, rebuilt after a membership change (null: stale). */
  #memberList: Session[] | null = [];
  private pending: ServerFrame[] = [];
  /** Joins and leaves not yet announced (big rooms sum them up per window). */
  crowdJoined = 0;
  crowdLeft = 0;
  crowdTimer: NodeJS.Timeout | undefined;
  /** In a cluster: the frames of the pending batch that this node's members produced. */
  private outbound: ServerFrame[] = [];
  /**
   * This room alone: the rooms list of every member in no other room, shared by them (most
   * sessions are in one room; an array of their own was 56 bytes each). Never changed.
   */
  readonly alone: readonly Room[] = [this];

  constructor(
    readonly name: string,
    readonly key: string,
    /** TR39 skeleton of the name: a new room whose skeleton matches is refused as a lookalike. */
    readonly skeleton: string,
    /** In a cluster, where the frames this node's members produce go at flush. */
    private readonly bus?: RoomBus,
  ) {}

  /** Who is in the room (change it with {@link add} and {@link remove}). */
  get members(): ReadonlySet<Session> {
    return this.#members;
  }

  /** Adds a member (flush first: what was sent before it joined is not for it). */
  add(session: Session): void {
    this.#members.add(session);
    this.#memberList = null;
  }

  /** Removes a member (flush first: what was sent while it was in is still for it). */
  remove(session: Session): boolean {
    const removed = this.#members.delete(session);
    if (removed) this.#memberList = null;
    return removed;
  }

  /** Frames in the pending batch: each member receives this many at flush. */
  get pendingFrames(): number {
    return this.pending.length;
  }

  /** Adds a frame to the pending batch. */
  append(frame: ServerFrame): void {
    this.pending.push(frame);
    if (this.bus !== undefined) this.outbound.push(frame);
  }

  /** Adds frames another node published: written to members at flush, never published again. */
  appendRemote(frames: readonly ServerFrame[]): void {
    for (const frame of frames) this.pending.push(frame);
  }

  /**
   * Writes the pending batch to every member and returns the number of deliveries.
   * Called once per turn, and before any membership change, so that a frame goes exactly to
   * the members the room had when it was sent. A member whose mode is not settled yet holds
   * the frames and gets them, in its codec, once it is.
   */
  flush(): number {
    const frames = this.pending;
    if (frames.length === 0) return 0;
    this.pending = [];
    if (this.outbound.length > 0) {
      // Published once per flush, whatever the number of nodes (each encodes for its codecs).
      this.bus!.publish(this.key, this.outbound);
      this.outbound = [];
    }
    // Membership changes far less often than a busy room flushes: an array is walked without
    // an iterator object, and a join storm rebuilds it once per flush, not once per join.
    let members = this.#memberList;
    if (members === null) {
      members = [...this.#members];
      this.#memberList = members;
    }
    const encoded: Array<Buffer | null | undefined> = new Array(CODEC_COUNT);
    for (let i = 0; i < members.length; i++) {
      const member = members[i]!;
      const codec = member.codec;
      if (codec === null) {
        member.hold(frames);
        continue;
      }
      let bytes = encoded[codec.id];
      if (bytes === undefined) {
        bytes = encodeBatch(codec, frames);
        encoded[codec.id] = bytes;
      }
      if (bytes !== null) member.writeNow(bytes);
    }
    return frames.length * members.length;
  }
}
