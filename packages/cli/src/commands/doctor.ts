import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import { classifyConnectError, DEFAULT_PORT } from "@tcpchat/core";
import { intFlag, parseCommandArgs, parseHostPort, parsePort } from "../args.js";
import { tlsFromFlags } from "../connect/tls-flags.js";
import { localBindings } from "../doctor/local.js";
import { describe, PROBE_RESULT, type ProbeOutcome, probeAddress } from "../doctor/probe.js";
import { type DoctorReport, judge, renderReport, VERDICT } from "../doctor/report.js";
import { probeTls, tlsAdvice } from "../doctor/tls.js";
import { EXIT_CODE } from "../exit-codes.js";
import { runCommand } from "../invocation.js";
import { formatHostPort } from "../lan-addresses.js";
import { UsageError } from "../usage-error.js";
import type { Command } from "./command.js";

const DEFAULT_TIMEOUT_MS = 3000;

const HELP = `Usage: tcpchat doctor HOST[:PORT] [--tls [--ca FILE]] [--timeout MS] [--json]
       tcpchat doctor --local [PORT | HOST:PORT] [--json]

Finds out, step by step, why a client can or cannot reach a tcpchat server:
  1. DNS: every address HOST resolves to
  2. a TCP connect to each address, with a timeout
  3. the verdict and what to do next:
       listening          a server answered (its greeting and version are shown)
       refused            the host is up but nothing listens on the port
       timed-out          packets are dropped: a firewall (the commands to open the port follow)
       unreachable        no route to the host
       refused-by-policy  a tcpchat server refused this machine (with its reason)
       tls-failed         (--tls) something listens, but a TLS client would fail: untrusted,
                          expired, wrong name, or plain text (same codes as connect --tls)
     with --local alone: listening (bound where other machines reach it),
       loopback-only (only this machine can connect), not-listening (no server on the port)

Options:
  --timeout MS   connect timeout per address, and for the greeting (default ${DEFAULT_TIMEOUT_MS})
  --tls          also shake hands by TLS: show the certificate (subject, issuer, expiry and
                 days left, names, whether they match HOST, whether it is trusted)
  --ca FILE      trust this PEM certificate for the TLS check; implies --tls
  --local        on the server's machine: is the port bound, and on which interfaces?
                 (warns when only 127.0.0.1 is bound: other machines cannot connect)
  --json         print the report as one JSON object
  -h, --help     show this help

PORT defaults to ${DEFAULT_PORT}.

Exit codes: 0 listening, 1 other problem (--local: loopback only), 2 bad arguments or a host
name that does not exist, 3 refused (--local: nothing listens), 4 timed out, 5 refused by
policy, 6 DNS server failure, 7 unreachable, 11 TLS failed.

Examples:
  tcpchat doctor 192.168.1.20:3000
  tcpchat doctor chat.example.org --timeout 5000
  tcpchat doctor chat.example.org:3000 --tls
  tcpchat doctor --local 3000
  tcpchat doctor localhost:3000 --json | jq .verdict`;

/** `tcpchat doctor`: DNS, TCP connect, verdict with advice; `--local` checks the port's binding. */
export const doctorCommand: Command = {
  name: "doctor",
  summary: "diagnose why a server can or cannot be reached (DNS, TCP, firewall)",
  help: HELP,
  async run(argv, io) {
    const { flags, positionals } = parseCommandArgs("doctor", argv, {
      timeout: { type: "string" },
      json: { type: "boolean" },
      local: { type: "boolean" },
      tls: { type: "boolean" },
      ca: { type: "string" },
    });
    const tls = tlsFromFlags(flags);
    const caFile = typeof flags.ca === "string" ? flags.ca : undefined;
    const timeoutMs = intFlag(flags, "timeout", { min: 1, max: 600_000 }) ?? DEFAULT_TIMEOUT_MS;
    if (positionals.length > 1)
      throw new UsageError("doctor takes one HOST[:PORT]. See: tcpchat doctor --help");
    const arg = positionals[0];
    const local = flags.local === true;
    if (arg === undefined && !local) {
      throw new UsageError("doctor needs HOST[:PORT] (or --local). See: tcpchat doctor --help");
    }

    let report: DoctorReport;
    if (local && (arg === undefined || /^:?\d+$/.test(arg))) {
      const port = arg === undefined ? DEFAULT_PORT : parsePort("the port", arg.replace(/^:/, ""));
      report = await localReport(port);
    } else {
      const target = parseHostPort(arg ?? "", DEFAULT_PORT);
      report = await remoteReport(target, timeoutMs);
      if (tls !== undefined) await addTlsStep(report, target, tls.ca, caFile, timeoutMs);
      if (local) {
        report.local = await localBindings(target.port);
      }
    }
    io.stdout.write(
      flags.json ? `${JSON.stringify(report, null, 2)}\n` : renderReport(report, timeoutMs),
    );
    return report.exitCode;
  },
};

