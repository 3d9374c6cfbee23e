/**
 * Store reads (history pages, and full-text searches of a store in memory) run on the event
 * loop; a search of a store on disk runs on the store's search thread, which shares the
 * machine's cores with it. This bounds the time reads may take per second, all clients together,
 * so that a flood of them is answered "busy, retry" instead of delaying everyone's chat (and
 * everyone's searches). Each client's own share is paced by its request budget
 * (session/history-requests.ts).
 */

/** Tokens refill linearly up to a burst (the sessions' token-bucket arithmetic). */
function refill(tokens: number, lastMs: number, nowMs: number, rate: number, burst: number) {
  const elapsed = nowMs - lastMs;
  return elapsed <= 0 ? tokens : Math.min(burst, tokens + (elapsed * rate) / 1000);
}

/** What a kind of read was seen to cost, ms: a running mean, the estimate charged up front. */
const FIRST_ESTIMATE_MS = 1;
/** Weight of the newest read in the running mean. */
const ESTIMATE_WEIGHT = 0.25;
/** Reads waiting for their answer (for a pending commit) at most, server-wide. */
export const MAX_READS_IN_FLIGHT = 64;

/**
 * A token bucket of milliseconds of store reads, server-wide. A read may start
 * while the bucket holds time and fewer than {@link MAX_READS_IN_FLIGHT} wait for an answer. It
 * is charged up front what reads of its kind cost lately (so that many reads started in one turn
 * all count), and set right when its own time is known (the bucket may go below zero: a long
 * read is paid off before the next one starts).
 */
export class ReadBudget {
  private ms: number;
  private at: number;
  private inFlight = 0;
  private readonly estimates = new Map<string, number>();
  /** Event-loop time reads took in the current turn (reset when the turn ends). */
  private turnMs = 0;
  private turnEndArmed = false;

  /**
   * @param msPerSecond read time allowed per second, sustained (ms)
   * @param burstMs read time allowed at once (ms)
   * @param turnMs event-loop time reads may take within one turn (ms)
   */
  constructor(
    private readonly msPerSecond: number,
    private readonly burstMs: number,
    now: number,
    private readonly maxTurnMs = Number.POSITIVE_INFINITY,
  ) {
    this.ms = burstMs;
    this.at = now;
  }

  /** What a read of `kind` is expected to cost, ms (what it is charged up front). */
  estimateMs(kind: string): number {
    return this.estimates.get(kind) ?? FIRST_ESTIMATE_MS;
  }

  /** Starts a read of `kind`: returns its up-front estimate (ms), or undefined when refused. */
  begin(kind: string, now: number): number | undefined {
    this.ms = refill(this.ms, this.at, now, this.msPerSecond, this.burstMs);
    this.at = now;
    if (this.ms <= 0 || this.inFlight >= MAX_READS_IN_FLIGHT || this.turnMs >= this.maxTurnMs)
      return undefined;
    const estimate = this.estimateMs(kind);
    this.ms -= estimate;
    this.inFlight += 1;
    return estimate;
  }

  /** Ends a read begun with `estimate`: the time it took (`ms`) replaces the estimate. */
  end(kind: string, estimate: number, ms: number): void {
    this.inFlight -= 1;
    this.ms += estimate - ms;
    const mean = this.estimateMs(kind);
    this.estimates.set(kind, mean + ESTIMATE_WEIGHT * (ms - mean));
  }

  /**
   * Counts `ms` of event-loop time a read and its reply took against this turn: reads that
   * arrive together (a flood's first turn) stop at the turn's share instead of holding the loop
   * for the sum of their times. Reset at the end of the turn.
   */
  chargeTurn(ms: number): void {
    this.turnMs += ms;
    if (this.turnEndArmed) return;
    this.turnEndArmed = true;
    setImmediate(() => {
      this.turnMs = 0;
      this.turnEndArmed = false;
    });
  }

  /**
   * Ms until a read may start, at the earliest (1 when only reads in flight or this turn's share
   * stand in the way).
   */
  waitMs(): number {
    return this.ms > 0 ? 1 : Math.ceil((-this.ms * 1000) / this.msPerSecond) + 1;
  }
}
