import { DEFAULT_MAX_TRACKED_ADDRESSES } from "../defaults.js";
import { ERROR_CODES } from "../errors.js";
import {
  type NormalizedAddress,
  normalizePeerAddress,
  parseAddressOrCidr,
  subnetKey,
} from "./address.js";
import { type BanChange, BanStore } from "./ban-store.js";
import { type PolicyCheckResult, traceRules } from "./check.js";
import { type CompiledPolicy, compilePolicy } from "./compile.js";
import type { CustomVerdict, PolicyConfig } from "./config.js";
import { CONNECT_OUTCOME, isBucketIdle, recordConnectAttempt } from "./connect-bucket.js";
import {
  banRefusal,
  evaluateRules,
  POLICY_RULE,
  type RefusedDecision,
  type RuleInput,
} from "./evaluate.js";
import {
  BAN_SOURCE,
  type BanInfo,
  type BanSource,
  type ConnectBucket,
  type PeerStats,
} from "./peer-stats.js";
import type { AcceptDecision, AcceptPolicy, PeerInfo, ServerLoad } from "./types.js";

/** Options of {@link createAcceptPolicy} that are not policy rules. */
export interface AcceptPolicyOptions {
  /** The clock, in milliseconds since the epoch. Default `Date.now`; tests inject their own. */
  readonly now?: () => number;
  /**
   * Most addresses with connect-rate state, and most automatic bans, kept in memory (each).
   * Past it the least recently seen are forgotten, so a flood from many addresses cannot grow
   * memory without bound. Default 10000.
   */
  readonly maxTrackedAddresses?: number;
  /**
   * Called with each ban the connect-rate rule makes, so that its owner can keep it (a store
   * that survives restarts). Called on the accept path: keep it short.
   */
  readonly onAutomaticBan?: (ban: BanInfo) => void;
}

/** Options of {@link ManagedAcceptPolicy.ban}. */
export interface BanOptions {
  /** How long the ban lasts, in milliseconds. Default: until lifted. */
  readonly durationMs?: number;
  /** Shown to the refused client and in `bans()`. */
  readonly reason?: string;
  /** Who made it (default the operator); a restored automatic ban keeps its source. */
  readonly source?: BanSource;
}

/** Counters of a managed policy. */
export interface PolicyStats {
  readonly decisions: number;
  readonly accepted: number;
  readonly refused: number;
  /** Refusals by `CHAT_ERR_REFUSED_*` code. */
  readonly byCode: Readonly<Record<string, number>>;
  /** Decisions (accepts and refusals) by the rule that made them. */
  readonly byRule: Readonly<Record<string, number>>;
  /** Custom predicates that did not answer in time / threw or answered nonsense. */
  readonly customTimeouts: number;
  readonly customErrors: number;
  /** Connections this policy accepted that are still open. */
  readonly connections: number;
  /** Addresses with open connections / with connect-rate state. */
  readonly trackedAddresses: number;
  readonly trackedBuckets: number;
  readonly bans: number;
}

/** An {@link AcceptPolicy} with state: counts, connect-rate buckets, bans, and counters. */
export interface ManagedAcceptPolicy extends AcceptPolicy {
  /** The config in force. */
  readonly config: PolicyConfig;
  /** Synchronous unless a custom predicate answers with a promise. */
  decide(peer: PeerInfo, load: ServerLoad): AcceptDecision | Promise<AcceptDecision>;
  /** Call when a connection this policy accepted closes. Unknown peers are ignored. */
  released(peer: PeerInfo): void;
  /**
   * Swaps the config (a reload), keeping connection counts, buckets and bans.
   * @throws {PolicyFileError} if the config is invalid; the old one stays in force.
   */
  update(config: PolicyConfig): void;
  /**
   * Bans an address or CIDR block for new connections, at once. Replaces a ban of the same
   * target. Existing connections are not touched: disconnect them with the server's
   * `disconnectWhere(s => policy.isBanned(s.address) !== undefined, ...)`.
   * @throws {TypeError} if the target is not an address or CIDR, or the duration is not > 0.
   */
  ban(target: string, options?: BanOptions): BanInfo;
  /**
   * Lifts the ban whose target is `target` (the same address or block as banned, in any
   * spelling: `::ffff:10.0.0.1` lifts `10.0.0.1`). A ban of a block is not lifted by one address.
   * @returns whether a ban was lifted.
   * @throws {TypeError} if the target is not an address or CIDR.
   */
  unban(target: string): boolean;
  /** Active bans (operator and automatic), with their expiry. */
  bans(): BanInfo[];
  /**
   * Shares operator bans with other copies of the list (the nodes of a cluster): `listener`
   * hears every operator ban made or lifted here, whoever made it (the console, an operator
   * client). Returns how a change made elsewhere is applied here, without being heard back.
   * One listener at a time; undefined stops sharing.
   */
  shareBans(listener: ((change: BanChange) => void) | undefined): (change: BanChange) => void;
  /** The active ban covering an address, if any. */
  isBanned(address: string): BanInfo | undefined;
  /** What the built-in rules would decide now for a new connection from `address`, and why. */
  explain(address: string): PolicyCheckResult;
  stats(): PolicyStats;
}

