import type { PeerStats } from "./peer-stats.js";
import type { PeerInfo, ServerLoad } from "./types.js";

/**
 * Connect-rate limit per address: a token bucket that holds `burst` tokens and refills at
 * `perSecond`. Each connection attempt that reaches this rule takes a token; an attempt that
 * finds none is refused with `CHAT_ERR_REFUSED_RATE_LIMITED` and counts as a violation.
 * `banAfter` violations within `banWindowMs` ban the address for `banDurationMs`.
 */
export interface ConnectRateConfig {
  /** Sustained connection attempts per second per address (> 0, fractions allowed: 0.5 = one per 2 s). */
  readonly perSecond: number;
  /** Attempts allowed in a burst (integer >= 1). Default: `perSecond` rounded up, at least 1. */
  readonly burst?: number;
  /** Violations that trigger a temporary ban (integer >= 0; 0 = never ban). Default 10. */
  readonly banAfter?: number;
  /** Window in which violations are counted, in milliseconds. Default 10000. */
  readonly banWindowMs?: number;
  /** Length of the temporary ban, in milliseconds. Default 60000. */
  readonly banDurationMs?: number;
}

/**
 * What a custom predicate answers: `true` accepts, `false` refuses with
 * `CHAT_ERR_REFUSED_CUSTOM` and the table's message, an object refuses with its own message.
 */
export type CustomVerdict =
  | boolean
  | { readonly accept: true }
  | { readonly accept: false; readonly message?: string; readonly retryAfterMs?: number };

/** What a custom predicate is told besides the peer. */
export interface CustomPredicateContext {
  readonly load: ServerLoad;
  readonly stats: PeerStats;
}

/**
 * A rule in code, run last, only for connections every built-in rule accepted. It may be async;
 * it gets `customTimeoutMs` to answer. It must not throw (a throw counts like a time-out).
 */
export type CustomPredicate = (
  peer: PeerInfo,
  context: CustomPredicateContext,
) => CustomVerdict | Promise<CustomVerdict>;

/**
 * An accept policy. Every field is optional; an empty object accepts everyone. Rules run in this
 * order and the first that refuses decides: operator bans, `deny`, `allow`, `connectRate`,
 * `maxConnections`, `maxPerAddress`, `maxPerSubnet`, `custom`.
 *
 * Entries of `allow` and `deny` are addresses or CIDR blocks, IPv4 or IPv6 (`10.0.0.0/8`,
 * `::1`, `2001:db8::/32`); IPv4-mapped IPv6 (`::ffff:10.1.2.3`) is treated as IPv4.
 * Treat a config object as immutable once it is in use (compiled forms are cached per object).
 */
export interface PolicyConfig {
  /** If not empty, only these addresses may connect (after bans and `deny`). Default: everyone. */
  readonly allow?: readonly string[];
  /** These addresses are refused with `CHAT_ERR_REFUSED_DENIED`. Default: none. */
  readonly deny?: readonly string[];
  /** Most connections open at once on the server (integer >= 1). Default: no limit. */
  readonly maxConnections?: number;
  /** Most connections open at once from one address (integer >= 1). Default: no limit. */
  readonly maxPerAddress?: number;
  /** Most connections open at once from one subnet (integer >= 1). Default: no limit. */
  readonly maxPerSubnet?: number;
  /** Prefix length of an IPv4 subnet for `maxPerSubnet` (0 to 32). Default 24. */
  readonly subnetPrefixIPv4?: number;
  /** Prefix length of an IPv6 subnet for `maxPerSubnet` (0 to 128). Default 64. */
  readonly subnetPrefixIPv6?: number;
  /** Connect-rate limit per address. Default: no limit. */
  readonly connectRate?: ConnectRateConfig;
  /** A rule in code (not available in policy files). */
  readonly custom?: CustomPredicate;
  /** Time the custom predicate has to answer, in milliseconds. Default 1000. */
  readonly customTimeoutMs?: number;
  /** When the custom predicate times out or throws: accept (true) or refuse (false). Default false. */
  readonly customFailOpen?: boolean;
}

/** One problem in a policy file or config: where (`deny[2]`, `connectRate.perSecond`) and why. */
export interface PolicyIssue {
  readonly path: string;
  readonly message: string;
}

/**
 * An invalid policy file or config. The message lists every problem, one per line, each as
 * `field: why` (`deny[2]: "10.0.0.300/8" is not a valid address or CIDR`).
 */
export class PolicyFileError extends Error {
  readonly issues: readonly PolicyIssue[];
  /** The file the problems are in, when it was read from one. */
  readonly file: string | undefined;

  constructor(issues: readonly PolicyIssue[], file?: string) {
    const where = file === undefined ? "policy" : `policy file ${file}`;
    const lines = issues.map((issue) =>
      issue.path ? `${issue.path}: ${issue.message}` : issue.message,
    );
    super(`invalid ${where}:\n  ${lines.join("\n  ")}`);
    this.name = "PolicyFileError";
    this.issues = issues;
    this.file = file;
  }
}
