import {
  DEFAULT_CONNECT_BAN_AFTER,
  DEFAULT_CONNECT_BAN_DURATION_MS,
  DEFAULT_CONNECT_BAN_WINDOW_MS,
  DEFAULT_CUSTOM_TIMEOUT_MS,
  DEFAULT_POLICY_SUBNET_PREFIX_IPV4,
  DEFAULT_POLICY_SUBNET_PREFIX_IPV6,
} from "../defaults.js";
import { AddressSet } from "./address.js";
import { type CustomPredicate, type PolicyConfig, PolicyFileError } from "./config.js";
import { validatePolicyConfig } from "./validate.js";

/** A connect-rate limit with every default filled in. */
export interface ResolvedConnectRate {
  readonly perSecond: number;
  readonly burst: number;
  readonly banAfter: number;
  readonly banWindowMs: number;
  readonly banDurationMs: number;
}

/** A validated config with parsed address sets and defaults filled in: what the rules read. */
export interface CompiledPolicy {
  readonly config: PolicyConfig;
  readonly allow: AddressSet;
  readonly deny: AddressSet;
  readonly maxConnections: number | undefined;
  readonly maxPerAddress: number | undefined;
  readonly maxPerSubnet: number | undefined;
  readonly subnetPrefixIPv4: number;
  readonly subnetPrefixIPv6: number;
  readonly connectRate: ResolvedConnectRate | undefined;
  readonly custom: CustomPredicate | undefined;
  readonly customTimeoutMs: number;
  readonly customFailOpen: boolean;
}

/** Compiling parses every CIDR; cache it per config object so a pure call per connect stays cheap. */
const compiledByConfig = new WeakMap<PolicyConfig, CompiledPolicy>();

/**
 * Validates and compiles a config (cached per object).
 * @throws {PolicyFileError} naming each bad field.
 */
export function compilePolicy(config: PolicyConfig): CompiledPolicy {
  const cached = compiledByConfig.get(config);
  if (cached !== undefined) return cached;
  const validated = validatePolicyConfig(config, "code");
  if (Array.isArray(validated)) throw new PolicyFileError(validated);
  const clean = validated.config;
  const rate = clean.connectRate;
  const compiled: CompiledPolicy = {
    config,
    allow: new AddressSet(validated.allow),
    deny: new AddressSet(validated.deny),
    maxConnections: clean.maxConnections,
    maxPerAddress: clean.maxPerAddress,
    maxPerSubnet: clean.maxPerSubnet,
    subnetPrefixIPv4: clean.subnetPrefixIPv4 ?? DEFAULT_POLICY_SUBNET_PREFIX_IPV4,
    subnetPrefixIPv6: clean.subnetPrefixIPv6 ?? DEFAULT_POLICY_SUBNET_PREFIX_IPV6,
    connectRate:
      rate === undefined
        ? undefined
        : {
            perSecond: rate.perSecond,
            burst: rate.burst ?? Math.max(1, Math.ceil(rate.perSecond)),
            banAfter: rate.banAfter ?? DEFAULT_CONNECT_BAN_AFTER,
            banWindowMs: rate.banWindowMs ?? DEFAULT_CONNECT_BAN_WINDOW_MS,
            banDurationMs: rate.banDurationMs ?? DEFAULT_CONNECT_BAN_DURATION_MS,
          },
    custom: clean.custom,
    customTimeoutMs: clean.customTimeoutMs ?? DEFAULT_CUSTOM_TIMEOUT_MS,
    customFailOpen: clean.customFailOpen ?? false,
  };
  compiledByConfig.set(config, compiled);
  return compiled;
}
