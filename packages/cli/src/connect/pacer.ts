import { DEFAULT_MESSAGE_BURST, DEFAULT_MESSAGE_RATE } from "@tcpchat/core";

/**
 * Keeps a client under the server's message rate (a token bucket of `burst` tokens refilled at
 * `perSecond`, as the welcome announces), so that a script piping many lines gets them all
 * sent instead of `CHAT_ERR_RATE_LIMITED` for the excess. A rate or burst that is not a
 * positive number (0 would never refill) takes the default.
 */
export class Pacer {
  private tokens: number;
  private last = performance.now();
  private chain: Promise<void> = Promise.resolve();
  private readonly perSecond: number;
  private readonly burst: number;

  constructor(perSecond: number, burst: number) {
    this.perSecond = positiveOr(perSecond, DEFAULT_MESSAGE_RATE);
    this.burst = Math.max(1, positiveOr(burst, DEFAULT_MESSAGE_BURST));
    this.tokens = this.burst;
  }

  /** Resolves when one more message may be sent; callers are served in order. */
  take(): Promise<void> {
    const turn = this.chain.then(() => this.wait());
    this.chain = turn;
    return turn;
  }

  private async wait(): Promise<void> {
    for (;;) {
      const now = performance.now();
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.perSecond);
      this.last = now;
      if (this.tokens >= 1) {
        this.tokens -= 1;
        return;
      }
      const waitMs = Math.ceil(((1 - this.tokens) / this.perSecond) * 1000);
      await new Promise((resolve) => setTimeout(resolve, waitMs));
    }
  }
}

function positiveOr(value: number, fallback: number): number {
  return Number.isFinite(value) && value > 0 ? value : fallback;
}
