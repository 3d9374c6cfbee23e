/**
 * Progress on stderr while the bench runs (phase, counts, elapsed), so that stdout carries only
 * the results. On a terminal one line is rewritten; otherwise a line is printed every 2 s.
 */
export class Progress {
  readonly #stream: NodeJS.WriteStream;
  readonly #tty: boolean;
  readonly #quiet: boolean;
  #phase = "";
  #phaseStart = 0;
  #timer: NodeJS.Timeout | undefined;
  #counts: () => string = () => "";

  constructor(stream: NodeJS.WriteStream = process.stderr, quiet = false) {
    this.#stream = stream;
    this.#tty = stream.isTTY === true;
    this.#quiet = quiet;
  }

  /** Starts a phase; `counts` is polled for the live figures shown beside it. */
  phase(name: string, counts: () => string = () => ""): void {
    this.#finishLine();
    this.#phase = name;
    this.#phaseStart = performance.now();
    this.#counts = counts;
    this.#print(false);
    clearInterval(this.#timer);
    this.#timer = setInterval(() => this.#print(false), this.#tty ? 250 : 2000);
    this.#timer.unref();
  }

  /** Prints a line of its own (a warning or a finished phase's summary). */
  note(text: string): void {
    this.#finishLine();
    if (!this.#quiet) this.#stream.write(`${text}\n`);
  }

  /** Ends the current phase. */
  done(summary = ""): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#print(true, summary);
    this.#phase = "";
  }

  #line(summary: string): string {
    const elapsed = ((performance.now() - this.#phaseStart) / 1000).toFixed(1);
    const counts = summary || this.#counts();
    return `  ${this.#phase}  ${elapsed}s${counts ? `  ${counts}` : ""}`;
  }

  #print(final: boolean, summary = ""): void {
    if (this.#quiet || !this.#phase) return;
    if (this.#tty) {
      this.#stream.write(`\r\x1b[2K${this.#line(summary)}${final ? "\n" : ""}`);
    } else if (final) {
      this.#stream.write(`${this.#line(summary)}\n`);
    } else if (performance.now() - this.#phaseStart > 1000) {
      this.#stream.write(`${this.#line("")}\n`);
    }
  }

  #finishLine(): void {
    if (this.#phase) this.done();
  }
}
