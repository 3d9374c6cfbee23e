import { describe, expect, it } from "vitest";
import { type AttackFigures, movedCounters } from "../scenarios/abuse.js";
import type { AttackOutcome } from "./group.js";
import { summarizeHandling } from "./handling.js";
import { abuseChecks, p99Ratio, renderAbuse, throughputKept } from "./report.js";
import { abuseScale } from "./scale.js";

const MiB = 1024 * 1024;

function latency(p99Ms: number) {
  return { count: 1000, p50Ms: p99Ms / 4, p90Ms: p99Ms / 2, p99Ms, p999Ms: p99Ms, maxMs: p99Ms };
}

function outcome(more: Partial<AttackOutcome> = {}): AttackOutcome {
  const signs = more.signs ?? [{ closedAtMs: 400, closeCode: "CHAT_ERR_SEND_QUEUE_FULL" }];
  return {
    connections: signs.length,
    connectFailures: 0,
    bytesSent: 2 * MiB,
    durationMs: 5000,
    heard: {
      lines: 10,
      errorLines: 1,
      throttleLines: 0,
      summaryLines: 0,
      summarized: 0,
      codes: {},
    },
    handling: summarizeHandling(signs),
    signs,
    kernelTcpMem: { before: MiB, peak: 40 * MiB },
    attackerKernelHeldPeak: 30 * MiB,
    socketTable: true,
    ...more,
  };
}

function figures(more: Partial<AttackFigures> = {}): AttackFigures {
  const phase = (p99: number, rate: number, peakRss: number) => ({
    sent: 1000,
    expected: 50_000,
    delivered: 50_000,
    deliveriesPerSec: rate,
    latency: latency(p99),
    peakRss,
    serverLoopDelayP99Ms: 12,
  });
  return {
    attack: "help-flood",
    title: "40 connections",
    chatters: 50,
    idleRss: 55 * MiB,
    baseline: phase(10, 16_000, 60 * MiB),
    attacked: phase(15, 15_000, 100 * MiB),
    outcome: outcome(),
    serverCounters: { sendQueueCutoffs: 40 },
    ...more,
  };
}

const statuses = (f: AttackFigures) => abuseChecks(f).map((c) => c.status);

describe("abuseChecks", () => {
  it("judges a password attack by a real user's logins, not by the attackers' read pauses", () => {
    const passwords = (userLoginsMs: number[], userLoginFailures = 0) => ({
      requests: 700,
      done: 5,
      refused: { CHAT_ERR_REGISTER_THROTTLED: 695 },
      userLoginsMs,
      userLoginFailures,
    });
    const judged = (p: ReturnType<typeof passwords>) =>
      abuseChecks(figures({ attack: "register-flood", outcome: outcome({ passwords: p }) }))[3]!;
    expect(judged(passwords([300, 820]))).toMatchObject({
      status: "met",
      seen: "2 logins, slowest 820 ms",
    });
    expect(judged(passwords([300, 3360]))).toMatchObject({ status: "missed" });
    expect(judged(passwords([300], 1))).toMatchObject({
      status: "missed",
      seen: "1 logins, slowest 300 ms; 1 never got in",
    });
    expect(judged(passwords([], 3)).seen).toBe("never logged in (3 attempts)");
    const text = renderAbuse({
      scale: abuseScale(true),
      attacks: [
        figures({ attack: "register-flood", outcome: outcome({ passwords: passwords([820]) }) }),
      ],
    });
    expect(text).toContain("user login <= 820 ms");
    expect(text).toContain(
      "passwords:  700 requests, 5 done, refused: CHAT_ERR_REGISTER_THROTTLED x695",
    );
  });

  it("judges each kind's password attack by the hashes the server ran for the attackers", () => {
    const passwords = {
      requests: 88,
      done: 0,
      refused: { CHAT_ERR_LOGIN_THROTTLED: 82, CHAT_ERR_LOGIN_FAILED: 6 },
      userLoginsMs: [300, 400, 350],
      userLoginFailures: 0,
    };
    const hashCheck = (hashes: number) =>
      abuseChecks(
        figures({
          attack: "login-flood",
          kind: "ws",
          outcome: outcome({ passwords }),
          serverCounters: { passwordHashes: hashes },
        }),
      )[4]!;
    // The timed user's 3 logins are the server's too: 9 hashes are 6 of the attackers'.
    expect(hashCheck(9)).toMatchObject({
      target: "at most 12 password hashes for the attackers' address",
      status: "met",
      seen: "6 hashed, of 88 requests",
    });
    expect(hashCheck(15)).toMatchObject({ status: "met", seen: "12 hashed, of 88 requests" });
    expect(hashCheck(16)).toMatchObject({ status: "missed", seen: "13 hashed, of 88 requests" });
    const text = renderAbuse({
      scale: abuseScale(true),
      attacks: [
        figures({
          attack: "login-flood",
          kind: "ws",
          title: "8 ws connections",
          outcome: outcome({ passwords }),
          serverCounters: { passwordHashes: 9 },
        }),
      ],
    });
    // The kind names the row and the section: each kind is its own run.
    expect(text).toMatch(/^login-flood\/ws +/m);
    expect(text).toContain("login-flood/ws: 8 ws connections");
  });

  it("meets every target when the chatters barely notice and the attacker is cut off in time", () => {
    expect(statuses(figures())).toEqual(["met", "met", "met", "met"]);
  });

  it("misses p99, throughput, memory and handling when the attack hurts", () => {
    const f = figures({
      attacked: {
        ...figures().attacked!,
        latency: latency(14_000),
        deliveriesPerSec: 2000,
        peakRss: 2500 * MiB,
      },
      outcome: outcome({ signs: [{ closedAtMs: 3000 }, {}] }),
    });
    expect(statuses(f)).toEqual(["missed", "missed", "missed", "missed"]);
    expect(abuseChecks(f)[3]!.seen).toBe("1 of 2 never; first sign after 3.00 s");
  });

  it("judges p99 against a floor, so that a 2 ms baseline does not fail on noise", () => {
    const f = figures({
      baseline: { ...figures().baseline!, latency: latency(2) },
      attacked: { ...figures().attacked!, latency: latency(9) },
    });
    expect(abuseChecks(f)[0]).toMatchObject({ status: "met", seen: "2.00 ms -> 9.00 ms" });
    expect(p99Ratio(f)).toBe(4.5);
  });

  it("judges slow-drip by whether a new chatter got in within a second", () => {
    const inTime = figures({
      attack: "slow-drip",
      outcome: outcome({ newChatter: { connected: true, afterMs: 30, attempts: 1, refusals: {} } }),
    });
    expect(abuseChecks(inTime)[3]).toMatchObject({
      status: "met",
      seen: "yes, after 30.0 ms (1 attempts)",
    });
    const lockedOut = figures({
      attack: "slow-drip",
      outcome: outcome({
        newChatter: {
          connected: false,
          afterMs: undefined,
          attempts: 40,
          refusals: { CHAT_ERR_REFUSED_SERVER_FULL: 40 },
        },
      }),
    });
    expect(abuseChecks(lockedOut)[3]!.status).toBe("missed");
  });

  it("shows, without judging, when kernel-send-buffer's non-readers were cut off", () => {
    const check = abuseChecks(figures({ attack: "kernel-send-buffer" }))[3]!;
    expect(check.status).toBe("info");
    expect(check.seen).toBe("1 of 1, first after 400 ms");
  });

  it("judges only what was measured", () => {
    const failed = figures({
      baseline: undefined,
      attacked: undefined,
      outcome: undefined,
      error: "boom",
    });
    expect(abuseChecks(failed)).toEqual([]);
    expect(throughputKept(failed)).toBeUndefined();
  });
});

