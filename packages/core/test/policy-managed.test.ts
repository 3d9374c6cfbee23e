import { describe, expect, it } from "vitest";
import {
  type AcceptDecision,
  type AcceptPolicyOptions,
  createAcceptPolicy,
  type ManagedAcceptPolicy,
  type PeerInfo,
  type PolicyConfig,
  PolicyFileError,
} from "../src/policy/index.js";

const START = 1_700_000_000_000;

/** A policy on a hand-driven clock. */
function managed(config: PolicyConfig, options: AcceptPolicyOptions = {}) {
  const clock = { now: START };
  const policy = createAcceptPolicy(config, { now: () => clock.now, ...options });
  return { policy, clock };
}

let nextPort = 40000;
function peer(address: string): PeerInfo {
  nextPort += 1;
  return {
    address,
    port: nextPort,
    family: address.includes(":") ? "IPv6" : "IPv4",
    localAddress: "127.0.0.1",
    localPort: 3000,
  };
}

/** Decides synchronously (no custom predicate): fails the test if a promise comes back. */
function decideNow(policy: ManagedAcceptPolicy, address: string, connections = 0): AcceptDecision {
  const decision = policy.decide(peer(address), { connections });
  if (decision instanceof Promise) throw new Error("expected a synchronous decision");
  return decision;
}

function outcome(decision: AcceptDecision): string {
  return decision.accept ? "accept" : decision.code;
}

describe("connection counts", () => {
  it("refuses the (N+1)th connection from an address and accepts again after one closes", () => {
    const { policy } = managed({ maxPerAddress: 3 });
    const open = [peer("10.0.0.1"), peer("10.0.0.1"), peer("10.0.0.1")];
    for (const p of open)
      expect(outcome(policy.decide(p, { connections: 0 }) as AcceptDecision)).toBe("accept");
    expect(outcome(decideNow(policy, "10.0.0.1"))).toBe("CHAT_ERR_REFUSED_TOO_MANY_FROM_ADDRESS");
    expect(outcome(decideNow(policy, "::ffff:10.0.0.1"))).toBe(
      "CHAT_ERR_REFUSED_TOO_MANY_FROM_ADDRESS",
    );
    expect(outcome(decideNow(policy, "10.0.0.2"))).toBe("accept");
    policy.released(open[0]!);
    expect(outcome(decideNow(policy, "10.0.0.1"))).toBe("accept");
    expect(policy.stats()).toMatchObject({ connections: 4, trackedAddresses: 2 });
  });

  it("counts a subnet across addresses, and recounts when the prefix changes on update", () => {
    const { policy } = managed({ maxPerSubnet: 2 });
    expect(outcome(decideNow(policy, "10.1.2.3"))).toBe("accept");
    expect(outcome(decideNow(policy, "10.1.2.4"))).toBe("accept");
    expect(outcome(decideNow(policy, "10.1.2.5"))).toBe("CHAT_ERR_REFUSED_TOO_MANY_FROM_SUBNET");
    expect(outcome(decideNow(policy, "10.1.3.5"))).toBe("accept");
    policy.update({ maxPerSubnet: 2, subnetPrefixIPv4: 16 });
    expect(outcome(decideNow(policy, "10.1.200.1"))).toBe("CHAT_ERR_REFUSED_TOO_MANY_FROM_SUBNET");
    policy.update({ maxPerSubnet: 2, subnetPrefixIPv4: 32 });
    expect(outcome(decideNow(policy, "10.1.200.1"))).toBe("accept");
  });

  it("counts IPv6 per /64", () => {
    const { policy } = managed({ maxPerSubnet: 1 });
    expect(outcome(decideNow(policy, "2001:db8:1:2::1"))).toBe("accept");
    expect(outcome(decideNow(policy, "2001:db8:1:2:ffff::9"))).toBe(
      "CHAT_ERR_REFUSED_TOO_MANY_FROM_SUBNET",
    );
    expect(outcome(decideNow(policy, "2001:db8:1:3::1"))).toBe("accept");
  });

  it("uses the larger of the server's count and its own for maxConnections", () => {
    const { policy } = managed({ maxConnections: 2 });
    expect(outcome(decideNow(policy, "10.0.0.1", 2))).toBe("CHAT_ERR_REFUSED_SERVER_FULL");
    expect(outcome(decideNow(policy, "10.0.0.1", 0))).toBe("accept");
    expect(outcome(decideNow(policy, "10.0.0.2", 0))).toBe("accept");
    expect(outcome(decideNow(policy, "10.0.0.3", 0))).toBe("CHAT_ERR_REFUSED_SERVER_FULL");
  });

  it("ignores releases of peers it never counted", () => {
    const { policy } = managed({ maxPerAddress: 1 });
    policy.released(peer("10.0.0.1"));
    expect(policy.stats().connections).toBe(0);
    expect(outcome(decideNow(policy, "10.0.0.1"))).toBe("accept");
    expect(outcome(decideNow(policy, "10.0.0.1"))).toBe("CHAT_ERR_REFUSED_TOO_MANY_FROM_ADDRESS");
  });
});

