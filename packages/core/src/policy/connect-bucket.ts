import type { ResolvedConnectRate } from "./compile.js";
import type { ConnectBucket } from "./peer-stats.js";

/** What one connection attempt did to its address's bucket. */
export const CONNECT_OUTCOME = {
  /** A token was taken: the attempt may go on to the next rules. */
  passed: "passed",
  /** No token: refused, and counted as a violation. */
  refused: "refused",
  /** No token, and this violation reached `banAfter`: the address is to be banned. */
  ban: "ban",
} as const;
export type ConnectOutcome = (typeof CONNECT_OUTCOME)[keyof typeof CONNECT_OUTCOME];

/** Tokens in a bucket at `now` (a missing bucket is full). A clock that steps back refills nothing. */
export function connectTokensAt(
  bucket: ConnectBucket | undefined,
  rate: ResolvedConnectRate,
  now: number,
): number {
  if (bucket === undefined) return rate.burst;
  const elapsedMs = Math.max(0, now - bucket.updatedAt);
  return Math.min(rate.burst, bucket.tokens + (elapsedMs * rate.perSecond) / 1000);
}

/** Milliseconds until a bucket holding `tokens` has one whole token again (at least 1). */
export function msUntilToken(tokens: number, rate: ResolvedConnectRate): number {
  // The epsilon keeps float noise (0.01 tokens at 2/s = 5.000000000000004 ms) from adding 1 ms.
  return Math.max(1, Math.ceil(((1 - tokens) * 1000) / rate.perSecond - 1e-9));
}

/** Applies one connection attempt to a bucket: takes a token, or counts a violation. Pure. */
export function recordConnectAttempt(
  bucket: ConnectBucket | undefined,
  rate: ResolvedConnectRate,
  now: number,
): { bucket: ConnectBucket; outcome: ConnectOutcome } {
  const tokens = connectTokensAt(bucket, rate, now);
  const windowOpen =
    bucket !== undefined &&
    bucket.violations > 0 &&
    now - bucket.windowStartedAt < rate.banWindowMs;
  const violations = windowOpen ? bucket.violations : 0;
  const windowStartedAt = windowOpen ? bucket.windowStartedAt : now;
  if (tokens >= 1) {
    return {
      bucket: { tokens: tokens - 1, updatedAt: now, violations, windowStartedAt },
      outcome: CONNECT_OUTCOME.passed,
    };
  }
  const counted = violations + 1;
  if (rate.banAfter > 0 && counted >= rate.banAfter) {
    return {
      bucket: { tokens, updatedAt: now, violations: 0, windowStartedAt: now },
      outcome: CONNECT_OUTCOME.ban,
    };
  }
  return {
    bucket: { tokens, updatedAt: now, violations: counted, windowStartedAt },
    outcome: CONNECT_OUTCOME.refused,
  };
}

/**
 * Whether a bucket holds no information any more (full, and no violation window open), so the
 * policy may forget it: an absent bucket means exactly the same.
 */
export function isBucketIdle(
  bucket: ConnectBucket,
  rate: ResolvedConnectRate,
  now: number,
): boolean {
  const windowOpen = bucket.violations > 0 && now - bucket.windowStartedAt < rate.banWindowMs;
  return !windowOpen && connectTokensAt(bucket, rate, now) >= rate.burst;
}
