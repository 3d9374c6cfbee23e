import type { RefusedDecision } from "./evaluate.js";
import type { PeerInfo } from "./types.js";

/** Options of {@link createRefusalLogLimiter}. */
export interface RefusalLogLimiterOptions {
  /** Length of a window, in milliseconds: at most one summary per window. */
  readonly intervalMs: number;
  /** Refusals logged one by one in each window before the rest are only counted. Default 5. */
  readonly burst?: number;
  /** Addresses named in a summary (the most frequent). Default 5. */
  readonly topAddresses?: number;
  /** Distinct addresses counted per window; the rest are summed as "others". Default 1000. */
  readonly maxTrackedAddresses?: number;
  /** The clock, in milliseconds. Default `Date.now`. */
  readonly now?: () => number;
}

/** One line to log: a refusal, or a summary of refusals that were only counted. */
export interface RefusalLogEntry {
  readonly kind: "refusal" | "summary";
  /** The line for a person. */
  readonly text: string;
  /** The same as structured fields (JSON-serializable), for a one-line JSON log. */
  readonly fields: Readonly<Record<string, unknown>>;
}

/**
 * Turns a flood of refusals into a few lines: the first `burst` refusals of each window are
 * logged in full, the rest only counted, and summed up in one line (counts by code and the top
 * addresses) when the window ends.
 */
export interface RefusalLogLimiter {
  /** Records a refusal; returns what to log now (maybe a summary of the last window, maybe nothing). */
  record(peer: PeerInfo, decision: RefusedDecision): RefusalLogEntry[];
  /**
   * Ends the window if its time is up, or at once with `force` (at shutdown): returns its summary,
   * if anything was only counted. Call it from a timer so that a flood's tail gets reported.
   */
  flush(force?: boolean): RefusalLogEntry[];
}

const OTHERS = "others";

function increment(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

/** Creates a {@link RefusalLogLimiter}. Pure apart from its clock, which tests inject. */
export function createRefusalLogLimiter(options: RefusalLogLimiterOptions): RefusalLogLimiter {
  const clock = options.now ?? Date.now;
  const burst = options.burst ?? 5;
  const topCount = options.topAddresses ?? 5;
  const maxTracked = options.maxTrackedAddresses ?? 1000;
  let windowStartedAt = clock();
  let logged = 0;
  let suppressed = 0;
  const byCode = new Map<string, number>();
  const byAddress = new Map<string, number>();

  function summary(now: number): RefusalLogEntry {
    const windowMs = now - windowStartedAt;
    const codes = [...byCode].sort((a, b) => b[1] - a[1]);
    const top = [...byAddress].sort((a, b) => b[1] - a[1]).slice(0, topCount);
    const codeText = codes.map(([code, count]) => `${code} ${count}`).join(", ");
    const topText = top.map(([address, count]) => `${address} (${count})`).join(", ");
    return {
      kind: "summary",
      text: `refused ${suppressed} more connections in the last ${(windowMs / 1000).toFixed(1)}s: ${codeText}; top addresses: ${topText}`,
      fields: {
        event: "refused-summary",
        suppressed,
        windowMs,
        byCode: Object.fromEntries(codes),
        topAddresses: Object.fromEntries(top),
        distinctAddresses: byAddress.size,
      },
    };
  }

  function endWindow(now: number): RefusalLogEntry[] {
    const out = suppressed > 0 ? [summary(now)] : [];
    windowStartedAt = now;
    logged = 0;
    suppressed = 0;
    byCode.clear();
    byAddress.clear();
    return out;
  }

  return {
    record(peer, decision) {
      const now = clock();
      const out = now - windowStartedAt >= options.intervalMs ? endWindow(now) : [];
      if (logged < burst) {
        logged++;
        const retry =
          decision.retryAfterMs === undefined
            ? ""
            : ` (retry in ${Math.ceil(decision.retryAfterMs / 1000)}s)`;
        out.push({
          kind: "refusal",
          text: `refused ${peer.address}:${peer.port} ${decision.code} [${decision.rule}]: ${decision.message}${retry}`,
          fields: {
            event: "refused",
            address: peer.address,
            port: peer.port,
            localPort: peer.localPort,
            code: decision.code,
            rule: decision.rule,
            ...(decision.retryAfterMs !== undefined && { retryAfterMs: decision.retryAfterMs }),
          },
        });
        return out;
      }
      suppressed++;
      increment(byCode, decision.code);
      increment(
        byAddress,
        byAddress.has(peer.address) || byAddress.size < maxTracked ? peer.address : OTHERS,
      );
      return out;
    },
    flush(force = false) {
      const now = clock();
      return force || now - windowStartedAt >= options.intervalMs ? endWindow(now) : [];
    },
  };
}
