/**
 * Password hashes (scrypt: tens of ms of a thread-pool thread and 32 MiB each, for register and
 * login) run a few at a time, server-wide and per address, so that a flood of them is answered
 * "busy" or "throttled" at once instead of queueing without bound and starving other work.
 */

/** Limits of {@link PasswordGate}. */
export interface PasswordGateOptions {
  /**
   * Password hashes run at once (default 2, at most half of libuv's default thread pool of 4,
   * so other work that needs the pool still gets its turn; the server uses half the machine's
   * cores, at least 1, so that the event loop keeps a core of its own).
   */
  maxRunning: number;
  /** Hashes waiting for a free slot, at most (default 32); more are refused as busy. */
  maxWaiting: number;
  /** Hashes running or waiting for one address at once (default 2). */
  maxPerAddress: number;
}

/** Default {@link PasswordGateOptions}. */
export const DEFAULT_PASSWORD_GATE: PasswordGateOptions = {
  maxRunning: 2,
  maxWaiting: 32,
  maxPerAddress: 2,
};

/** Why {@link PasswordGate.run} refused: the server's queue is full, or the address has its share. */
export const PASSWORD_GATE_REFUSAL = { busy: "busy", address: "address" } as const;
/** One refusal reason. */
export type PasswordGateRefusal =
  (typeof PASSWORD_GATE_REFUSAL)[keyof typeof PASSWORD_GATE_REFUSAL];

/**
 * Runs password work (scrypt) a few at a time, in order of arrival, with a bounded queue and a
 * share per address. A refusal costs nothing: the caller replies "busy" or "throttled".
 */
export class PasswordGate {
  private running = 0;
  private readonly waiting: Array<() => void> = [];
  private readonly perAddress = new Map<string, number>();

  constructor(readonly options: PasswordGateOptions = DEFAULT_PASSWORD_GATE) {}

  /** Hashes running now, and waiting. */
  get load(): { running: number; waiting: number } {
    return { running: this.running, waiting: this.waiting.length };
  }

  /**
   * Runs `task` when a slot is free, or refuses at once (the task never runs): the address
   * already has `maxPerAddress` running or waiting, or `maxWaiting` tasks wait.
   */
  run<T>(address: string, task: () => Promise<T>): Promise<T> | PasswordGateRefusal {
    const o = this.options;
    const mine = this.perAddress.get(address) ?? 0;
    if (mine >= o.maxPerAddress) return PASSWORD_GATE_REFUSAL.address;
    if (this.running >= o.maxRunning && this.waiting.length >= o.maxWaiting) {
      return PASSWORD_GATE_REFUSAL.busy;
    }
    this.perAddress.set(address, mine + 1);
    const slot =
      this.running < o.maxRunning
        ? Promise.resolve()
        : new Promise<void>((resolve) => this.waiting.push(resolve));
    if (this.running < o.maxRunning) this.running++;
    return slot.then(task).finally(() => this.release(address));
  }

  private release(address: string): void {
    const left = (this.perAddress.get(address) ?? 1) - 1;
    if (left <= 0) this.perAddress.delete(address);
    else this.perAddress.set(address, left);
    // The slot passes to the next waiting task (running stays the same), or frees.
    const next = this.waiting.shift();
    if (next === undefined) this.running--;
    else next();
  }
}
