import type { PolicyConfig } from "@tcpchat/core";
import {
  type FlagValues,
  intFlag,
  listFlag,
  type OptionSpec,
  parseRate,
  stringFlag,
} from "../args.js";

/** parseArgs options of the accept-policy flags. */
export function policyFlagSpec(): OptionSpec {
  return {
    allow: { type: "string", multiple: true },
    deny: { type: "string", multiple: true },
    "max-connections": { type: "string" },
    "max-per-address": { type: "string" },
    "max-per-subnet": { type: "string" },
    "connect-rate": { type: "string" },
    policy: { type: "string" },
  };
}

/** Help lines of the accept-policy flags. */
export function policyFlagHelp(): string {
  return [
    "  --allow CIDR           only these addresses may connect (repeatable: --allow 10.0.0.0/8 --allow ::1)",
    "  --deny CIDR            refuse these addresses (repeatable; checked before --allow)",
    "  --max-connections N    most clients at once",
    "  --max-per-address N    most clients at once from one address",
    "  --max-per-subnet N     most clients at once from one /24 (IPv4) or /64 (IPv6)",
    "  --connect-rate R       new connections per address, such as 5/s or 60/min; repeated",
    "                         excess bans the address for a minute",
    "  --policy FILE          a policy file (.toml or .json); reloaded on SIGHUP and when it changes;",
    "                         a bad file on reload keeps the policy in force. Flags add to it.",
    "                         Check one with: tcpchat policy check FILE ADDRESS",
  ].join("\n");
}

/** The policy the flags describe (without the file), only the fields given. */
export function policyFromFlags(flags: FlagValues): PolicyConfig {
  const config: { -readonly [K in keyof PolicyConfig]: PolicyConfig[K] } = {};
  const allow = listFlag(flags, "allow");
  const deny = listFlag(flags, "deny");
  if (allow.length > 0) config.allow = allow;
  if (deny.length > 0) config.deny = deny;
  const big = { min: 1, max: 100_000_000 };
  const maxConnections = intFlag(flags, "max-connections", big);
  const maxPerAddress = intFlag(flags, "max-per-address", big);
  const maxPerSubnet = intFlag(flags, "max-per-subnet", big);
  if (maxConnections !== undefined) config.maxConnections = maxConnections;
  if (maxPerAddress !== undefined) config.maxPerAddress = maxPerAddress;
  if (maxPerSubnet !== undefined) config.maxPerSubnet = maxPerSubnet;
  const rate = stringFlag(flags, "connect-rate");
  if (rate !== undefined) config.connectRate = { perSecond: parseRate("--connect-rate", rate) };
  return config;
}

/** The file's policy with the flags on top: lists add up, limits from flags win. */
export function mergePolicies(file: PolicyConfig, flags: PolicyConfig): PolicyConfig {
  return {
    ...file,
    ...flags,
    ...(file.allow || flags.allow
      ? { allow: [...(file.allow ?? []), ...(flags.allow ?? [])] }
      : {}),
    ...(file.deny || flags.deny ? { deny: [...(file.deny ?? []), ...(flags.deny ?? [])] } : {}),
  };
}

/** A one-line summary of a policy, for the start log. */
export function describePolicy(config: PolicyConfig): string {
  const parts: string[] = [];
  if (config.allow?.length) parts.push(`allow ${config.allow.join(",")}`);
  if (config.deny?.length) parts.push(`deny ${config.deny.join(",")}`);
  if (config.maxConnections !== undefined) parts.push(`max-connections ${config.maxConnections}`);
  if (config.maxPerAddress !== undefined) parts.push(`max-per-address ${config.maxPerAddress}`);
  if (config.maxPerSubnet !== undefined) parts.push(`max-per-subnet ${config.maxPerSubnet}`);
  if (config.connectRate) parts.push(`connect-rate ${config.connectRate.perSecond}/s`);
  return parts.length > 0 ? parts.join("; ") : "everyone may connect";
}
