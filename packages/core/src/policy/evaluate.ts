import { ERROR_CODES } from "../errors.js";
import { type NormalizedAddress, normalizePeerAddress, subnetKey } from "./address.js";
import { type CompiledPolicy, compilePolicy } from "./compile.js";
import type { PolicyConfig } from "./config.js";
import { connectTokensAt, msUntilToken } from "./connect-bucket.js";
import { BAN_SOURCE, type BanInfo, type PeerStats } from "./peer-stats.js";
import type { AcceptDecision, PeerInfo } from "./types.js";

/** Names of the rules, as they appear in `AcceptDecision.rule`, in stats and in logs. */
export const POLICY_RULE = {
  /** An operator ban. */
  ban: "ban",
  /** A temporary ban the connect-rate rule imposed. */
  rateBan: "rate-ban",
  deny: "deny",
  /** Refuses addresses not on a non-empty allow list; as an accept, the allow list matched. */
  allow: "allow",
  connectRate: "connect-rate",
  maxConnections: "max-connections",
  maxPerAddress: "max-per-address",
  maxPerSubnet: "max-per-subnet",
  custom: "custom",
  /** Accepted because no rule refused (and no allow list applies). */
  default: "default",
} as const;
export type PolicyRuleName = (typeof POLICY_RULE)[keyof typeof POLICY_RULE];

/** The refusal branch of {@link AcceptDecision}. */
export type RefusedDecision = Extract<AcceptDecision, { accept: false }>;

/** Everything a rule reads, computed once per decision. */
export interface RuleInput {
  readonly policy: CompiledPolicy;
  /** The normalized address; undefined if the peer's address is not an IP address. */
  readonly address: NormalizedAddress | undefined;
  /** The normalized address text, or the raw text if it did not parse. */
  readonly addressText: string;
  readonly stats: PeerStats;
  readonly now: number;
}

/** One built-in rule: refuses, or lets the decision go on (undefined); `explain` is for `policy check`. */
export interface RuleStep {
  readonly rule: PolicyRuleName;
  refuse(input: RuleInput): RefusedDecision | undefined;
  explain(input: RuleInput): string;
}

function refusal(
  code: RefusedDecision["code"],
  rule: PolicyRuleName,
  message: string,
  retryAfterMs?: number,
): RefusedDecision {
  return retryAfterMs === undefined
    ? { accept: false, code, message, rule }
    : { accept: false, code, message, rule, retryAfterMs };
}

function activeBan(input: RuleInput): BanInfo | undefined {
  const ban = input.stats.ban;
  return ban !== undefined && (ban.expiresAt === undefined || ban.expiresAt > input.now)
    ? ban
    : undefined;
}

function subnetOf(input: RuleInput): string {
  const { address, policy } = input;
  return address === undefined
    ? input.addressText
    : subnetKey(address, policy.subnetPrefixIPv4, policy.subnetPrefixIPv6);
}

function plural(count: number, noun: string, many = `${noun}s`): string {
  return `${count} ${count === 1 ? noun : many}`;
}

/** The refusal for an active ban, with the time left as the retry time when the ban ends. */
export function banRefusal(ban: BanInfo, now: number): RefusedDecision {
  const retryAfterMs = ban.expiresAt === undefined ? undefined : ban.expiresAt - now;
  if (ban.source === BAN_SOURCE.connectRate) {
    return refusal(
      "CHAT_ERR_REFUSED_BANNED",
      POLICY_RULE.rateBan,
      "Your address is banned for a while for connecting too often.",
      retryAfterMs,
    );
  }
  const why = ban.reason ? `: ${ban.reason}` : "";
  return refusal(
    "CHAT_ERR_REFUSED_BANNED",
    POLICY_RULE.ban,
    `Your address is banned from this server${why}.`,
    retryAfterMs,
  );
}

const banStep: RuleStep = {
  rule: POLICY_RULE.ban,
  refuse(input) {
    const ban = activeBan(input);
    return ban === undefined ? undefined : banRefusal(ban, input.now);
  },
  explain(input) {
    const ban = activeBan(input);
    if (ban === undefined) return "no ban covers this address";
    const until =
      ban.expiresAt === undefined ? "until lifted" : `for ${ban.expiresAt - input.now} ms more`;
    return `${ban.source} ban of ${ban.target} ${until}`;
  },
};

const denyStep: RuleStep = {
  rule: POLICY_RULE.deny,
  refuse(input) {
    if (input.address === undefined || input.policy.deny.match(input.address) === undefined)
      return undefined;
    return refusal(
      "CHAT_ERR_REFUSED_DENIED",
      POLICY_RULE.deny,
      ERROR_CODES.CHAT_ERR_REFUSED_DENIED.message,
    );
  },
  explain(input) {
    const { deny } = input.policy;
    if (deny.size === 0) return "no deny list";
    const hit = input.address === undefined ? undefined : deny.match(input.address);
    return hit === undefined
      ? `no deny entry matches (${plural(deny.size, "entry", "entries")})`
      : `deny entry ${JSON.stringify(hit.source)} matches`;
  },
};

const allowStep: RuleStep = {
  rule: POLICY_RULE.allow,
  refuse(input) {
    const { allow } = input.policy;
    if (allow.size === 0) return undefined;
    if (input.address !== undefined && allow.match(input.address) !== undefined) return undefined;
    return refusal(
      "CHAT_ERR_REFUSED_NOT_ALLOWED",
      POLICY_RULE.allow,
      ERROR_CODES.CHAT_ERR_REFUSED_NOT_ALLOWED.message,
    );
  },
  explain(input) {
    const { allow } = input.policy;
    if (allow.size === 0) return "no allow list: every address may connect";
    const hit = input.address === undefined ? undefined : allow.match(input.address);
    return hit === undefined
      ? `no allow entry matches (${plural(allow.size, "entry", "entries")})`
      : `allow entry ${JSON.stringify(hit.source)} matches`;
  },
};

