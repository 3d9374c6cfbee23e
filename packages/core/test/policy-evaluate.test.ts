import { describe, expect, it } from "vitest";
import {
  type AcceptDecision,
  type BanInfo,
  EMPTY_PEER_STATS,
  evaluatePolicy,
  type PeerInfo,
  type PeerStats,
  type PolicyConfig,
  PolicyFileError,
} from "../src/policy/index.js";

const NOW = 1_700_000_000_000;

function peer(address: string): PeerInfo {
  return {
    address,
    port: 40000,
    family: address.includes(":") && !address.startsWith("::ffff:") ? "IPv6" : "IPv4",
    localAddress: "127.0.0.1",
    localPort: 3000,
  };
}

function decide(
  config: PolicyConfig,
  address: string,
  stats: Partial<PeerStats> = {},
): AcceptDecision {
  return evaluatePolicy(config, peer(address), { ...EMPTY_PEER_STATS, ...stats }, NOW);
}

/** `accept:RULE` or `CODE:RULE`, so each table row states the whole outcome in one string. */
function outcome(decision: AcceptDecision): string {
  return decision.accept ? `accept:${decision.rule}` : `${decision.code}:${decision.rule}`;
}

describe("allow and deny lists", () => {
  const cases: Array<[string, PolicyConfig, string, string]> = [
    ["empty config accepts", {}, "203.0.113.7", "accept:default"],
    ["deny exact IPv4", { deny: ["10.1.2.3"] }, "10.1.2.3", "CHAT_ERR_REFUSED_DENIED:deny"],
    ["deny exact IPv4, neighbour", { deny: ["10.1.2.3"] }, "10.1.2.4", "accept:default"],
    [
      "deny /24, first address",
      { deny: ["10.1.2.0/24"] },
      "10.1.2.0",
      "CHAT_ERR_REFUSED_DENIED:deny",
    ],
    [
      "deny /24, last address",
      { deny: ["10.1.2.0/24"] },
      "10.1.2.255",
      "CHAT_ERR_REFUSED_DENIED:deny",
    ],
    ["deny /24, just below", { deny: ["10.1.2.0/24"] }, "10.1.1.255", "accept:default"],
    ["deny /24, just above", { deny: ["10.1.2.0/24"] }, "10.1.3.0", "accept:default"],
    ["deny /31 edge", { deny: ["192.0.2.4/31"] }, "192.0.2.5", "CHAT_ERR_REFUSED_DENIED:deny"],
    ["deny /31 outside", { deny: ["192.0.2.4/31"] }, "192.0.2.6", "accept:default"],
    [
      "deny /0 IPv4 denies all IPv4",
      { deny: ["0.0.0.0/0"] },
      "198.51.100.1",
      "CHAT_ERR_REFUSED_DENIED:deny",
    ],
    ["deny /0 IPv4 does not touch IPv6", { deny: ["0.0.0.0/0"] }, "2001:db8::1", "accept:default"],
    [
      "host bits in CIDR are ignored",
      { deny: ["10.9.9.9/8"] },
      "10.200.0.1",
      "CHAT_ERR_REFUSED_DENIED:deny",
    ],
    ["deny IPv6 exact", { deny: ["2001:db8::1"] }, "2001:db8::1", "CHAT_ERR_REFUSED_DENIED:deny"],
    [
      "deny IPv6 other spelling",
      { deny: ["2001:db8:0:0:0:0:0:1"] },
      "2001:DB8::1",
      "CHAT_ERR_REFUSED_DENIED:deny",
    ],
    [
      "deny IPv6 /64 inside",
      { deny: ["2001:db8:1:2::/64"] },
      "2001:db8:1:2:ffff:ffff:ffff:ffff",
      "CHAT_ERR_REFUSED_DENIED:deny",
    ],
    ["deny IPv6 /64 outside", { deny: ["2001:db8:1:2::/64"] }, "2001:db8:1:3::", "accept:default"],
    ["deny ::/0 does not touch IPv4", { deny: ["::/0"] }, "10.0.0.1", "accept:default"],
    [
      "mapped peer matches IPv4 entry",
      { deny: ["10.0.0.0/8"] },
      "::ffff:10.1.2.3",
      "CHAT_ERR_REFUSED_DENIED:deny",
    ],
    [
      "mapped entry matches IPv4 peer",
      { deny: ["::ffff:10.0.0.0/104"] },
      "10.1.2.3",
      "CHAT_ERR_REFUSED_DENIED:deny",
    ],
    [
      "mapped exact entry matches",
      { deny: ["::ffff:127.0.0.2"] },
      "127.0.0.2",
      "CHAT_ERR_REFUSED_DENIED:deny",
    ],
    ["mapped entry, outside", { deny: ["::ffff:10.0.0.0/104"] }, "11.0.0.1", "accept:default"],
    ["IPv6 zone is ignored", { deny: ["fe80::1"] }, "fe80::1%eth0", "CHAT_ERR_REFUSED_DENIED:deny"],
    ["allow list, inside", { allow: ["127.0.0.0/8"] }, "127.0.0.9", "accept:allow"],
    [
      "allow list, outside",
      { allow: ["127.0.0.0/8"] },
      "10.0.0.1",
      "CHAT_ERR_REFUSED_NOT_ALLOWED:allow",
    ],
    ["allow list, mapped peer", { allow: ["127.0.0.1"] }, "::ffff:127.0.0.1", "accept:allow"],
    ["allow IPv6 loopback", { allow: ["::1"] }, "::1", "accept:allow"],
    [
      "allow IPv4 only, IPv6 peer",
      { allow: ["127.0.0.1"] },
      "::1",
      "CHAT_ERR_REFUSED_NOT_ALLOWED:allow",
    ],
    [
      "deny wins over allow",
      { allow: ["10.0.0.0/8"], deny: ["10.0.0.13"] },
      "10.0.0.13",
      "CHAT_ERR_REFUSED_DENIED:deny",
    ],
    [
      "allow still applies beside deny",
      { allow: ["10.0.0.0/8"], deny: ["10.0.0.13"] },
      "10.0.0.14",
      "accept:allow",
    ],
    [
      "not an IP, allow list refuses",
      { allow: ["10.0.0.0/8"] },
      "not-an-ip",
      "CHAT_ERR_REFUSED_NOT_ALLOWED:allow",
    ],
    ["not an IP, deny list cannot match", { deny: ["10.0.0.0/8"] }, "not-an-ip", "accept:default"],
  ];
  it.each(cases)("%s", (_name, config, address, expected) => {
    expect(outcome(decide(config, address))).toBe(expected);
  });
});

