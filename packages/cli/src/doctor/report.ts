import { EXIT_CODE, type ExitCode } from "../exit-codes.js";
import { runCommand } from "../invocation.js";
import { formatHostPort } from "../lan-addresses.js";
import { type FirewallRecipe, firewallRecipes } from "./firewall.js";
import type { LocalBindings } from "./local.js";
import { PROBE_RESULT, type ProbeOutcome } from "./probe.js";
import { renderTls, type TlsReport } from "./tls.js";

/** The overall finding of `tcpchat doctor`. */
export const VERDICT = {
  listening: "listening",
  refusedByPolicy: "refused-by-policy",
  refused: "refused",
  timedOut: "timed-out",
  unreachable: "unreachable",
  dnsFailed: "dns-failed",
  noSuchHost: "no-such-host",
  error: "error",
  /** `--local` alone: nothing listens on the port on this machine. */
  notListening: "not-listening",
  /** `--local` alone: the port is bound to loopback only; other machines cannot connect. */
  loopbackOnly: "loopback-only",
  /** `--tls`: something listens, but a TLS client would fail (see the report's `tls.error`). */
  tlsFailed: "tls-failed",
} as const;
/** One of {@link VERDICT}'s values. */
export type Verdict = (typeof VERDICT)[keyof typeof VERDICT];

/** Everything `doctor` found; also the `--json` output. */
export interface DoctorReport {
  target?: { host: string; port: number };
  dns?: {
    /** False when the host was already an IP address. */
    lookedUp: boolean;
    addresses: Array<{ address: string; family: 4 | 6 }>;
    error?: { code: string; message: string; hint: string; syscallCode?: string };
  };
  attempts: ProbeOutcome[];
  local?: LocalBindings;
  /** `--tls`: the TLS handshake and the certificate. */
  tls?: TlsReport;
  verdict: Verdict;
  /** One paragraph: what it means and what to do next. */
  advice: string;
  /** Present when the verdict is timed out. */
  firewall?: FirewallRecipe[];
  exitCode: ExitCode;
}

// When addresses disagree, the most useful finding wins: a listening server beats the rest.
const PRECEDENCE: ProbeOutcome["result"][] = [
  PROBE_RESULT.listening,
  PROBE_RESULT.refusedByPolicy,
  PROBE_RESULT.timedOut,
  PROBE_RESULT.unreachable,
  PROBE_RESULT.refused,
  PROBE_RESULT.error,
];

/**
 * Picks the verdict from the attempts, with its advice and exit code. `command` is how this
 * program is run here ({@link runCommand}), so that the commands the advice names work as typed.
 */
export function judge(
  target: { host: string; port: number },
  attempts: ProbeOutcome[],
  command: string = runCommand(),
): Pick<DoctorReport, "verdict" | "advice" | "firewall" | "exitCode"> {
  const best = PRECEDENCE.map((result) => attempts.find((a) => a.result === result)).find(Boolean);
  const where = formatHostPort(target.host, target.port);
  const port = target.port;
  if (!best) {
    return { verdict: VERDICT.error, advice: "No address to try.", exitCode: EXIT_CODE.failure };
  }
  switch (best.result) {
    case PROBE_RESULT.listening: {
      const others = attempts.filter((a) => a.result !== PROBE_RESULT.listening);
      const note =
        others.length > 0
          ? ` (not on ${others.map((a) => a.address).join(", ")}: clients that try those first fall back to the one that works)`
          : "";
      const advice = best.greeting
        ? `A tcpchat server (${best.greeting.software}, protocol ${best.greeting.version}) listens on ${formatHostPort(best.address, port)}${note}. Join with: ${command} connect ${where}`
        : best.firstLine !== undefined
          ? `Something listens on ${formatHostPort(best.address, port)}${note}, but it is not tcpchat; its first line was: ${JSON.stringify(best.firstLine)}. Talk to it with: ${command} connect --raw ${where}`
          : `Something listens on ${formatHostPort(best.address, port)}${note}, but it sent nothing, so it is not a tcpchat server. Talk to it with: ${command} connect --raw ${where}`;
      return { verdict: VERDICT.listening, advice, exitCode: EXIT_CODE.ok };
    }
    case PROBE_RESULT.refusedByPolicy:
      return {
        verdict: VERDICT.refusedByPolicy,
        advice:
          `A tcpchat server listens, but its accept policy refused this machine: ${best.error?.code}: ${best.error?.message} ${best.error?.hint ?? ""}`.trim(),
        exitCode: EXIT_CODE.refusedByPolicy,
      };
    case PROBE_RESULT.timedOut:
      return {
        verdict: VERDICT.timedOut,
        advice: `No answer from ${where}: packets are being dropped, nearly always by a firewall on the server or on the network between. On the server's machine, run \`${command} doctor --local ${port}\` to check that the server listens on a LAN address, then open inbound TCP port ${port} with one of the commands below.`,
        firewall: firewallRecipes(port),
        exitCode: EXIT_CODE.connTimeout,
      };
    case PROBE_RESULT.unreachable:
      return {
        verdict: VERDICT.unreachable,
        advice: `There is no route to ${target.host}: check the address, that this machine is on a network, and that both machines are on networks that route to each other (same LAN, VPN, or a public address).`,
        exitCode: EXIT_CODE.unreachable,
      };
    case PROBE_RESULT.refused:
      return {
        verdict: VERDICT.refused,
        advice: `The host answered, but nothing listens on port ${port}. Is the server running, and is the port right? Start it with: ${command} serve --port ${port}`,
        exitCode: EXIT_CODE.connRefused,
      };
    default:
      return {
        verdict: VERDICT.error,
        advice:
          `${best.error?.message ?? "The connection failed."} ${best.error?.hint ?? ""}`.trim(),
        exitCode: EXIT_CODE.connectionLost,
      };
  }
}