describe("connect rate", () => {
  it("triggers after the burst and recovers as the bucket refills", () => {
    const { policy, clock } = managed({ connectRate: { perSecond: 2, burst: 3, banAfter: 0 } });
    for (let i = 0; i < 3; i++) expect(outcome(decideNow(policy, "10.0.0.1"))).toBe("accept");
    const refused = decideNow(policy, "10.0.0.1");
    expect(refused).toMatchObject({
      code: "CHAT_ERR_REFUSED_RATE_LIMITED",
      rule: "connect-rate",
      retryAfterMs: 500,
    });
    expect(outcome(decideNow(policy, "10.0.0.2"))).toBe("accept");
    clock.now += 499;
    expect(outcome(decideNow(policy, "10.0.0.1"))).toBe("CHAT_ERR_REFUSED_RATE_LIMITED");
    clock.now += 1;
    expect(outcome(decideNow(policy, "10.0.0.1"))).toBe("accept");
    expect(outcome(decideNow(policy, "10.0.0.1"))).toBe("CHAT_ERR_REFUSED_RATE_LIMITED");
    clock.now += 10_000;
    for (let i = 0; i < 3; i++) expect(outcome(decideNow(policy, "10.0.0.1"))).toBe("accept");
  });

  it("counts attempts a later rule refuses, but not those a deny list refuses", () => {
    const { policy } = managed({
      connectRate: { perSecond: 1, burst: 2, banAfter: 0 },
      maxPerAddress: 1,
      deny: ["10.9.0.0/16"],
    });
    expect(outcome(decideNow(policy, "10.0.0.1"))).toBe("accept");
    expect(outcome(decideNow(policy, "10.0.0.1"))).toBe("CHAT_ERR_REFUSED_TOO_MANY_FROM_ADDRESS");
    expect(outcome(decideNow(policy, "10.0.0.1"))).toBe("CHAT_ERR_REFUSED_RATE_LIMITED");
    for (let i = 0; i < 100; i++)
      expect(outcome(decideNow(policy, "10.9.0.1"))).toBe("CHAT_ERR_REFUSED_DENIED");
    expect(policy.stats()).toMatchObject({ trackedBuckets: 1, trackedAddresses: 1, bans: 0 });
  });

  it("reports each automatic ban to onAutomaticBan, and a restored one keeps its source", () => {
    const reported: unknown[] = [];
    const { policy } = managed(
      { connectRate: { perSecond: 1, burst: 1, banAfter: 1, banDurationMs: 60_000 } },
      { onAutomaticBan: (ban) => reported.push(ban) },
    );
    decideNow(policy, "10.0.0.7");
    decideNow(policy, "10.0.0.7");
    expect(decideNow(policy, "10.0.0.7")).toMatchObject({ rule: "rate-ban" });
    expect(reported).toEqual([
      {
        target: "10.0.0.7",
        source: "connect-rate",
        reason: "connecting too often",
        createdAt: START,
        expiresAt: START + 60_000,
      },
    ]);
    // After a restart: the stored ban comes back with its source and what is left of it.
    const { policy: restarted } = managed({});
    restarted.ban("10.0.0.7", {
      durationMs: 30_000,
      reason: "connecting too often",
      source: "connect-rate",
    });
    expect(restarted.bans()).toMatchObject([{ target: "10.0.0.7", source: "connect-rate" }]);
    expect(outcome(decideNow(restarted, "10.0.0.7"))).toBe("CHAT_ERR_REFUSED_BANNED");
  });

  it("bans an address for a while after repeated violations, then lets it back", () => {
    const { policy, clock } = managed({
      connectRate: {
        perSecond: 1,
        burst: 1,
        banAfter: 3,
        banWindowMs: 10_000,
        banDurationMs: 60_000,
      },
    });
    expect(outcome(decideNow(policy, "10.0.0.1"))).toBe("accept");
    expect(decideNow(policy, "10.0.0.1")).toMatchObject({ rule: "connect-rate" });
    expect(decideNow(policy, "10.0.0.1")).toMatchObject({ rule: "connect-rate" });
    expect(decideNow(policy, "10.0.0.1")).toMatchObject({
      code: "CHAT_ERR_REFUSED_BANNED",
      rule: "rate-ban",
      retryAfterMs: 60_000,
      message: "Your address is banned for a while for connecting too often.",
    });
    expect(policy.bans()).toEqual([
      {
        target: "10.0.0.1",
        source: "connect-rate",
        reason: "connecting too often",
        createdAt: START,
        expiresAt: START + 60_000,
      },
    ]);
    clock.now += 30_000;
    expect(decideNow(policy, "10.0.0.1")).toMatchObject({ rule: "rate-ban", retryAfterMs: 30_000 });
    clock.now += 30_000;
    expect(outcome(decideNow(policy, "10.0.0.1"))).toBe("accept");
    expect(policy.bans()).toEqual([]);
  });

  it("does not ban when the violations are spread wider than the window", () => {
    const { policy, clock } = managed({
      connectRate: { perSecond: 0.01, burst: 1, banAfter: 2, banWindowMs: 1000 },
    });
    expect(outcome(decideNow(policy, "10.0.0.1"))).toBe("accept");
    expect(decideNow(policy, "10.0.0.1")).toMatchObject({ rule: "connect-rate" });
    clock.now += 1000;
    expect(decideNow(policy, "10.0.0.1")).toMatchObject({ rule: "connect-rate" });
    clock.now += 999;
    expect(decideNow(policy, "10.0.0.1")).toMatchObject({ rule: "rate-ban" });
  });
});

