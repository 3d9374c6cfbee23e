/**
 * Failed-login throttling, per address and per account: a few free tries, then each further
 * failure doubles the wait (1 s, 2 s, 4 s, ... up to `maxDelayMs`). A success clears the
 * account's and the address's record. Memory is bounded: at most `maxEntries` records, the
 * oldest forgotten first, and records idle for `forgetAfterMs` are dropped.
 */
export interface LoginThrottleOptions {
  /** Failures allowed before waits begin (default 5). */
  freeFailures: number;
  /** First wait, in ms (default 1000). */
  baseDelayMs: number;
  /** Longest wait, in ms (default 15 minutes). */
  maxDelayMs: number;
  /** Records kept at most (default 10,000). */
  maxEntries: number;
  /** A record idle this long is forgotten, in ms (default 1 hour). */
  forgetAfterMs: number;
}

/** The defaults of {@link LoginThrottleOptions}. */
export const DEFAULT_LOGIN_THROTTLE: LoginThrottleOptions = {
  freeFailures: 5,
  baseDelayMs: 1000,
  maxDelayMs: 15 * 60_000,
  maxEntries: 10_000,
  forgetAfterMs: 60 * 60_000,
};

interface Failures {
  count: number;
  /** No attempt before this time (epoch ms). */
  until: number;
  last: number;
}

/** See the module comment. Keys are `address` and `account` strings, kept apart by a prefix. */
export class LoginThrottle {
  private readonly records = new Map<string, Failures>();

  constructor(private readonly options: LoginThrottleOptions = DEFAULT_LOGIN_THROTTLE) {}

  /** Ms to wait before an attempt from `address` on `account` may be tried; 0: go ahead. */
  waitMs(address: string, account: string, now: number): number {
    const a = this.records.get(`a:${address}`);
    const b = this.records.get(`n:${account}`);
    return Math.max(0, (a?.until ?? 0) - now, (b?.until ?? 0) - now);
  }

  /** Records a failed attempt. */
  failed(address: string, account: string, now: number): void {
    this.bump(`a:${address}`, now);
    this.bump(`n:${account}`, now);
  }

  /** Records a success: the account and the address start afresh. */
  succeeded(address: string, account: string): void {
    this.records.delete(`a:${address}`);
    this.records.delete(`n:${account}`);
  }

  private bump(key: string, now: number): void {
    const o = this.options;
    let record = this.records.get(key);
    if (record === undefined || now - record.last > o.forgetAfterMs) {
      record = { count: 0, until: 0, last: now };
    }
    // Re-inserted at the end: the map stays in order of last failure, oldest first.
    this.records.delete(key);
    record.count += 1;
    record.last = now;
    const over = record.count - o.freeFailures;
    if (over >= 0)
      record.until = now + Math.min(o.maxDelayMs, o.baseDelayMs * 2 ** Math.min(over, 30));
    this.records.set(key, record);
    for (const [oldest, value] of this.records) {
      if (this.records.size <= o.maxEntries && now - value.last <= o.forgetAfterMs) break;
      this.records.delete(oldest);
    }
  }
}
