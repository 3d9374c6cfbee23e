import { checkServerIdentity, type PeerCertificate, type TLSSocket } from "node:tls";
import { connectTcp } from "./tcp-connect.js";

/** Options of {@link inspectTls}. */
export interface TlsInspectOptions {
  /** The address to connect to. */
  host: string;
  port: number;
  /** The name to check the certificate against, and to ask for (SNI) unless it is an IP. */
  name: string;
  /** Certificates (PEM) to trust instead of the system's CAs. */
  ca?: string | Buffer;
  timeoutMs: number;
}

/** What a TLS server showed: its certificate and whether a client would accept it. */
export interface TlsInspection {
  /** The TLS version agreed on, such as `TLSv1.3`. */
  protocol: string | null;
  certificate: {
    /** `CN=chat.example.org, O=...` */
    subject: string;
    issuer: string;
    /** As OpenSSL prints it: `Jan  1 00:00:00 2026 GMT`. */
    validFrom: string;
    validTo: string;
    /** subjectAltName entries: `DNS:chat.example.org`, `IP Address:127.0.0.1`. */
    names: string[];
    fingerprint256: string;
  };
  /** Whether the chain is trusted and in date (from the trusted CAs or `ca`). */
  trusted: boolean;
  /** OpenSSL's verify code when it is not (`DEPTH_ZERO_SELF_SIGNED_CERT`, `CERT_HAS_EXPIRED`). */
  trustError?: string;
  /** Whether the certificate names {@link TlsInspectOptions.name}. */
  nameMatches: boolean;
  /** Why it does not, when it does not. */
  nameError?: string;
}

/**
 * Completes a TLS handshake without rejecting the certificate, so that it can be reported
 * whatever is wrong with it; then checks trust and name as a client would. A peer that is not
 * TLS (it answers in plain text) rejects with Node's error, as {@link connectTcp} does.
 */
export async function inspectTls(options: TlsInspectOptions): Promise<TlsInspection> {
  const servername = /^[\d.]+$|:/.test(options.name) ? undefined : options.name;
  const socket = (await connectTcp({
    host: options.host,
    port: options.port,
    timeoutMs: options.timeoutMs,
    tls: {
      insecure: true,
      ...(options.ca === undefined ? {} : { ca: options.ca }),
      ...(servername === undefined ? {} : { servername }),
    },
  })) as TLSSocket;
  try {
    const cert = socket.getPeerCertificate();
    const nameError = checkServerIdentity(options.name, cert);
    const trustError = socket.authorizationError;
    return {
      protocol: socket.getProtocol(),
      certificate: {
        subject: distinguishedName(cert.subject),
        issuer: distinguishedName(cert.issuer),
        validFrom: cert.valid_from,
        validTo: cert.valid_to,
        names: (cert.subjectaltname ?? "").split(", ").filter((name) => name !== ""),
        fingerprint256: cert.fingerprint256,
      },
      trusted: socket.authorized,
      ...(trustError === undefined || trustError === null
        ? {}
        : { trustError: String((trustError as unknown as { code?: string }).code ?? trustError) }),
      nameMatches: nameError === undefined,
      ...(nameError === undefined ? {} : { nameError: nameError.message }),
    };
  } finally {
    socket.destroy();
  }
}

function distinguishedName(name: PeerCertificate["subject"] | undefined): string {
  if (name === undefined) return "";
  return Object.entries(name)
    .map(([key, value]) => `${key}=${Array.isArray(value) ? value.join("+") : String(value)}`)
    .join(", ");
}