describe("operator bans", () => {
  it("bans an address or block at once, with expiry, and lifts bans", () => {
    const { policy, clock } = managed({});
    const ban = policy.ban("::ffff:10.0.0.7", { durationMs: 5000, reason: "spam" });
    expect(ban).toEqual({
      target: "10.0.0.7",
      source: "operator",
      reason: "spam",
      createdAt: START,
      expiresAt: START + 5000,
    });
    policy.ban("192.168.0.0/16");
    expect(decideNow(policy, "10.0.0.7")).toEqual({
      accept: false,
      code: "CHAT_ERR_REFUSED_BANNED",
      rule: "ban",
      message: "Your address is banned from this server: spam.",
      retryAfterMs: 5000,
    });
    expect(outcome(decideNow(policy, "192.168.44.1"))).toBe("CHAT_ERR_REFUSED_BANNED");
    expect(policy.isBanned("192.168.44.1")).toMatchObject({ target: "192.168.0.0/16" });
    expect(policy.isBanned("10.0.0.8")).toBeUndefined();
    expect(policy.bans().map((b) => b.target)).toEqual(["10.0.0.7", "192.168.0.0/16"]);

    clock.now += 5000;
    expect(outcome(decideNow(policy, "10.0.0.7"))).toBe("accept");
    expect(policy.bans().map((b) => b.target)).toEqual(["192.168.0.0/16"]);

    expect(policy.unban("192.168.44.1")).toBe(false);
    expect(policy.unban("192.168.0.0/16")).toBe(true);
    expect(outcome(decideNow(policy, "192.168.44.1"))).toBe("accept");
    expect(policy.bans()).toEqual([]);
  });

  it("replaces a ban of the same target and lifts automatic bans too", () => {
    const { policy } = managed({ connectRate: { perSecond: 1, burst: 1, banAfter: 1 } });
    decideNow(policy, "10.0.0.1");
    expect(decideNow(policy, "10.0.0.1")).toMatchObject({ rule: "rate-ban" });
    policy.ban("10.0.0.2", { reason: "first" });
    policy.ban("10.0.0.2", { reason: "second" });
    expect(policy.bans().map((b) => `${b.target} ${b.source} ${b.reason}`)).toEqual([
      "10.0.0.2 operator second",
      "10.0.0.1 connect-rate connecting too often",
    ]);
    expect(policy.unban("10.0.0.1")).toBe(true);
    expect(policy.bans()).toHaveLength(1);
  });

  it("rejects bad targets and durations with a TypeError", () => {
    const { policy } = managed({});
    expect(() => policy.ban("10.0.0.300")).toThrow(
      new TypeError('"10.0.0.300" is not a valid address or CIDR'),
    );
    expect(() => policy.unban("nope")).toThrow(TypeError);
    expect(() => policy.ban("10.0.0.1", { durationMs: 0 })).toThrow(
      "ban duration must be a number of milliseconds > 0, not 0",
    );
  });
});