describe("connection limits at N-1, N and N+1", () => {
  const limits: Array<[string, PolicyConfig, keyof PeerStats, string]> = [
    [
      "maxConnections",
      { maxConnections: 3 },
      "totalConnections",
      "CHAT_ERR_REFUSED_SERVER_FULL:max-connections",
    ],
    [
      "maxPerAddress",
      { maxPerAddress: 3 },
      "fromAddress",
      "CHAT_ERR_REFUSED_TOO_MANY_FROM_ADDRESS:max-per-address",
    ],
    [
      "maxPerSubnet",
      { maxPerSubnet: 3 },
      "fromSubnet",
      "CHAT_ERR_REFUSED_TOO_MANY_FROM_SUBNET:max-per-subnet",
    ],
  ];
  // `open` connections exist; this is connection number open+1. With a limit of 3: open = 2 is
  // the Nth (accepted), open = 3 the (N+1)th (refused).
  const rows = limits.flatMap(([name, config, field, refusal]) => [
    [name, config, field, 1, "accept:default"] as const,
    [name, config, field, 2, "accept:default"] as const,
    [name, config, field, 3, refusal] as const,
    [name, config, field, 4, refusal] as const,
  ]);
  it.each(rows)("%s with %s %s open -> %s", (_name, config, field, open, expected) => {
    expect(outcome(decide(config, "10.1.2.3", { [field]: open }))).toBe(expected);
  });

  it("says the limit and the subnet in the message", () => {
    const full = decide({ maxConnections: 3 }, "10.1.2.3", { totalConnections: 3 });
    expect(full).toMatchObject({ message: "The server has reached its maximum of 3 connections." });
    const subnet = decide({ maxPerSubnet: 2 }, "10.1.2.3", { fromSubnet: 2 });
    expect(subnet).toMatchObject({
      message:
        "Your network (10.1.2.0/24) already has 2 connections, the most this server allows per subnet.",
    });
    const v6 = decide({ maxPerSubnet: 1, subnetPrefixIPv6: 48 }, "2001:db8:1:2::7", {
      fromSubnet: 1,
    });
    expect(v6).toMatchObject({ message: expect.stringContaining("(2001:db8:1::/48)") });
    const address = decide({ maxPerAddress: 1 }, "::ffff:10.1.2.3", { fromAddress: 1 });
    expect(address).toMatchObject({
      message:
        "Your address (10.1.2.3) already has 1 connection, the most this server allows per address.",
    });
  });
});