const connectRateStep: RuleStep = {
  rule: POLICY_RULE.connectRate,
  refuse(input) {
    const rate = input.policy.connectRate;
    if (rate === undefined) return undefined;
    const tokens = connectTokensAt(input.stats.connectBucket, rate, input.now);
    if (tokens >= 1) return undefined;
    return refusal(
      "CHAT_ERR_REFUSED_RATE_LIMITED",
      POLICY_RULE.connectRate,
      `Your address is connecting too often (this server allows ${rate.perSecond} per second, ${rate.burst} at once).`,
      msUntilToken(tokens, rate),
    );
  },
  explain(input) {
    const rate = input.policy.connectRate;
    if (rate === undefined) return "no connect-rate limit";
    const tokens = connectTokensAt(input.stats.connectBucket, rate, input.now);
    return `${Math.floor(tokens)} of ${rate.burst} connects left (refill ${rate.perSecond}/s)`;
  },
};

function limitStep(
  rule: PolicyRuleName,
  limitOf: (policy: CompiledPolicy) => number | undefined,
  countOf: (stats: PeerStats) => number,
  refuseWith: (input: RuleInput, limit: number) => RefusedDecision,
  noun: (input: RuleInput) => string,
): RuleStep {
  return {
    rule,
    refuse(input) {
      const limit = limitOf(input.policy);
      if (limit === undefined || countOf(input.stats) < limit) return undefined;
      return refuseWith(input, limit);
    },
    explain(input) {
      const limit = limitOf(input.policy);
      if (limit === undefined) return "no limit";
      return `${countOf(input.stats)} open ${noun(input)}, limit ${limit}`;
    },
  };
}

const maxConnectionsStep = limitStep(
  POLICY_RULE.maxConnections,
  (policy) => policy.maxConnections,
  (stats) => stats.totalConnections,
  (_input, limit) =>
    refusal(
      "CHAT_ERR_REFUSED_SERVER_FULL",
      POLICY_RULE.maxConnections,
      `The server has reached its maximum of ${plural(limit, "connection")}.`,
    ),
  () => "on the server",
);

const maxPerAddressStep = limitStep(
  POLICY_RULE.maxPerAddress,
  (policy) => policy.maxPerAddress,
  (stats) => stats.fromAddress,
  (input, limit) =>
    refusal(
      "CHAT_ERR_REFUSED_TOO_MANY_FROM_ADDRESS",
      POLICY_RULE.maxPerAddress,
      `Your address (${input.addressText}) already has ${plural(limit, "connection")}, the most this server allows per address.`,
    ),
  (input) => `from ${input.addressText}`,
);

const maxPerSubnetStep = limitStep(
  POLICY_RULE.maxPerSubnet,
  (policy) => policy.maxPerSubnet,
  (stats) => stats.fromSubnet,
  (input, limit) =>
    refusal(
      "CHAT_ERR_REFUSED_TOO_MANY_FROM_SUBNET",
      POLICY_RULE.maxPerSubnet,
      `Your network (${subnetOf(input)}) already has ${plural(limit, "connection")}, the most this server allows per subnet.`,
    ),
  (input) => `from ${subnetOf(input)}`,
);

/** The built-in rules in the order they run. The custom predicate runs after them (it may be async). */
export const RULE_STEPS: readonly RuleStep[] = [
  banStep,
  denyStep,
  allowStep,
  connectRateStep,
  maxConnectionsStep,
  maxPerAddressStep,
  maxPerSubnetStep,
];

/** Builds the input of the rules for a peer address. */
export function ruleInput(
  policy: CompiledPolicy,
  rawAddress: string,
  stats: PeerStats,
  now: number,
): RuleInput {
  const address = normalizePeerAddress(rawAddress);
  return { policy, address, addressText: address?.text ?? rawAddress, stats, now };
}

/** Runs the built-in rules on a prepared input: the first refusal, or an accept naming why. */
export function evaluateRules(input: RuleInput): AcceptDecision {
  for (const step of RULE_STEPS) {
    const refused = step.refuse(input);
    if (refused !== undefined) return refused;
  }
  return input.policy.allow.size > 0
    ? { accept: true, rule: POLICY_RULE.allow }
    : { accept: true, rule: POLICY_RULE.default };
}

/**
 * The pure accept decision: runs the built-in rules, in order (operator bans, `deny`, `allow`,
 * `connectRate`, `maxConnections`, `maxPerAddress`, `maxPerSubnet`), over the peer and what is
 * known about it at time `now` (milliseconds, the same clock as the bucket and ban times).
 * Reads nothing else and changes nothing: the same input gives the same decision. The custom
 * predicate is not run here (it may be async); {@link createAcceptPolicy} runs it after an accept.
 * @returns an accept (`rule` is `allow` if the allow list matched, else `default`), or the first
 *   refusal, with its `CHAT_ERR_REFUSED_*` code, message, `retryAfterMs` when known, and `rule`.
 * @throws {PolicyFileError} if the config is invalid.
 */
export function evaluatePolicy(
  config: PolicyConfig,
  peer: PeerInfo,
  stats: PeerStats,
  now: number,
): AcceptDecision {
  return evaluateRules(ruleInput(compilePolicy(config), peer.address, stats, now));
}