describe("renderAbuse", () => {
  it("prints a summary row and the details of each attack", () => {
    const text = renderAbuse({
      scale: abuseScale(false),
      attacks: [
        figures(),
        figures({
          attack: "error-flood",
          outcome: outcome({
            durationMs: 2000,
            heard: {
              lines: 500,
              errorLines: 500,
              throttleLines: 500,
              summaryLines: 0,
              summarized: 0,
              codes: { CHAT_ERR_RATE_LIMITED: 500 },
            },
          }),
        }),
      ],
    });
    expect(text).toContain("help-flood   1.5x  93.8%  +45.0 MiB  all by 400 ms  4/4 met");
    expect(text).toContain("handled:    1 cut off (last line: CHAT_ERR_SEND_QUEUE_FULL x1)");
    expect(text).toContain("2.50 k error lines per 10 s");
    expect(text).toContain("server:     sendQueueCutoffs +40");
    expect(text).toContain("kernel TCP: 1.0 MiB -> peak 40.0 MiB (machine-wide)");
  });
});

describe("abuse in the Markdown report", () => {
  it("keeps the abuse report's layout in a code block", async () => {
    const { parseArgs } = await import("../args.js");
    const { renderMarkdown } = await import("../report.js");
    const md = renderMarkdown({
      tool: "tcpchat-bench",
      startedAt: "2026-01-01T00:00:00.000Z",
      durationMs: 1,
      machine: {
        cores: 2,
        cpuModel: "test cpu",
        node: "v20.0.0",
        platform: "linux-x64",
        osRelease: "6",
        totalMemoryBytes: 1,
        loadAverage: [0, 0, 0],
        commit: "abc",
        dirty: false,
        openFileLimit: 20000,
      },
      loadAverageAtEnd: [1.5, 1, 1],
      options: parseArgs(["--scenario", "abuse"]),
      servers: ["tcpchat"],
      loadGeneratorWorkers: 2,
      serverOptions: { throughput: {}, slowReader: {} },
      scenarios: { abuse: { scale: abuseScale(false), attacks: [figures()] } },
      warnings: [],
      errors: [],
    });
    expect(md).toContain("```text\nAbuse: 50 chatters in #lobby");
    expect(md).toContain("help-flood: 40 connections\n");
  });
});

describe("movedCounters", () => {
  it("keeps the defence counters that went up and leaves out traffic", () => {
    expect(
      movedCounters(
        { sendQueueCutoffs: 1, rateLimited: 5, bytesOut: 10, readPauses: 0 },
        {
          sendQueueCutoffs: 3,
          rateLimited: 5,
          bytesOut: 99,
          readPauses: 4,
          evictions: 2,
          startedAt: 1,
        },
      ),
    ).toEqual({ sendQueueCutoffs: 2, readPauses: 4, evictions: 2 });
  });
});
