import {
  type ChatErrorCode,
  classifyConnectError,
  ERROR_CODES,
  inspectTls,
  tlsErrorCode,
} from "@tcpchat/core";
import { formatHostPort } from "../lan-addresses.js";

const DAY_MS = 86_400_000;
/** Fewer days left than this earns a "renew soon" in the advice (Let's Encrypt renews at 30). */
export const RENEW_SOON_DAYS = 14;

/** What the TLS step of `doctor --tls` found; also part of the `--json` output. */
export interface TlsReport {
  address: string;
  port: number;
  /** The TLS version agreed on, when the handshake completed. */
  protocol?: string | null;
  certificate?: {
    subject: string;
    issuer: string;
    validFrom: string;
    validTo: string;
    /** Whole days until `validTo`; negative once expired. */
    daysLeft: number;
    names: string[];
    fingerprint256: string;
  };
  /** The chain is trusted (system CAs, or `--ca`) and in date. */
  trusted?: boolean;
  /** OpenSSL's verify code when not trusted. */
  trustError?: string;
  /** The certificate names the host as typed. */
  nameMatches?: boolean;
  /** The failure a client would get (`connect --tls`), if any: same codes and hints. */
  error?: { code: string; message: string; hint: string };
}

/**
 * Shakes hands with `address:port` by TLS, checks the certificate against `name` (the host as
 * the user typed it) and `ca`, and says what `connect --tls` would meet.
 */
export async function probeTls(options: {
  address: string;
  port: number;
  name: string;
  ca: string | undefined;
  timeoutMs: number;
  now?: number;
}): Promise<TlsReport> {
  const base = { address: options.address, port: options.port };
  let inspection: Awaited<ReturnType<typeof inspectTls>>;
  try {
    inspection = await inspectTls({
      host: options.address,
      port: options.port,
      name: options.name,
      timeoutMs: options.timeoutMs,
      ...(options.ca === undefined ? {} : { ca: options.ca }),
    });
  } catch (cause) {
    const error = classifyConnectError(cause, { host: options.address, port: options.port });
    return { ...base, error: { code: error.code, message: error.message, hint: error.hint } };
  }
  const now = options.now ?? Date.now();
  const daysLeft = Math.floor((Date.parse(inspection.certificate.validTo) - now) / DAY_MS);
  const report: TlsReport = {
    ...base,
    protocol: inspection.protocol,
    certificate: { ...inspection.certificate, daysLeft },
    trusted: inspection.trusted,
    ...(inspection.trustError === undefined ? {} : { trustError: inspection.trustError }),
    nameMatches: inspection.nameMatches,
  };
  const code: ChatErrorCode | undefined =
    inspection.trustError !== undefined
      ? (tlsErrorCode(inspection.trustError) ?? "CHAT_ERR_TLS_UNTRUSTED")
      : inspection.nameMatches
        ? undefined
        : "CHAT_ERR_TLS_WRONG_NAME";
  if (code !== undefined) {
    const detail =
      code === "CHAT_ERR_TLS_WRONG_NAME"
        ? ` It names ${inspection.certificate.names.join(", ") || inspection.certificate.subject}, not ${options.name}.`
        : code === "CHAT_ERR_TLS_EXPIRED"
          ? ` Valid from ${inspection.certificate.validFrom} to ${inspection.certificate.validTo}.`
          : ` (${inspection.trustError})`;
    report.error = {
      code,
      message: `${ERROR_CODES[code].message}${detail}`,
      hint: ERROR_CODES[code].hint,
    };
  }
  return report;
}

/** The advice of a report whose TLS step succeeded: how to join, and when to renew. */
export function tlsAdvice(tls: TlsReport, joinCommand: string): string {
  const cert = tls.certificate;
  if (cert === undefined) return joinCommand;
  const renew =
    cert.daysLeft < RENEW_SOON_DAYS
      ? ` It expires in ${cert.daysLeft} days: renew it soon (the server reloads the files by itself).`
      : "";
  return `TLS works (${tls.protocol ?? "TLS"}): the certificate is trusted, names the host and is valid for ${cert.daysLeft} more days.${renew} Join with: ${joinCommand}`;
}

/** The lines of the TLS step in the human report. */
export function renderTls(tls: TlsReport, name: string, step: number): string[] {
  const lines = [`${step}. TLS handshake with ${formatHostPort(tls.address, tls.port)}`];
  const cert = tls.certificate;
  if (cert === undefined) {
    lines.push(`   FAILED ${tls.error?.code ?? ""}`.trimEnd());
    return lines;
  }
  const expiry =
    cert.daysLeft < 0
      ? `EXPIRED ${-cert.daysLeft} days ago`
      : `${cert.daysLeft} days left${cert.daysLeft < RENEW_SOON_DAYS ? " (renew soon)" : ""}`;
  lines.push(
    `   protocol  ${tls.protocol ?? "?"}`,
    `   subject   ${cert.subject}`,
    `   issuer    ${cert.issuer}`,
    `   valid     ${cert.validFrom} to ${cert.validTo}  ${expiry}`,
    `   names     ${cert.names.join(", ") || "(none)"}  ${tls.nameMatches ? `match ${name}` : `do NOT match ${name}`}`,
    `   trusted   ${tls.trusted ? "yes" : `NO (${tls.trustError ?? "?"})`}`,
  );
  return lines;
}