const MARK: Record<ProbeOutcome["result"], string> = {
  listening: "ok",
  "refused-by-policy": "REFUSED BY POLICY",
  refused: "REFUSED",
  "timed-out": "TIMED OUT",
  unreachable: "UNREACHABLE",
  error: "ERROR",
};

/** Renders the report for people, step by step. */
export function renderReport(report: DoctorReport, timeoutMs: number): string {
  const lines: string[] = [];
  let step = 1;
  if (report.target && report.dns) {
    const { host, port } = report.target;
    if (report.dns.lookedUp) {
      lines.push(`${step++}. DNS: ${host}`);
      if (report.dns.error) {
        lines.push(
          `   FAILED ${report.dns.error.syscallCode ?? report.dns.error.code}: ${report.dns.error.message}`,
        );
      }
      for (const a of report.dns.addresses) lines.push(`   -> ${a.address} (IPv${a.family})`);
    } else {
      lines.push(`${step++}. DNS: ${host} is an IP address, no lookup needed`);
    }
    if (report.attempts.length > 0) {
      lines.push(`${step++}. TCP connect to port ${port} (timeout ${timeoutMs} ms)`);
      for (const a of report.attempts) {
        const detail = a.greeting
          ? `tcpchat/${a.greeting.version} ${a.greeting.software}`
          : a.firstLine !== undefined
            ? `first line: ${JSON.stringify(a.firstLine.slice(0, 80))}`
            : a.error
              ? `${a.error.syscallCode ?? a.error.code}`
              : a.result === PROBE_RESULT.listening
                ? "no greeting"
                : "";
        lines.push(
          `   ${formatHostPort(a.address, port)}  ${MARK[a.result]}  ${a.connectMs} ms  ${detail}`.trimEnd(),
        );
      }
    }
  }
  if (report.tls && report.target) {
    lines.push(...renderTls(report.tls, report.target.host, step++));
  }
  if (report.local) {
    const local = report.local;
    lines.push(`${step++}. On this machine: port ${local.port} (${local.method})`);
    if (local.addresses.length === 0) lines.push("   nothing listens on it");
    for (const address of local.addresses) {
      const scope =
        address === "0.0.0.0" || address === "::"
          ? "every interface"
          : address.startsWith("127.") || address === "::1"
            ? "loopback only"
            : "this address only";
      lines.push(`   listening on ${formatHostPort(address, local.port)}  (${scope})`);
    }
    for (const at of local.reachableAt) {
      lines.push(
        `   other machines can connect to ${formatHostPort(at.address, local.port)}  (${at.interface})`,
      );
    }
    if (local.loopbackOnly) {
      lines.push(
        `   WARNING: bound to loopback only: other machines cannot connect. Restart with --host 0.0.0.0 (or omit --host).`,
      );
    }
  }
  lines.push("", `Verdict: ${report.verdict}`, report.advice);
  for (const recipe of report.firewall ?? []) {
    lines.push("", `  ${recipe.firewall}:`);
    for (const command of recipe.commands) lines.push(`    ${command}`);
    if (recipe.note) lines.push(`    (${recipe.note})`);
  }
  return `${lines.join("\n")}\n`;
}