const SWEEP_BUDGET = 4;

interface AddressEntry {
  count: number;
  subnet: string;
}

function keyOf(address: NormalizedAddress | undefined, raw: string): string {
  return address?.text ?? raw;
}

class ManagedPolicy implements ManagedAcceptPolicy {
  private policy: CompiledPolicy;
  private readonly clock: () => number;
  private readonly maxTracked: number;
  private readonly addresses = new Map<string, AddressEntry>();
  private readonly subnets = new Map<string, number>();
  private total = 0;
  /** Least recently touched first: pruning looks only at the front. */
  private readonly buckets = new Map<string, ConnectBucket>();
  private readonly banStore: BanStore;
  private readonly onAutomaticBan: ((ban: BanInfo) => void) | undefined;
  private readonly counters = {
    decisions: 0,
    accepted: 0,
    refused: 0,
    customTimeouts: 0,
    customErrors: 0,
  };
  private readonly byCode = new Map<string, number>();
  private readonly byRule = new Map<string, number>();

  constructor(config: PolicyConfig, options: AcceptPolicyOptions) {
    this.policy = compilePolicy(config);
    this.clock = options.now ?? Date.now;
    this.maxTracked = Math.max(1, options.maxTrackedAddresses ?? DEFAULT_MAX_TRACKED_ADDRESSES);
    this.banStore = new BanStore(this.maxTracked);
    this.onAutomaticBan = options.onAutomaticBan;
  }

  get config(): PolicyConfig {
    return this.policy.config;
  }

  get maxConnections(): number | undefined {
    return this.policy.maxConnections;
  }

  decide(peer: PeerInfo, load: ServerLoad): AcceptDecision | Promise<AcceptDecision> {
    const now = this.clock();
    this.sweep(now);
    const input = this.inputFor(peer.address, load, now);
    let decision = evaluateRules(input);
    if (this.policy.connectRate !== undefined && reachesConnectRate(decision)) {
      decision = this.applyConnectRate(input, decision);
    }
    if (!decision.accept) return this.count(decision);
    const key = input.addressText;
    this.reserve(key, input.address);
    if (this.policy.custom === undefined) return this.count(decision);
    return this.runCustom(peer, input, key);
  }

  released(peer: PeerInfo): void {
    this.unreserve(keyOf(normalizePeerAddress(peer.address), peer.address));
  }

  update(config: PolicyConfig): void {
    const next = compilePolicy(config);
    const prefixesChanged =
      next.subnetPrefixIPv4 !== this.policy.subnetPrefixIPv4 ||
      next.subnetPrefixIPv6 !== this.policy.subnetPrefixIPv6;
    this.policy = next;
    if (next.connectRate === undefined) this.buckets.clear();
    if (prefixesChanged) this.recountSubnets();
  }

  ban(target: string, options: BanOptions = {}): BanInfo {
    const range = parseAddressOrCidr(target);
    if (typeof range === "string") throw new TypeError(range);
    const { durationMs, reason } = options;
    if (durationMs !== undefined && !(Number.isFinite(durationMs) && durationMs > 0)) {
      throw new TypeError(`ban duration must be a number of milliseconds > 0, not ${durationMs}`);
    }
    const now = this.clock();
    const ban: BanInfo = {
      target: range.text,
      source: options.source ?? BAN_SOURCE.operator,
      createdAt: now,
      ...(reason !== undefined && reason !== "" && { reason }),
      ...(durationMs !== undefined && { expiresAt: now + durationMs }),
    };
    this.banStore.add(range, ban);
    return ban;
  }

  unban(target: string): boolean {
    const range = parseAddressOrCidr(target);
    if (typeof range === "string") throw new TypeError(range);
    return this.banStore.remove(range.text);
  }

  bans(): BanInfo[] {
    return this.banStore.list(this.clock());
  }

  shareBans(listener: ((change: BanChange) => void) | undefined): (change: BanChange) => void {
    this.banStore.onOperatorChange(listener);
    return (change) => {
      const target = change.op === "ban" ? change.ban.target : change.target;
      const range = parseAddressOrCidr(target);
      // Another node's list holds only what its own parser accepted; skip anything else.
      if (typeof range === "string") return;
      if (change.op === "unban") {
        this.banStore.remove(range.text, true);
        return;
      }
      if (change.ban.expiresAt !== undefined && change.ban.expiresAt <= this.clock()) return;
      this.banStore.add(range, { ...change.ban, target: range.text }, true);
    };
  }