describe("update", () => {
  it("swaps rules but keeps counts and bans; a bad config keeps the old one", () => {
    const { policy } = managed({ maxPerAddress: 2 });
    decideNow(policy, "10.0.0.1");
    decideNow(policy, "10.0.0.1");
    policy.ban("10.0.0.9");
    expect(outcome(decideNow(policy, "10.0.0.1"))).toBe("CHAT_ERR_REFUSED_TOO_MANY_FROM_ADDRESS");
    policy.update({ maxPerAddress: 3, deny: ["10.0.0.5"] });
    expect(outcome(decideNow(policy, "10.0.0.1"))).toBe("accept");
    expect(outcome(decideNow(policy, "10.0.0.1"))).toBe("CHAT_ERR_REFUSED_TOO_MANY_FROM_ADDRESS");
    expect(outcome(decideNow(policy, "10.0.0.5"))).toBe("CHAT_ERR_REFUSED_DENIED");
    expect(outcome(decideNow(policy, "10.0.0.9"))).toBe("CHAT_ERR_REFUSED_BANNED");

    const current = policy.config;
    expect(() => policy.update({ deny: ["10.0.0.300"] })).toThrow(PolicyFileError);
    expect(policy.config).toBe(current);
    expect(outcome(decideNow(policy, "10.0.0.5"))).toBe("CHAT_ERR_REFUSED_DENIED");
  });
});

describe("custom predicate", () => {
  it("runs last, synchronously when it answers synchronously", () => {
    const seen: string[] = [];
    const { policy } = managed({
      deny: ["10.0.0.66"],
      custom: (p, { stats }) => {
        seen.push(`${p.address} ${stats.fromAddress}`);
        return p.port % 2 === 0
          ? true
          : { accept: false, message: "Odd ports are not welcome.", retryAfterMs: 2000 };
      },
    });
    const even = policy.decide({ ...peer("10.0.0.1"), port: 2 }, { connections: 0 });
    expect(even).toEqual({ accept: true, rule: "custom" });
    const odd = policy.decide({ ...peer("10.0.0.1"), port: 3 }, { connections: 0 });
    expect(odd).toEqual({
      accept: false,
      code: "CHAT_ERR_REFUSED_CUSTOM",
      rule: "custom",
      message: "Odd ports are not welcome.",
      retryAfterMs: 2000,
    });
    expect(outcome(decideNow(policy, "10.0.0.66"))).toBe("CHAT_ERR_REFUSED_DENIED");
    expect(seen).toEqual(["10.0.0.1 0", "10.0.0.1 1"]);
    expect(policy.stats().connections).toBe(1);
  });

  it("awaits an async answer, and a refusal frees the reserved slot", async () => {
    const { policy } = managed({ maxPerAddress: 1, custom: async (p) => p.port % 2 === 0 });
    const refused = policy.decide({ ...peer("10.0.0.1"), port: 3 }, { connections: 0 });
    expect(refused).toBeInstanceOf(Promise);
    expect(await refused).toMatchObject({
      code: "CHAT_ERR_REFUSED_CUSTOM",
      message: "The server's own admission rule refused this connection.",
    });
    expect(await policy.decide({ ...peer("10.0.0.1"), port: 4 }, { connections: 0 })).toEqual({
      accept: true,
      rule: "custom",
    });
    expect(policy.stats().connections).toBe(1);
  });

  it("holds the slot while an answer is pending, so concurrent connects cannot overshoot", async () => {
    let answer: (value: boolean) => void = () => {};
    const { policy } = managed({
      maxPerAddress: 1,
      custom: () =>
        new Promise<boolean>((resolve) => {
          answer = resolve;
        }),
    });
    const first = policy.decide(peer("10.0.0.1"), { connections: 0 });
    expect(await policy.decide(peer("10.0.0.1"), { connections: 0 })).toMatchObject({
      code: "CHAT_ERR_REFUSED_TOO_MANY_FROM_ADDRESS",
    });
    answer(true);
    expect(await first).toEqual({ accept: true, rule: "custom" });
  });

  it.each([false, true])("on time-out with customFailOpen=%s", async (customFailOpen) => {
    const { policy } = managed({
      customTimeoutMs: 20,
      customFailOpen,
      custom: () => new Promise<boolean>(() => {}),
    });
    const decision = await policy.decide(peer("10.0.0.1"), { connections: 0 });
    if (customFailOpen) expect(decision).toEqual({ accept: true, rule: "custom" });
    else
      expect(decision).toMatchObject({
        code: "CHAT_ERR_REFUSED_CUSTOM",
        message: "The server's admission check did not answer in time.",
      });
    expect(policy.stats()).toMatchObject({
      customTimeouts: 1,
      connections: customFailOpen ? 1 : 0,
    });
  });

  it("treats a throw, a rejection or a nonsense answer as a failure", async () => {
    const answers: Array<() => unknown> = [
      () => {
        throw new Error("boom");
      },
      () => Promise.reject(new Error("boom")),
      () => "yes",
    ];
    for (const answer of answers) {
      const { policy } = managed({ custom: answer as never });
      const decision = await policy.decide(peer("10.0.0.1"), { connections: 0 });
      expect(decision).toMatchObject({
        code: "CHAT_ERR_REFUSED_CUSTOM",
        message: "The server's admission check failed.",
      });
      expect(policy.stats()).toMatchObject({ customErrors: 1, connections: 0 });
    }
  });
});

