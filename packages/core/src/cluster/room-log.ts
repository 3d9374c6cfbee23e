/**
 * What a node knows of one room's sequence (Centrifugo's {offset, epoch}): the last position it
 * delivered, and per publisher the last batch it delivered. Pure: the cluster asks it what to
 * do with each arriving batch and does the I/O.
 */

/** What to do with an arriving batch. */
export type LogVerdict =
  /** Next in sequence: deliver it. */
  | { kind: "deliver" }
  /** Already delivered (or older): drop it. */
  | { kind: "duplicate" }
  /** Positions `from`..`to` (inclusive) are missing: fetch them from the stream first. */
  | { kind: "gap"; from: number; to: number };

/** A room's position in its log, on one node. */
export class RoomLog {
  /** Epoch of the log the position is in; "" before the first batch. */
  epoch = "";
  /** Last position delivered (0: none). */
  seq = 0;
  /** Per publishing node, its last batch counter delivered: re-sent batches are dropped. */
  private readonly lastBatch = new Map<string, number>();

  /** Starts at a known position (read before subscribing: anything later is a gap). */
  start(epoch: string, seq: number): void {
    this.epoch = epoch;
    this.seq = seq;
  }

  /** Where a batch at (`epoch`, `seq`) stands against what was delivered. */
  check(epoch: string, seq: number): LogVerdict {
    if (epoch !== this.epoch) {
      // A new life of the log (its Redis restarted empty): everything in it is new.
      return seq === 1 ? { kind: "deliver" } : { kind: "gap", from: 1, to: seq - 1 };
    }
    if (seq <= this.seq) return { kind: "duplicate" };
    if (seq === this.seq + 1) return { kind: "deliver" };
    return { kind: "gap", from: this.seq + 1, to: seq - 1 };
  }

  /**
   * Records a batch as passed at (`epoch`, `seq`) and says whether its content is new: a batch
   * its publisher re-sent (its reply was lost, then Redis took it twice) is not.
   */
  advance(epoch: string, seq: number, origin: string, batch: number): boolean {
    this.epoch = epoch;
    this.seq = seq;
    const last = this.lastBatch.get(origin) ?? 0;
    if (batch <= last) return false;
    this.lastBatch.set(origin, batch);
    return true;
  }

  /** Forgets a node that left the cluster. */
  forgetOrigin(origin: string): void {
    this.lastBatch.delete(origin);
  }
}