  isBanned(address: string): BanInfo | undefined {
    const normalized = normalizePeerAddress(address);
    const now = this.clock();
    return normalized === undefined
      ? this.banStore.matchText(address, now)
      : this.banStore.match(normalized, now);
  }

  explain(address: string): PolicyCheckResult {
    if (normalizePeerAddress(address) === undefined)
      throw new TypeError(`${JSON.stringify(address)} is not a valid IP address`);
    return traceRules(this.policy, this.inputFor(address, { connections: 0 }, this.clock()));
  }

  stats(): PolicyStats {
    return {
      ...this.counters,
      byCode: Object.fromEntries(this.byCode),
      byRule: Object.fromEntries(this.byRule),
      connections: this.total,
      trackedAddresses: this.addresses.size,
      trackedBuckets: this.buckets.size,
      bans: this.banStore.size,
    };
  }

  private inputFor(rawAddress: string, load: ServerLoad, now: number): RuleInput {
    const address = normalizePeerAddress(rawAddress);
    const key = keyOf(address, rawAddress);
    const policy = this.policy;
    const entry = this.addresses.get(key);
    const ban =
      address === undefined ? this.banStore.matchText(key, now) : this.banStore.match(address, now);
    let fromSubnet = 0;
    // A subnet key costs a CIDR computation: only when a rule reads it.
    if (policy.maxPerSubnet !== undefined) {
      fromSubnet = this.subnets.get(entry?.subnet ?? this.subnetFor(address, key)) ?? 0;
    }
    const stats: PeerStats = {
      // The server's count misses connections still being decided; ours misses those accepted
      // under a policy this one replaced with setPolicy. The larger is the safer bound.
      totalConnections: Math.max(load.connections, this.total),
      fromAddress: entry?.count ?? 0,
      fromSubnet,
      ...(this.buckets.has(key) && { connectBucket: this.buckets.get(key) }),
      ...(ban !== undefined && { ban }),
    };
    return { policy, address, addressText: key, stats, now };
  }

  private applyConnectRate(input: RuleInput, decision: AcceptDecision): AcceptDecision {
    const rate = this.policy.connectRate!;
    const key = input.addressText;
    const { bucket, outcome } = recordConnectAttempt(input.stats.connectBucket, rate, input.now);
    this.buckets.delete(key);
    this.buckets.set(key, bucket);
    for (const oldest of this.buckets.keys()) {
      if (this.buckets.size <= this.maxTracked) break;
      this.buckets.delete(oldest);
    }
    if (outcome !== CONNECT_OUTCOME.ban) return decision;
    const target = parseAddressOrCidr(key);
    if (typeof target === "string") return decision;
    const ban: BanInfo = {
      target: target.text,
      source: BAN_SOURCE.connectRate,
      reason: "connecting too often",
      createdAt: input.now,
      expiresAt: input.now + rate.banDurationMs,
    };
    this.banStore.add(target, ban);
    try {
      this.onAutomaticBan?.(ban);
    } catch {
      // Keeping the ban elsewhere is best effort: it holds in memory whatever happens there.
    }
    return banRefusal(ban, input.now);
  }

  private runCustom(
    peer: PeerInfo,
    input: RuleInput,
    key: string,
  ): AcceptDecision | Promise<AcceptDecision> {
    const policy = this.policy;
    let verdict: CustomVerdict | Promise<CustomVerdict>;
    try {
      verdict = policy.custom!(peer, {
        load: { connections: input.stats.totalConnections },
        stats: input.stats,
      });
    } catch {
      return this.finishCustom(key, undefined, "error");
    }
    if (!isPromiseLike(verdict)) return this.finishCustom(key, verdict, "ok");
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<"timeout">((resolve) => {
      timer = setTimeout(resolve, policy.customTimeoutMs, "timeout");
      timer.unref();
    });
    const answered = Promise.resolve(verdict).then(
      (value) => ({ value }),
      () => "error" as const,
    );
    return Promise.race([answered, timeout]).then((result) => {
      clearTimeout(timer);
      if (typeof result === "string") return this.finishCustom(key, undefined, result);
      return this.finishCustom(key, result.value, "ok");
    });
  }

  private finishCustom(
    key: string,
    verdict: CustomVerdict | undefined,
    how: "ok" | "error" | "timeout",
  ): AcceptDecision {
    let decision = how === "ok" ? verdictToDecision(verdict) : undefined;
    if (decision === undefined) {
      if (how === "timeout") this.counters.customTimeouts++;
      else this.counters.customErrors++;
      decision = this.policy.customFailOpen
        ? { accept: true, rule: POLICY_RULE.custom }
        : customRefusal(
            how === "timeout"
              ? "The server's admission check did not answer in time."
              : "The server's admission check failed.",
          );
    }
    if (!decision.accept) this.unreserve(key);
    return this.count(decision);
  }