describe("stats, explain and bounded memory", () => {
  it("counts every decision by code and by rule", () => {
    const { policy } = managed({ allow: ["10.0.0.0/8"], deny: ["10.6.6.6"] });
    decideNow(policy, "10.0.0.1");
    decideNow(policy, "10.6.6.6");
    decideNow(policy, "10.6.6.6");
    decideNow(policy, "192.0.2.1");
    expect(policy.stats()).toMatchObject({
      decisions: 4,
      accepted: 1,
      refused: 3,
      byCode: { CHAT_ERR_REFUSED_DENIED: 2, CHAT_ERR_REFUSED_NOT_ALLOWED: 1 },
      byRule: { allow: 2, deny: 2 },
    });
  });

  it("explains a decision against the live state", () => {
    const { policy } = managed({ maxPerAddress: 1 });
    decideNow(policy, "10.0.0.1");
    const result = policy.explain("10.0.0.1");
    expect(result.rule).toBe("max-per-address");
    expect(result.trace.find((step) => step.rule === "max-per-address")).toEqual({
      rule: "max-per-address",
      outcome: "refuse",
      detail: "1 open from 10.0.0.1, limit 1",
    });
    expect(() => policy.explain("nope")).toThrow(TypeError);
  });

  it("caps rate state and automatic bans under a flood from many addresses", () => {
    const { policy, clock } = managed(
      { connectRate: { perSecond: 1, burst: 1, banAfter: 2 } },
      { maxTrackedAddresses: 100 },
    );
    for (let i = 0; i < 5000; i++) {
      const address = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
      for (let j = 0; j < 3; j++) {
        const decision = decideNow(policy, address);
        if (decision.accept) policy.released(peer(address));
      }
    }
    const stats = policy.stats();
    expect(stats.trackedBuckets).toBeLessThanOrEqual(100);
    expect(stats.bans).toBeLessThanOrEqual(100);
    expect(stats.trackedAddresses).toBe(0);
    expect(stats.byRule).toMatchObject({ default: 5000, "connect-rate": 5000, "rate-ban": 5000 });
    // Idle buckets and expired bans are swept a few per decision.
    clock.now += 120_000;
    for (let i = 0; i < 60; i++) decideNow(policy, `192.0.2.${i}`);
    expect(policy.stats().trackedBuckets).toBe(60);
    expect(policy.bans()).toEqual([]);
  });
});
