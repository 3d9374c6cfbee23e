import { type AddressRange, parseAddressOrCidr } from "./address.js";
import type { ConnectRateConfig, PolicyConfig, PolicyIssue } from "./config.js";

/** Where a config comes from: a file may not hold code (`custom`); a file may carry `$schema`. */
export type ConfigOrigin = "file" | "code";

const TOP_LEVEL_FIELDS = [
  "allow",
  "deny",
  "maxConnections",
  "maxPerAddress",
  "maxPerSubnet",
  "subnetPrefixIPv4",
  "subnetPrefixIPv6",
  "connectRate",
  "custom",
  "customTimeoutMs",
  "customFailOpen",
] as const;
const CONNECT_RATE_FIELDS = [
  "perSecond",
  "burst",
  "banAfter",
  "banWindowMs",
  "banDurationMs",
] as const;

/** The result of validation: a clean copy of the config plus its parsed address lists. */
export interface ValidatedPolicy {
  readonly config: PolicyConfig;
  readonly allow: readonly AddressRange[];
  readonly deny: readonly AddressRange[];
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "object") return "a table";
  return String(value);
}

class IssueCollector {
  readonly issues: PolicyIssue[] = [];

  add(path: string, message: string): void {
    this.issues.push({ path, message });
  }

  unknownFields(
    object: Record<string, unknown>,
    known: readonly string[],
    prefix: string,
    ignored: readonly string[] = [],
  ): void {
    for (const key of Object.keys(object)) {
      if (known.includes(key) || ignored.includes(key)) continue;
      this.add(`${prefix}${key}`, `unknown field (known fields: ${known.join(", ")})`);
    }
  }

  integer(
    object: Record<string, unknown>,
    key: string,
    path: string,
    min: number,
    max = Number.MAX_SAFE_INTEGER,
  ): number | undefined {
    const value = object[key];
    if (value === undefined) return undefined;
    if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
      const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`;
      this.add(path, `must be a whole number ${range}, not ${describe(value)}`);
      return undefined;
    }
    return value;
  }

  addressList(object: Record<string, unknown>, key: string): AddressRange[] {
    const value = object[key];
    if (value === undefined) return [];
    if (!Array.isArray(value)) {
      this.add(key, `must be a list of addresses or CIDR blocks, not ${describe(value)}`);
      return [];
    }
    const ranges: AddressRange[] = [];
    value.forEach((entry: unknown, index) => {
      if (typeof entry !== "string") {
        this.add(
          `${key}[${index}]`,
          `must be an address or CIDR as a string, not ${describe(entry)}`,
        );
        return;
      }
      const range = parseAddressOrCidr(entry);
      if (typeof range === "string") this.add(`${key}[${index}]`, range);
      else ranges.push(range);
    });
    return ranges;
  }
}

function validateConnectRate(
  value: unknown,
  collect: IssueCollector,
): ConnectRateConfig | undefined {
  if (value === undefined) return undefined;
  if (!isPlainObject(value)) {
    collect.add("connectRate", `must be a table such as { perSecond = 5 }, not ${describe(value)}`);
    return undefined;
  }
  collect.unknownFields(value, CONNECT_RATE_FIELDS, "connectRate.");
  const perSecond = value["perSecond"];
  let validRate: number | undefined;
  if (perSecond === undefined) {
    collect.add(
      "connectRate.perSecond",
      "is required (connection attempts per second per address)",
    );
  } else if (typeof perSecond !== "number" || !Number.isFinite(perSecond) || perSecond <= 0) {
    collect.add("connectRate.perSecond", `must be a number > 0, not ${describe(perSecond)}`);
  } else {
    validRate = perSecond;
  }
  const burst = collect.integer(value, "burst", "connectRate.burst", 1);
  const banAfter = collect.integer(value, "banAfter", "connectRate.banAfter", 0);
  const banWindowMs = collect.integer(value, "banWindowMs", "connectRate.banWindowMs", 1);
  const banDurationMs = collect.integer(value, "banDurationMs", "connectRate.banDurationMs", 1);
  if (validRate === undefined) return undefined;
  return {
    perSecond: validRate,
    ...(burst !== undefined && { burst }),
    ...(banAfter !== undefined && { banAfter }),
    ...(banWindowMs !== undefined && { banWindowMs }),
    ...(banDurationMs !== undefined && { banDurationMs }),
  };
}

/**
 * Checks a policy config (parsed from a file, or built in code) and returns a clean copy, or
 * the list of problems, each naming its field and why.
 */
export function validatePolicyConfig(
  value: unknown,
  origin: ConfigOrigin,
): ValidatedPolicy | PolicyIssue[] {
  const collect = new IssueCollector();
  if (!isPlainObject(value)) {
    collect.add(
      "",
      `a policy must be an object (a JSON object or a TOML document), not ${describe(value)}`,
    );
    return collect.issues;
  }
  collect.unknownFields(value, TOP_LEVEL_FIELDS, "", origin === "file" ? ["$schema"] : []);
  const allow = collect.addressList(value, "allow");
  const deny = collect.addressList(value, "deny");
  const maxConnections = collect.integer(value, "maxConnections", "maxConnections", 1);
  const maxPerAddress = collect.integer(value, "maxPerAddress", "maxPerAddress", 1);
  const maxPerSubnet = collect.integer(value, "maxPerSubnet", "maxPerSubnet", 1);
  const subnetPrefixIPv4 = collect.integer(value, "subnetPrefixIPv4", "subnetPrefixIPv4", 0, 32);
  const subnetPrefixIPv6 = collect.integer(value, "subnetPrefixIPv6", "subnetPrefixIPv6", 0, 128);
  const connectRate = validateConnectRate(value["connectRate"], collect);
  const customTimeoutMs = collect.integer(value, "customTimeoutMs", "customTimeoutMs", 1);
  const custom = value["custom"];
  if (custom !== undefined) {
    if (origin === "file")
      collect.add("custom", "a custom predicate can only be set in code, not in a file");
    else if (typeof custom !== "function")
      collect.add("custom", `must be a function, not ${describe(custom)}`);
  }
  const customFailOpen = value["customFailOpen"];
  if (customFailOpen !== undefined && typeof customFailOpen !== "boolean") {
    collect.add("customFailOpen", `must be true or false, not ${describe(customFailOpen)}`);
  }
  if (collect.issues.length > 0) return collect.issues;

  const config: PolicyConfig = {
    ...(value["allow"] !== undefined && { allow: allow.map((range) => range.source) }),
    ...(value["deny"] !== undefined && { deny: deny.map((range) => range.source) }),
    ...(maxConnections !== undefined && { maxConnections }),
    ...(maxPerAddress !== undefined && { maxPerAddress }),
    ...(maxPerSubnet !== undefined && { maxPerSubnet }),
    ...(subnetPrefixIPv4 !== undefined && { subnetPrefixIPv4 }),
    ...(subnetPrefixIPv6 !== undefined && { subnetPrefixIPv6 }),
    ...(connectRate !== undefined && { connectRate }),
    ...(typeof custom === "function" && { custom: custom as PolicyConfig["custom"] }),
    ...(customTimeoutMs !== undefined && { customTimeoutMs }),
    ...(typeof customFailOpen === "boolean" && { customFailOpen }),
  };
  return { config, allow, deny };
}
