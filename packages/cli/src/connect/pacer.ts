/**
 * Keeps a client under the server's message rate (a token bucket of `burst` tokens refilled at
 * `perSecond`, as the welcome announces), so that a script piping many lines gets them all
 * sent instead of `CHAT_ERR_RATE_LIMITED` for the excess.
 */
export class Pacer {
  private tokens: number;
  private last = performance.now();
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
  ) {
    this.tokens = burst;
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