  private count(decision: AcceptDecision): AcceptDecision {
    this.counters.decisions++;
    const rule = decision.rule ?? POLICY_RULE.default;
    this.byRule.set(rule, (this.byRule.get(rule) ?? 0) + 1);
    if (decision.accept) {
      this.counters.accepted++;
    } else {
      this.counters.refused++;
      this.byCode.set(decision.code, (this.byCode.get(decision.code) ?? 0) + 1);
    }
    return decision;
  }

  private subnetFor(address: NormalizedAddress | undefined, key: string): string {
    return address === undefined
      ? key
      : subnetKey(address, this.policy.subnetPrefixIPv4, this.policy.subnetPrefixIPv6);
  }

  private reserve(key: string, address: NormalizedAddress | undefined): void {
    let entry = this.addresses.get(key);
    if (entry === undefined) {
      entry = { count: 0, subnet: this.subnetFor(address, key) };
      this.addresses.set(key, entry);
    }
    entry.count++;
    this.subnets.set(entry.subnet, (this.subnets.get(entry.subnet) ?? 0) + 1);
    this.total++;
  }

  /** Tolerates peers it never counted (accepted under a policy that `setPolicy` replaced). */
  private unreserve(key: string): void {
    const entry = this.addresses.get(key);
    if (entry === undefined) return;
    entry.count--;
    this.total = Math.max(0, this.total - 1);
    const inSubnet = (this.subnets.get(entry.subnet) ?? 1) - 1;
    if (inSubnet <= 0) this.subnets.delete(entry.subnet);
    else this.subnets.set(entry.subnet, inSubnet);
    if (entry.count <= 0) this.addresses.delete(key);
  }

  private recountSubnets(): void {
    this.subnets.clear();
    for (const [key, entry] of this.addresses) {
      entry.subnet = this.subnetFor(normalizePeerAddress(key), key);
      this.subnets.set(entry.subnet, (this.subnets.get(entry.subnet) ?? 0) + entry.count);
    }
  }

  /** Amortized upkeep per decision: forget a few idle buckets and expired automatic bans. */
  private sweep(now: number): void {
    this.banStore.sweep(now, SWEEP_BUDGET);
    const rate = this.policy.connectRate;
    if (rate === undefined) return;
    let left = SWEEP_BUDGET;
    for (const [key, bucket] of this.buckets) {
      if (left-- <= 0 || !isBucketIdle(bucket, rate, now)) break;
      this.buckets.delete(key);
    }
  }
}

function isPromiseLike<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof (value as PromiseLike<T> | null)?.then === "function";
}

/** Bans, deny and allow refusals come before the connect-rate rule: such attempts take no token. */
function reachesConnectRate(decision: AcceptDecision): boolean {
  if (decision.accept) return true;
  const rule = decision.rule;
  return (
    rule !== POLICY_RULE.ban &&
    rule !== POLICY_RULE.rateBan &&
    rule !== POLICY_RULE.deny &&
    rule !== POLICY_RULE.allow
  );
}

function customRefusal(message: string, retryAfterMs?: number): RefusedDecision {
  const base = {
    accept: false,
    code: "CHAT_ERR_REFUSED_CUSTOM",
    message,
    rule: POLICY_RULE.custom,
  } as const;
  return retryAfterMs === undefined ? base : { ...base, retryAfterMs };
}

function verdictToDecision(verdict: CustomVerdict | undefined): AcceptDecision | undefined {
  if (verdict === true) return { accept: true, rule: POLICY_RULE.custom };
  if (verdict === false) return customRefusal(ERROR_CODES.CHAT_ERR_REFUSED_CUSTOM.message);
  if (typeof verdict !== "object" || verdict === null) return undefined;
  if (verdict.accept === true) return { accept: true, rule: POLICY_RULE.custom };
  if (verdict.accept !== false) return undefined;
  const retry = verdict.retryAfterMs;
  return customRefusal(
    verdict.message ?? ERROR_CODES.CHAT_ERR_REFUSED_CUSTOM.message,
    typeof retry === "number" && retry > 0 ? retry : undefined,
  );
}

/**
 * Creates the accept policy a server runs: the rules of `config` (see {@link PolicyConfig} for
 * their order) over live state: connections per address and per subnet (counted from accepts
 * and `released` calls), connect-rate buckets per address, operator and automatic bans.
 * Memory stays bounded under a flood: refused-before-rate attempts (bans, deny, allow) keep no
 * state at all, and rate state and automatic bans are capped (`maxTrackedAddresses`).
 * @throws {PolicyFileError} if the config is invalid.
 */
export function createAcceptPolicy(
  config: PolicyConfig,
  options: AcceptPolicyOptions = {},
): ManagedAcceptPolicy {
  return new ManagedPolicy(config, options);
}
