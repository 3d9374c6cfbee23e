import { formatTextLine } from "../protocol/format-text.js";
import type { ServerFrame } from "../protocol/frames.js";
import type { Session } from "./session.js";

/**
 * A room and its pending broadcast batch. Each frame broadcast in an event-loop turn is encoded
 * once per mode that has members; at flush the batch is joined into one buffer per mode and the
 * same bytes are written to every member (one write per member per turn, whatever the count).
 */
export class Room {
  readonly members = new Set<Session>();
  textMembers = 0;
  structuredMembers = 0;
  private textParts: Buffer[] = [];
  private structuredParts: Buffer[] = [];
  /** Frames in the pending batch: each member receives this many at flush. */
  pendingFrames = 0;
  /** Joins and leaves not yet announced (big rooms sum them up per window). */
  crowdJoined = 0;
  crowdLeft = 0;
  crowdTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly name: string,
    readonly key: string,
  ) {}

  /** Adds a frame to the pending batch, encoded once for each mode that has members. */
  append(frame: ServerFrame): void {
    if (this.textMembers > 0) {
      const line = formatTextLine(frame);
      if (line !== null) this.textParts.push(Buffer.from(`${line}\n`, "utf8"));
    }
    if (this.structuredMembers > 0) {
      this.structuredParts.push(Buffer.from(`${JSON.stringify(frame)}\n`, "utf8"));
    }
    this.pendingFrames += 1;
  }

  /**
   * Writes the pending batch to every member and returns the number of deliveries.
   * Called once per turn, and before any membership change, so that a frame goes exactly to
   * the members the room had when it was sent.
   */
  flush(): number {
    if (this.pendingFrames === 0) return 0;
    const text = join(this.textParts);
    const structured = join(this.structuredParts);
    const frames = this.pendingFrames;
    this.textParts = [];
    this.structuredParts = [];
    this.pendingFrames = 0;
    for (const member of this.members) {
      const bytes = member.structured ? structured : text;
      if (bytes !== null) member.writeNow(bytes);
    }
    return frames * this.members.size;
  }
}

function join(parts: Buffer[]): Buffer | null {
  if (parts.length === 0) return null;
  if (parts.length === 1) return parts[0]!;
  return Buffer.concat(parts);
}
