import { formatBytes, formatCount, formatMs, formatPercent } from "../format.js";
import type { AbuseFigures, AttackFigures } from "../scenarios/abuse.js";
import { describeHandling } from "./handling.js";
import { attackLabel } from "./scale.js";

/** Targets of the abuse scenario (issue: nothing one peer sends can flood or starve others). */
export const ABUSE_TARGETS = {
  /** The chatters' delivery p99 under attack, at most this many times their baseline p99. */
  p99Factor: 2,
  /**
   * Baseline p99 below this counts as this much: on a shared 2-core machine a few ms of p99 are
   * scheduler noise, and twice 1.5 ms would fail on noise rather than on the attack.
   */
  p99FloorMs: 5,
  /** Share of the chatters' deliveries/s kept under attack, at least. */
  throughputKept: 0.8,
  /** Server peak RSS under attack, at most this far above its idle RSS. */
  rssAboveIdleBytes: 150 * 1024 * 1024,
  /** Every attacking connection throttled, paused or cut off within this time of the start. */
  handledWithinMs: 1000,
  /** Password attacks: a real user's login (a scrypt check) takes at most this long. */
  loginWithinMs: 1000,
  /**
   * Password attacks: password hashes (scrypt, tens of ms of a thread and 32 MiB each) the
   * server runs for the attackers' address in one attack phase (up to 5 s), at most. The server
   * counts every hash; the timed user's logins are taken off.
   */
  attackerHashesPerPhase: 12,
} as const;

/**
 * Password hashes the server ran for the attackers during a password attack (its counter,
 * less the timed user's logins), or undefined for other attacks.
 */
export function attackerHashes(f: AttackFigures): number | undefined {
  const p = f.outcome?.passwords;
  if (p === undefined) return undefined;
  return Math.max(0, (f.serverCounters["passwordHashes"] ?? 0) - p.userLoginsMs.length);
}

/** One target and whether this attack's run met it. */
export interface AbuseCheck {
  target: string;
  /** `info`: shown, not judged (the target does not apply to this attack). */
  status: "met" | "missed" | "info";
  seen: string;
}

/** Share of baseline deliveries/s kept under attack (undefined without both phases). */
export function throughputKept(f: AttackFigures): number | undefined {
  if (!f.baseline || !f.attacked || f.baseline.deliveriesPerSec <= 0) return undefined;
  return f.attacked.deliveriesPerSec / f.baseline.deliveriesPerSec;
}

/** The chatters' p99 under attack over their baseline p99 (raw, without the floor). */
export function p99Ratio(f: AttackFigures): number | undefined {
  if (!f.baseline?.latency.count || !f.attacked?.latency.count) return undefined;
  return f.attacked.latency.p99Ms / f.baseline.latency.p99Ms;
}

const status = (ok: boolean): "met" | "missed" => (ok ? "met" : "missed");

