/**
 * Paces outgoing messages to the rate the server announced in its welcome (a token bucket
 * like the server's own, spec section 7), so a long paste trickles out instead of running
 * into CHAT_ERR_RATE_LIMITED. Order is kept: a message waits behind the ones before it.
 */

/** Rate and burst, as in the welcome's `limits`. */
export interface PaceLimits {
  /** Messages per second. */
  readonly messageRate: number;
  /** Messages that may go at once. */
  readonly messageBurst: number;
}

/** A FIFO of jobs released no faster than the limits allow. */
export class Pacer {
  private tokens: number;
  private updatedAt: number;
  private readonly queue: Array<() => void> = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private limits: PaceLimits,
    private readonly now: () => number = () => performance.now(),
  ) {
    // Keep a little headroom below the server's burst: its bucket also counts what we sent
    // just before, and timers fire late rather than early.
    this.tokens = this.capacity();
    this.updatedAt = this.now();
  }

  /** Adopts new limits (a new welcome). */
  setLimits(limits: PaceLimits): void {
    this.limits = limits;
    this.tokens = Math.min(this.tokens, this.capacity());
  }

  /** Runs `job` now if a token is free and nothing waits, else after the ones queued. */
  run(job: () => void): void {
    this.queue.push(job);
    this.drain();
  }

  /** Messages waiting for a token. */
  get waiting(): number {
    return this.queue.length;
  }

  /** Drops the waiting jobs (on quit). */
  clear(): void {
    this.queue.length = 0;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private capacity(): number {
    return Math.max(1, Math.floor(this.limits.messageBurst * 0.9));
  }

  private refill(): void {
    const now = this.now();
    const rate = Math.max(0.1, this.limits.messageRate * 0.9);
    this.tokens = Math.min(this.capacity(), this.tokens + ((now - this.updatedAt) / 1000) * rate);
    this.updatedAt = now;
  }

  private drain(): void {
    if (this.timer !== undefined) return;
    this.refill();
    while (this.queue.length > 0 && this.tokens >= 1) {
      this.tokens -= 1;
      this.queue.shift()!();
    }
    if (this.queue.length === 0) return;
    const rate = Math.max(0.1, this.limits.messageRate * 0.9);
    const waitMs = Math.ceil(((1 - this.tokens) / rate) * 1000);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.drain();
    }, waitMs);
  }
}
