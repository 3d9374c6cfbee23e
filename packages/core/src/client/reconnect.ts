/** Reconnect settings of {@link ChatClient}. */
export interface ReconnectOptions {
  /** First delay in ms (default 500). */
  initialDelayMs?: number;
  /** Longest delay in ms (default 30000). */
  maxDelayMs?: number;
  /** Growth per attempt (default 2). */
  factor?: number;
  /** Fraction of the delay drawn at random, 0..1 (default 0.5), so clients do not retry in step. */
  jitter?: number;
  /** Attempts before giving up (default: no limit). */
  maxAttempts?: number;
}

export function resolveReconnect(
  option: boolean | ReconnectOptions | undefined,
): Required<ReconnectOptions> | undefined {
  if (option === undefined || option === false) return undefined;
  const given = option === true ? {} : option;
  return {
    initialDelayMs: given.initialDelayMs ?? 500,
    maxDelayMs: given.maxDelayMs ?? 30_000,
    factor: given.factor ?? 2,
    jitter: given.jitter ?? 0.5,
    maxAttempts: given.maxAttempts ?? Number.POSITIVE_INFINITY,
  };
}

/** Delay before attempt `attempt` (1-based): exponential, capped, with "equal jitter". */
export function backoffDelay(
  policy: Required<ReconnectOptions>,
  attempt: number,
  random: () => number = Math.random,
): number {
  const base = Math.min(policy.maxDelayMs, policy.initialDelayMs * policy.factor ** (attempt - 1));
  return Math.round(base * (1 - policy.jitter) + base * policy.jitter * random());
}
