/**
 * Turns a growing counter into a per-second rate over a sliding window, sampled once a second
 * (the timer is unref'd: it never keeps the process up).
 */
export class RateMeter {
  private readonly samples: Array<{ at: number; value: number }> = [];
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly read: () => number,
    private readonly windowMs = 10_000,
  ) {
    this.sample();
    this.timer = setInterval(() => this.sample(), 1000);
    this.timer.unref();
  }

  /** The counter's increase per second over the window (or since start, if shorter). */
  perSecond(): number {
    this.sample();
    const first = this.samples[0]!;
    const last = this.samples[this.samples.length - 1]!;
    const seconds = (last.at - first.at) / 1000;
    return seconds > 0 ? (last.value - first.value) / seconds : 0;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private sample(): void {
    const now = performance.now();
    this.samples.push({ at: now, value: this.read() });
    while (this.samples.length > 2 && now - this.samples[0]!.at > this.windowMs)
      this.samples.shift();
  }
}