/** Checks one attack's figures against the targets. */
export function abuseChecks(f: AttackFigures): AbuseCheck[] {
  const checks: AbuseCheck[] = [];
  const t = ABUSE_TARGETS;
  if (f.baseline && f.attacked) {
    const base = f.baseline.latency.p99Ms;
    const under =
      f.attacked.latency.count > 0 ? f.attacked.latency.p99Ms : Number.POSITIVE_INFINITY;
    const limit = t.p99Factor * Math.max(base, t.p99FloorMs);
    checks.push({
      target: `chatters' p99 at most ${t.p99Factor}x baseline (${formatMs(limit)})`,
      status: status(under <= limit),
      seen: `${formatMs(base)} -> ${Number.isFinite(under) ? formatMs(under) : "nothing delivered"}`,
    });
    const kept = throughputKept(f) ?? 0;
    checks.push({
      target: `chatters keep at least ${formatPercent(t.throughputKept)} of their throughput`,
      status: status(kept >= t.throughputKept),
      seen: formatPercent(kept),
    });
  }
  const peak = f.attacked?.peakRss;
  if (peak !== undefined && f.idleRss !== undefined) {
    checks.push({
      target: `server peak RSS within ${formatBytes(t.rssAboveIdleBytes)} of idle`,
      status: status(peak - f.idleRss <= t.rssAboveIdleBytes),
      seen: `+${formatBytes(Math.max(0, peak - f.idleRss))} (${formatBytes(f.idleRss)} -> ${formatBytes(peak)})`,
    });
  }
  const outcome = f.outcome;
  if (!outcome) return checks;
  if (outcome.newChatter !== undefined) {
    const chatter = outcome.newChatter;
    checks.push({
      target: `a new chatter gets in and chats within ${formatMs(t.handledWithinMs)}`,
      status: status(chatter?.afterMs !== undefined && chatter.afterMs <= t.handledWithinMs),
      seen: chatter?.connected
        ? `yes, after ${formatMs(chatter.afterMs ?? 0)} (${chatter.attempts} attempts)`
        : `no, ${chatter?.attempts ?? 0} attempts refused`,
    });
  } else if (outcome.passwords !== undefined) {
    // Password attackers reconnect (register) or wait for each answer (login): judged by what a
    // real user on another address gets meanwhile, not by read pauses.
    const p = outcome.passwords;
    const slowest = p.userLoginsMs.length > 0 ? Math.max(...p.userLoginsMs) : undefined;
    checks.push({
      target: `a registered user on another address logs in within ${formatMs(t.loginWithinMs)}, every time`,
      status: status(
        slowest !== undefined && slowest <= t.loginWithinMs && p.userLoginFailures === 0,
      ),
      seen:
        slowest === undefined
          ? `never logged in (${p.userLoginFailures} attempts)`
          : `${p.userLoginsMs.length} logins, slowest ${formatMs(slowest)}` +
            (p.userLoginFailures > 0 ? `; ${p.userLoginFailures} never got in` : ""),
    });
    const hashes = attackerHashes(f) ?? 0;
    checks.push({
      target: `at most ${t.attackerHashesPerPhase} password hashes for the attackers' address`,
      status: status(hashes <= t.attackerHashesPerPhase),
      seen: `${formatCount(hashes)} hashed, of ${formatCount(p.requests)} requests`,
    });
  } else if (f.attack === "kernel-send-buffer") {
    // How soon a non-reader's buffers fill depends on the traffic it is sent, not on the server.
    const h = outcome.handling;
    checks.push({
      target: "non-readers cut off (shown, not judged: depends on the traffic they are sent)",
      status: "info",
      seen:
        h.byHandling["cut off"] > 0
          ? `${h.byHandling["cut off"]} of ${h.connections}, first after ${formatMs(h.firstSignMs ?? 0)}`
          : "none",
    });
  } else {
    const h = outcome.handling;
    checks.push({
      target: `every attacker throttled, paused or cut off within ${formatMs(t.handledWithinMs)}`,
      status: status(h.allHandledMs !== undefined && h.allHandledMs <= t.handledWithinMs),
      seen:
        h.allHandledMs !== undefined
          ? `all by ${formatMs(h.allHandledMs)}`
          : `${h.byHandling["not handled"]} of ${h.connections} never${h.firstSignMs === undefined ? "" : `; first sign after ${formatMs(h.firstSignMs)}`}`,
    });
  }
  return checks;
}

function chatterLine(f: AttackFigures): string {
  const b = f.baseline;
  const a = f.attacked;
  if (!b || !a) return "not measured";
  const kept = throughputKept(f);
  const ratio = p99Ratio(f);
  const lost = a.expected - a.delivered;
  return (
    `p99 ${formatMs(b.latency.p99Ms)} -> ${a.latency.count > 0 ? formatMs(a.latency.p99Ms) : "-"}` +
    (ratio === undefined ? "" : ` (${ratio.toFixed(1)}x)`) +
    `; deliveries ${formatCount(b.deliveriesPerSec)}/s -> ${formatCount(a.deliveriesPerSec)}/s` +
    (kept === undefined ? "" : ` (${formatPercent(kept)} kept)`) +
    (lost > 0 ? `; ${formatCount(lost)} of ${formatCount(a.expected)} never delivered` : "")
  );
}

