import { describe, expect, it } from "vitest";
import {
  checkPolicy,
  createRefusalLogLimiter,
  type PeerInfo,
  type RefusedDecision,
} from "../src/policy/index.js";

const NOW = 1_700_000_000_000;

describe("checkPolicy", () => {
  const config = { allow: ["10.0.0.0/8"], deny: ["10.66.0.0/16"], maxPerAddress: 2 };

  it("names the deciding rule and traces every rule", () => {
    const result = checkPolicy(config, "::ffff:10.66.1.2", { now: NOW });
    expect(result.address).toBe("10.66.1.2");
    expect(result.rule).toBe("deny");
    expect(result.decision).toMatchObject({ accept: false, code: "CHAT_ERR_REFUSED_DENIED" });
    expect(result.trace.map((step) => `${step.outcome} ${step.rule}: ${step.detail}`)).toEqual([
      "pass ban: no ban covers this address",
      'refuse deny: deny entry "10.66.0.0/16" matches',
      "skipped allow: not reached",
      "skipped connect-rate: not reached",
      "skipped max-connections: not reached",
      "skipped max-per-address: not reached",
      "skipped max-per-subnet: not reached",
      "skipped custom: not reached",
    ]);
    expect(result.explanation.split("\n")[0]).toBe(
      "10.66.1.2: refuse with CHAT_ERR_REFUSED_DENIED (rule: deny): Your address is on this server's deny list.",
    );
  });

  it("explains an accept", () => {
    const result = checkPolicy(config, "10.1.2.3", { now: NOW });
    expect(result.rule).toBe("allow");
    expect(result.decision).toEqual({ accept: true, rule: "allow" });
    expect(result.trace.map((step) => `${step.outcome} ${step.rule}: ${step.detail}`)).toEqual([
      "pass ban: no ban covers this address",
      "pass deny: no deny entry matches (1 entry)",
      'pass allow: allow entry "10.0.0.0/8" matches',
      "pass connect-rate: no connect-rate limit",
      "pass max-connections: no limit",
      "pass max-per-address: 0 open from 10.1.2.3, limit 2",
      "pass max-per-subnet: no limit",
      "skipped custom: no custom predicate",
    ]);
  });

  it("takes assumed stats, and says when a retry may work", () => {
    const assumed = checkPolicy(config, "10.1.2.3", { now: NOW, stats: { fromAddress: 2 } });
    expect(assumed.rule).toBe("max-per-address");
    const banned = checkPolicy({}, "192.0.2.1", {
      now: NOW,
      stats: {
        ban: {
          target: "192.0.2.0/24",
          source: "operator",
          createdAt: NOW,
          expiresAt: NOW + 90_000,
        },
      },
    });
    expect(banned.explanation.split("\n")[0]).toBe(
      "192.0.2.1: refuse with CHAT_ERR_REFUSED_BANNED (rule: ban, retry in 90s): Your address is banned from this server.",
    );
  });

  it("says that a custom predicate is not run", () => {
    const result = checkPolicy({ custom: () => false }, "10.0.0.1", { now: NOW });
    expect(result.decision).toEqual({ accept: true, rule: "default" });
    expect(result.trace.at(-1)).toEqual({
      rule: "custom",
      outcome: "skipped",
      detail: "a custom predicate is set in code; a check does not run it",
    });
  });

  it("rejects an address that is not an IP address", () => {
    expect(() => checkPolicy({}, "example.com")).toThrow(
      new TypeError('"example.com" is not a valid IP address'),
    );
  });
});

describe("createRefusalLogLimiter", () => {
  const denied: RefusedDecision = {
    accept: false,
    code: "CHAT_ERR_REFUSED_DENIED",
    message: "Your address is on this server's deny list.",
    rule: "deny",
  };
  const limited: RefusedDecision = {
    accept: false,
    code: "CHAT_ERR_REFUSED_RATE_LIMITED",
    message: "Your address is connecting too often.",
    rule: "connect-rate",
    retryAfterMs: 1500,
  };
  const from = (address: string, port = 5000): PeerInfo => ({
    address,
    port,
    family: "IPv4",
    localAddress: "127.0.0.1",
    localPort: 3000,
  });

  it("logs the first refusals of a window in full and sums up the rest", () => {
    const clock = { now: NOW };
    const limiter = createRefusalLogLimiter({ intervalMs: 1000, burst: 2, now: () => clock.now });
    const first = limiter.record(from("127.0.0.9"), denied);
    expect(first).toEqual([
      {
        kind: "refusal",
        text: "refused 127.0.0.9:5000 CHAT_ERR_REFUSED_DENIED [deny]: Your address is on this server's deny list.",
        fields: {
          event: "refused",
          address: "127.0.0.9",
          port: 5000,
          localPort: 3000,
          code: "CHAT_ERR_REFUSED_DENIED",
          rule: "deny",
        },
      },
    ]);
    expect(limiter.record(from("127.0.0.8"), limited)[0]!.text).toBe(
      "refused 127.0.0.8:5000 CHAT_ERR_REFUSED_RATE_LIMITED [connect-rate]: Your address is connecting too often. (retry in 2s)",
    );
    let lines = 0;
    for (let i = 0; i < 5000; i++) lines += limiter.record(from("127.0.0.9", i), denied).length;
    for (let i = 0; i < 10; i++) lines += limiter.record(from("127.0.0.8", i), limited).length;
    expect(lines).toBe(0);
    expect(limiter.flush()).toEqual([]);

    clock.now += 1000;
    const [summary] = limiter.flush();
    expect(summary).toEqual({
      kind: "summary",
      text: "refused 5010 more connections in the last 1.0s: CHAT_ERR_REFUSED_DENIED 5000, CHAT_ERR_REFUSED_RATE_LIMITED 10; top addresses: 127.0.0.9 (5000), 127.0.0.8 (10)",
      fields: {
        event: "refused-summary",
        suppressed: 5010,
        windowMs: 1000,
        byCode: { CHAT_ERR_REFUSED_DENIED: 5000, CHAT_ERR_REFUSED_RATE_LIMITED: 10 },
        topAddresses: { "127.0.0.9": 5000, "127.0.0.8": 10 },
        distinctAddresses: 2,
      },
    });
    expect(limiter.flush(true)).toEqual([]);
    // A new window logs in full again.
    expect(limiter.record(from("127.0.0.9"), denied).map((entry) => entry.kind)).toEqual([
      "refusal",
    ]);
  });

  it("emits the last window's summary with the first refusal of the next", () => {
    const clock = { now: NOW };
    const limiter = createRefusalLogLimiter({ intervalMs: 1000, burst: 1, now: () => clock.now });
    limiter.record(from("10.0.0.1"), denied);
    limiter.record(from("10.0.0.1"), denied);
    clock.now += 2500;
    expect(limiter.record(from("10.0.0.2"), denied).map((entry) => entry.kind)).toEqual([
      "summary",
      "refusal",
    ]);
  });

  it("bounds the addresses it counts and names only the top few", () => {
    const clock = { now: NOW };
    const limiter = createRefusalLogLimiter({
      intervalMs: 1000,
      burst: 0,
      topAddresses: 2,
      maxTrackedAddresses: 10,
      now: () => clock.now,
    });
    for (let i = 0; i < 1000; i++) limiter.record(from(`10.0.${i >> 8}.${i & 255}`), denied);
    const [summary] = limiter.flush(true);
    expect(summary!.fields).toMatchObject({ suppressed: 1000, distinctAddresses: 11 });
    expect(summary!.fields["topAddresses"]).toEqual({ others: 990, "10.0.0.0": 1 });
  });
});
