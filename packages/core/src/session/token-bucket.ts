/**
 * Token bucket state kept as two plain numbers on its owner (no object per session):
 * `take` returns the new token count, or -1 when the bucket is empty.
 */
export function refill(
  tokens: number,
  lastMs: number,
  nowMs: number,
  rate: number,
  burst: number,
): number {
  const elapsed = nowMs - lastMs;
  return elapsed <= 0 ? tokens : Math.min(burst, tokens + (elapsed * rate) / 1000);
}