function attackerLines(f: AttackFigures): string[] {
  const o = f.outcome;
  if (!o) return [];
  const h = o.handling;
  const lines = [`handled:    ${describeHandling(h)}`];
  const timing =
    h.firstSignMs === undefined
      ? "no timed sign"
      : `first sign after ${formatMs(h.firstSignMs)}, ` +
        (h.allHandledMs === undefined
          ? "not every attacker"
          : `all by ${formatMs(h.allHandledMs)}`);
  lines.push(
    `            ${timing}; ${formatBytes(o.bytesSent)} sent in ${formatMs(o.durationMs)}`,
  );
  const heard = o.heard;
  const codes = Object.entries(heard.codes)
    .sort((x, y) => y[1] - x[1])
    .map(([code, n]) => `${code} x${formatCount(n)}`);
  lines.push(
    `heard:      ${formatCount(heard.lines)} lines, ${formatCount(heard.errorLines)} errors` +
      (heard.summaryLines > 0
        ? `, ${formatCount(heard.summaryLines)} summaries of ${formatCount(heard.summarized)} more`
        : "") +
      (codes.length > 0 ? ` (${codes.join(", ")})` : ""),
  );
  if (f.attack === "error-flood" && o.durationMs > 0) {
    lines.push(
      `            ${formatCount((heard.errorLines * 10_000) / o.durationMs)} error lines per 10 s`,
    );
  }
  if (o.newChatter) {
    const refusals = Object.entries(o.newChatter.refusals).map(([c, n]) => `${c} x${n}`);
    lines.push(
      `new chatter: ${o.newChatter.connected ? `in after ${formatMs(o.newChatter.afterMs ?? 0)}` : "could not get in"}` +
        ` (${o.newChatter.attempts} attempts${refusals.length > 0 ? `; refused: ${refusals.join(", ")}` : ""})`,
    );
  }
  if (o.passwords) {
    const p = o.passwords;
    const refused = Object.entries(p.refused)
      .sort((x, y) => y[1] - x[1])
      .map(([c, n]) => `${c} x${formatCount(n)}`);
    const logins = [...p.userLoginsMs].sort((a, b) => a - b);
    const median = logins[Math.floor(logins.length / 2)];
    lines.push(
      `passwords:  ${formatCount(p.requests)} requests, ${formatCount(p.done)} done` +
        (refused.length > 0 ? `, refused: ${refused.join(", ")}` : ""),
      `user:       ${logins.length} logins` +
        (median === undefined
          ? ""
          : `, median ${formatMs(median)}, slowest ${formatMs(logins.at(-1) ?? 0)}`) +
        (p.userLoginFailures > 0 ? `, ${p.userLoginFailures} never got in` : ""),
    );
  }
  const mem = o.kernelTcpMem;
  if (mem.before !== undefined && mem.peak !== undefined) {
    lines.push(
      `kernel TCP: ${formatBytes(mem.before)} -> peak ${formatBytes(mem.peak)} (machine-wide)` +
        (o.attackerKernelHeldPeak === undefined
          ? ""
          : `; attackers' sockets held ${formatBytes(o.attackerKernelHeldPeak)} at peak`),
    );
  }
  const counters = Object.entries(f.serverCounters).map(([k, v]) => `${k} +${formatCount(v)}`);
  if (counters.length > 0) lines.push(`server:     ${counters.join(", ")}`);
  if (!o.socketTable) {
    lines.push("            (no /proc/net/tcp: closes of non-readers and read pauses not seen)");
  }
  return lines;
}

/** The abuse report: a summary table, then each attack's figures and targets. */
export function renderAbuse(abuse: AbuseFigures): string {
  const s = abuse.scale;
  const out = [
    `Abuse: ${s.chatters} chatters in #lobby, each sending a message every ${s.chatIntervalMs} ms and reading all; ` +
      `each attack beside a baseline run just before it, ${formatMs(s.phaseMs)} phases, fresh server with default limits.`,
    "",
  ];
  const header = ["attack", "p99", "kept", "peak RSS", "handled", "targets"];
  const rows = abuse.attacks.map((f) => {
    const checks = abuseChecks(f);
    const judged = checks.filter((c) => c.status !== "info");
    const met = judged.filter((c) => c.status === "met").length;
    const ratio = p99Ratio(f);
    const kept = throughputKept(f);
    const h = f.outcome?.handling;
    return [
      attackLabel(f),
      ratio === undefined ? "-" : `${ratio.toFixed(1)}x`,
      kept === undefined ? "-" : formatPercent(kept),
      f.attacked?.peakRss !== undefined && f.idleRss !== undefined
        ? `+${formatBytes(Math.max(0, f.attacked.peakRss - f.idleRss))}`
        : "-",
      f.error
        ? "failed"
        : f.attack === "slow-drip"
          ? f.outcome?.newChatter?.connected
            ? `newcomer in ${formatMs(f.outcome.newChatter.afterMs ?? 0)}`
            : "newcomer locked out"
          : f.outcome?.passwords
            ? `user login ${
                f.outcome.passwords.userLoginsMs.length > 0
                  ? `<= ${formatMs(Math.max(...f.outcome.passwords.userLoginsMs))}`
                  : "never"
              }`
            : h?.allHandledMs !== undefined
              ? `all by ${formatMs(h.allHandledMs)}`
              : h?.firstSignMs !== undefined
                ? `partly, from ${formatMs(h.firstSignMs)}`
                : "no",
      `${met}/${judged.length} met`,
    ];
  });
  const table = [header, ...rows];
  const widths = header.map((_, c) => Math.max(...table.map((r) => r[c]!.length)));
  for (const [i, row] of table.entries()) {
    out.push(
      row
        .map((cell, c) => cell.padEnd(widths[c]!))
        .join("  ")
        .trimEnd(),
    );
    if (i === 0) out.push(widths.map((w) => "-".repeat(w)).join("  "));
  }
  out.push(
    "",
    "p99 and kept: the chatters under attack against their baseline run (1.0x and 100% = unharmed).",
  );
  for (const f of abuse.attacks) {
    out.push("", `${attackLabel(f)}: ${f.title}`);
    if (f.error) out.push(`  failed: ${f.error}`);
    out.push(`  chatters:   ${chatterLine(f)}`);
    for (const line of attackerLines(f)) out.push(`  ${line}`);
    for (const check of abuseChecks(f)) {
      out.push(`  ${check.status.padEnd(6)} ${check.target}: ${check.seen}`);
    }
  }
  return `${out.join("\n")}\n`;
}