async function localReport(port: number): Promise<DoctorReport> {
  const local = await localBindings(port);
  const command = runCommand();
  if (local.addresses.length === 0) {
    return {
      attempts: [],
      local,
      verdict: VERDICT.notListening,
      advice: `Nothing listens on port ${port} on this machine: no server is running on it. Start one with: ${command} serve --port ${port}`,
      exitCode: EXIT_CODE.connRefused,
    };
  }
  if (local.loopbackOnly) {
    return {
      attempts: [],
      local,
      verdict: VERDICT.loopbackOnly,
      advice:
        "The port is bound to loopback only, so only this machine can connect. Restart the server without --host (all interfaces) or with --host 0.0.0.0.",
      exitCode: EXIT_CODE.failure,
    };
  }
  return {
    attempts: [],
    local,
    verdict: VERDICT.listening,
    advice: `The port is bound on an address other machines can reach. If they still time out, a firewall drops the packets: run \`${command} doctor HOST:${port}\` from another machine for the commands that open the port.`,
    exitCode: EXIT_CODE.ok,
  };
}

async function remoteReport(
  target: { host: string; port: number },
  timeoutMs: number,
): Promise<DoctorReport> {
  const family = isIP(target.host);
  if (family !== 0) {
    const attempts = [
      await probeAddress({
        address: target.host,
        family: family as 4 | 6,
        port: target.port,
        timeoutMs,
      }),
    ];
    return {
      target,
      dns: { lookedUp: false, addresses: [{ address: target.host, family: family as 4 | 6 }] },
      attempts,
      ...judge(target, attempts),
    };
  }
  let addresses: Array<{ address: string; family: 4 | 6 }>;
  try {
    const found = await lookup(target.host, { all: true, verbatim: true });
    addresses = found.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));
  } catch (cause) {
    const error = classifyConnectError(cause);
    const noSuchHost = (cause as NodeJS.ErrnoException).code === "ENOTFOUND";
    return {
      target,
      dns: { lookedUp: true, addresses: [], error: describe(error) },
      attempts: [],
      verdict: noSuchHost ? VERDICT.noSuchHost : VERDICT.dnsFailed,
      advice: noSuchHost
        ? `The name ${target.host} does not exist in DNS. Check the spelling, or use the server's IP address (the server's start banner lists them).`
        : `No DNS server answered for ${target.host}. Check this machine's network and DNS settings, or use the server's IP address.`,
      exitCode: noSuchHost ? EXIT_CODE.usage : EXIT_CODE.dns,
    };
  }
  const attempts: ProbeOutcome[] = await Promise.all(
    addresses.map((a) => probeAddress({ ...a, port: target.port, timeoutMs })),
  );
  return { target, dns: { lookedUp: true, addresses }, attempts, ...judge(target, attempts) };
}

/**
 * The TLS step: a handshake with the first address that listens, the certificate it shows, and
 * the verdict a TLS client would reach. A failure keeps the TCP findings and says what to do.
 */
async function addTlsStep(
  report: DoctorReport,
  target: { host: string; port: number },
  ca: string | Buffer | undefined,
  caFile: string | undefined,
  timeoutMs: number,
): Promise<void> {
  const listening = report.attempts.find((a) => a.result === PROBE_RESULT.listening);
  if (listening === undefined) return;
  report.tls = await probeTls({
    address: listening.address,
    port: target.port,
    name: target.host,
    ca: ca === undefined ? undefined : String(ca),
    timeoutMs,
  });
  const error = report.tls.error;
  if (error !== undefined) {
    report.verdict = VERDICT.tlsFailed;
    report.advice = `${error.code}: ${error.message} ${error.hint}`;
    report.exitCode = EXIT_CODE.tls;
    return;
  }
  const join = `${runCommand()} connect ${formatHostPort(target.host, target.port)} ${caFile === undefined ? "--tls" : `--ca ${caFile}`}`;
  report.advice = tlsAdvice(report.tls, join);
}
