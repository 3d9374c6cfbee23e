/**
 * How the server handled an attacker, judged from the attacker's side: pure functions over
 * what each attacking connection saw, so that they work against any server version.
 */

/** The ways a server can stop an attacker. */
export const HANDLING = {
  cutOff: "cut off",
  throttled: "throttled",
  paused: "reading paused",
  none: "not handled",
} as const;
/** One way of handling. */
export type Handling = (typeof HANDLING)[keyof typeof HANDLING];

/** What one attacking connection saw; times in ms from the attack's start. */
export interface AttackerSigns {
  /** The server closed or reset the connection. */
  closedAtMs?: number;
  /** The CHAT_ERR_* code of the last line before the close, when it was read. */
  closeCode?: string;
  /** The first rate-limit reply or summary line arrived. */
  throttledAtMs?: number;
  /** Throttle lines were found only after the attack (a connection that did not read). */
  throttledLate?: boolean;
  /** The server stopped taking this connection's bytes while it kept serving others. */
  pausedAtMs?: number;
}

/** One connection's verdict: how it ended up handled, and when the first sign came. */
export interface ConnectionVerdict {
  handling: Handling;
  /** The earliest timed sign of any kind (undefined: none, or only untimed signs). */
  atMs: number | undefined;
}

/**
 * The strongest outcome names the verdict (closed, else throttle lines, else a read pause): a
 * server that cuts a connection off often stops reading it first, so the pause is the first sign
 * of the cut-off. The time is that of the earliest sign, whatever its kind.
 */
export function classifyConnection(signs: AttackerSigns): ConnectionVerdict {
  const times = [signs.closedAtMs, signs.throttledAtMs, signs.pausedAtMs].filter(
    (t): t is number => t !== undefined,
  );
  const atMs = times.length > 0 ? Math.min(...times) : undefined;
  if (signs.closedAtMs !== undefined) return { handling: HANDLING.cutOff, atMs };
  if (signs.throttledAtMs !== undefined || signs.throttledLate) {
    return { handling: HANDLING.throttled, atMs };
  }
  if (signs.pausedAtMs !== undefined) return { handling: HANDLING.paused, atMs };
  return { handling: HANDLING.none, atMs: undefined };
}

/** How an attack as a whole was handled. */
export interface AttackHandling {
  connections: number;
  /** Connections by their first sign. */
  byHandling: Record<Handling, number>;
  /** Connections the server closed, by the CHAT_ERR_* code of the last line they read. */
  closeCodes: Record<string, number>;
  /** The first sign on any connection, ms after the attack began. */
  firstSignMs: number | undefined;
  /**
   * When the last connection showed its first sign: every attacker was handled by then.
   * Undefined if one never did, or its sign has no time.
   */
  allHandledMs: number | undefined;
}

/** Sums up the verdicts of every attacking connection. */
export function summarizeHandling(all: readonly AttackerSigns[]): AttackHandling {
  const byHandling: Record<Handling, number> = {
    [HANDLING.cutOff]: 0,
    [HANDLING.throttled]: 0,
    [HANDLING.paused]: 0,
    [HANDLING.none]: 0,
  };
  const closeCodes: Record<string, number> = {};
  let firstSignMs: number | undefined;
  let allHandledMs: number | undefined = all.length > 0 ? 0 : undefined;
  for (const signs of all) {
    const verdict = classifyConnection(signs);
    byHandling[verdict.handling]++;
    if (signs.closedAtMs !== undefined) {
      const code = signs.closeCode ?? "no error line last";
      closeCodes[code] = (closeCodes[code] ?? 0) + 1;
    }
    if (verdict.atMs !== undefined) {
      firstSignMs = firstSignMs === undefined ? verdict.atMs : Math.min(firstSignMs, verdict.atMs);
    }
    if (verdict.atMs === undefined || verdict.handling === HANDLING.none) allHandledMs = undefined;
    else if (allHandledMs !== undefined) allHandledMs = Math.max(allHandledMs, verdict.atMs);
  }
  return { connections: all.length, byHandling, closeCodes, firstSignMs, allHandledMs };
}

/** Short words for a summary: `40 cut off (last line: CHAT_ERR_SEND_QUEUE_FULL x40)`. */
export function describeHandling(summary: AttackHandling): string {
  const parts: string[] = [];
  for (const [handling, n] of Object.entries(summary.byHandling)) {
    if (n === 0) continue;
    let part = `${n} ${handling}`;
    if (handling === HANDLING.cutOff) {
      const codes = Object.entries(summary.closeCodes).map(([code, k]) => `${code} x${k}`);
      if (codes.length > 0) part += ` (last line: ${codes.join(", ")})`;
    }
    parts.push(part);
  }
  return parts.join(", ") || "no attacker connections";
}
