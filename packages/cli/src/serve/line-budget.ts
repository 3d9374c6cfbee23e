/**
 * Caps the console's traffic lines per second. Writes to a terminal or pipe block the event loop
 * on Linux, so a flood of joins or messages printed one by one would slow the server itself;
 * past the budget, lines are only counted, and one summary line per second says how many.
 */
export class LineBudget {
  private windowStart = performance.now();
  private used = 0;
  private suppressed = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly perSecond: number,
    private readonly print: (text: string) => void,
  ) {
    this.timer = setInterval(() => this.roll(), 1000);
    this.timer.unref();
  }

  /** Prints the line if the budget allows, else counts it. */
  offer(line: () => string): void {
    if (performance.now() - this.windowStart >= 1000) this.roll();
    if (this.used < this.perSecond) {
      this.used++;
      this.print(line());
    } else {
      this.suppressed++;
    }
  }

  stop(): void {
    clearInterval(this.timer);
    this.roll();
  }

  private roll(): void {
    if (this.suppressed > 0) {
      this.print(
        `*** ${this.suppressed} more lines of room traffic not shown (the console shows at most ${this.perSecond} a second; /stats has the totals)`,
      );
    }
    this.windowStart = performance.now();
    this.used = 0;
    this.suppressed = 0;
  }
}