describe("rule order", () => {
  const ban: BanInfo = {
    target: "10.0.0.0/8",
    source: "operator",
    createdAt: NOW - 1000,
    reason: "spam",
  };
  const everything: PolicyConfig = {
    deny: ["10.0.0.0/8"],
    allow: ["192.168.0.0/16"],
    connectRate: { perSecond: 1, burst: 1 },
    maxConnections: 1,
    maxPerAddress: 1,
    maxPerSubnet: 1,
  };
  const empty = { tokens: 0, updatedAt: NOW, violations: 0, windowStartedAt: NOW };
  const cases: Array<[string, string, Partial<PeerStats>, string]> = [
    ["ban before deny", "10.0.0.1", { ban }, "CHAT_ERR_REFUSED_BANNED:ban"],
    ["deny before allow", "10.0.0.1", {}, "CHAT_ERR_REFUSED_DENIED:deny"],
    [
      "allow before rate",
      "172.16.0.1",
      { connectBucket: empty },
      "CHAT_ERR_REFUSED_NOT_ALLOWED:allow",
    ],
    [
      "rate before max total",
      "192.168.0.1",
      { connectBucket: empty, totalConnections: 5 },
      "CHAT_ERR_REFUSED_RATE_LIMITED:connect-rate",
    ],
    [
      "max total before per address",
      "192.168.0.1",
      { totalConnections: 1, fromAddress: 1 },
      "CHAT_ERR_REFUSED_SERVER_FULL:max-connections",
    ],
    [
      "per address before per subnet",
      "192.168.0.1",
      { fromAddress: 1, fromSubnet: 1 },
      "CHAT_ERR_REFUSED_TOO_MANY_FROM_ADDRESS:max-per-address",
    ],
    [
      "per subnet last",
      "192.168.0.1",
      { fromSubnet: 1 },
      "CHAT_ERR_REFUSED_TOO_MANY_FROM_SUBNET:max-per-subnet",
    ],
    ["all pass", "192.168.0.1", {}, "accept:allow"],
  ];
  it.each(cases)("%s", (_name, address, stats, expected) => {
    expect(outcome(decide(everything, address, stats))).toBe(expected);
  });
});

describe("bans and the connect rate", () => {
  it("refuses a banned address with the reason and the time left", () => {
    const ban: BanInfo = {
      target: "10.1.2.3",
      source: "operator",
      createdAt: NOW - 5000,
      expiresAt: NOW + 30_000,
      reason: "flooding #lobby",
    };
    expect(decide({}, "10.1.2.3", { ban })).toEqual({
      accept: false,
      code: "CHAT_ERR_REFUSED_BANNED",
      rule: "ban",
      message: "Your address is banned from this server: flooding #lobby.",
      retryAfterMs: 30_000,
    });
  });

  it("ignores a ban that has expired, at the exact expiry time too", () => {
    const ban: BanInfo = {
      target: "10.1.2.3",
      source: "operator",
      createdAt: NOW - 5000,
      expiresAt: NOW,
    };
    expect(outcome(decide({}, "10.1.2.3", { ban }))).toBe("accept:default");
  });

  it("names an automatic ban as rate-ban", () => {
    const ban: BanInfo = {
      target: "10.1.2.3",
      source: "connect-rate",
      createdAt: NOW,
      expiresAt: NOW + 60_000,
    };
    expect(decide({}, "10.1.2.3", { ban })).toMatchObject({
      rule: "rate-ban",
      retryAfterMs: 60_000,
    });
  });

  it("a permanent ban gives no retry time", () => {
    const ban: BanInfo = { target: "10.1.2.3", source: "operator", createdAt: NOW };
    const decision = decide({}, "10.1.2.3", { ban });
    expect(decision).toMatchObject({
      rule: "ban",
      message: "Your address is banned from this server.",
    });
    expect(decision).not.toHaveProperty("retryAfterMs");
  });

  const rate: PolicyConfig = { connectRate: { perSecond: 2, burst: 3 } };
  const bucket = (tokens: number, ageMs: number) => ({
    tokens,
    updatedAt: NOW - ageMs,
    violations: 0,
    windowStartedAt: NOW,
  });
  const rateCases: Array<
    [string, ReturnType<typeof bucket> | undefined, string, number | undefined]
  > = [
    ["no bucket yet (full)", undefined, "accept:default", undefined],
    ["one token left", bucket(1, 0), "accept:default", undefined],
    ["0.99 tokens", bucket(0.99, 0), "CHAT_ERR_REFUSED_RATE_LIMITED:connect-rate", 5],
    ["empty", bucket(0, 0), "CHAT_ERR_REFUSED_RATE_LIMITED:connect-rate", 500],
    ["empty, refilled for 499 ms", bucket(0, 499), "CHAT_ERR_REFUSED_RATE_LIMITED:connect-rate", 1],
    ["empty, refilled for 500 ms", bucket(0, 500), "accept:default", undefined],
  ];
  it.each(rateCases)("connect rate: %s", (_name, connectBucket, expected, retryAfterMs) => {
    const decision = decide(rate, "10.1.2.3", connectBucket === undefined ? {} : { connectBucket });
    expect(outcome(decision)).toBe(expected);
    if (!decision.accept) {
      expect(decision.retryAfterMs).toBe(retryAfterMs);
      expect(decision.message).toBe(
        "Your address is connecting too often (this server allows 2 per second, 3 at once).",
      );
    }
  });
});

describe("invalid configs", () => {
  it("throws a PolicyFileError naming the field", () => {
    expect(() => decide({ deny: ["10.0.0.1", "10.0.0.300/8"] }, "10.0.0.1")).toThrow(
      PolicyFileError,
    );
    expect(() => decide({ deny: ["10.0.0.1", "10.0.0.300/8"] }, "10.0.0.1")).toThrow(
      'deny[1]: "10.0.0.300/8" is not a valid address or CIDR',
    );
    expect(() => decide({ maxConnections: 0 }, "10.0.0.1")).toThrow(
      "maxConnections: must be a whole number >= 1, not 0",
    );
  });
});
