import { ChatError, type ChatErrorCode, ConnectionError, ERROR_CODES } from "../errors.js";

const BY_SYSCALL_CODE: Record<string, ChatErrorCode> = {
  ECONNREFUSED: "CHAT_ERR_CONN_REFUSED",
  ETIMEDOUT: "CHAT_ERR_CONN_TIMEOUT",
  EHOSTUNREACH: "CHAT_ERR_CONN_UNREACHABLE",
  ENETUNREACH: "CHAT_ERR_CONN_UNREACHABLE",
  EHOSTDOWN: "CHAT_ERR_CONN_UNREACHABLE",
  ENETDOWN: "CHAT_ERR_CONN_UNREACHABLE",
  EADDRNOTAVAIL: "CHAT_ERR_CONN_UNREACHABLE",
  ENOTFOUND: "CHAT_ERR_DNS",
  EAI_AGAIN: "CHAT_ERR_DNS",
  EAI_NONAME: "CHAT_ERR_DNS",
  EAI_FAIL: "CHAT_ERR_DNS",
  ECONNRESET: "CHAT_ERR_CONN_RESET",
  EPIPE: "CHAT_ERR_CONN_RESET",
  ECONNABORTED: "CHAT_ERR_CONN_RESET",
};

/** Node's certificate check failures (OpenSSL verify codes) and what they mean to a user. */
const BY_TLS_CODE: Record<string, ChatErrorCode> = {
  DEPTH_ZERO_SELF_SIGNED_CERT: "CHAT_ERR_TLS_UNTRUSTED",
  SELF_SIGNED_CERT_IN_CHAIN: "CHAT_ERR_TLS_UNTRUSTED",
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: "CHAT_ERR_TLS_UNTRUSTED",
  UNABLE_TO_GET_ISSUER_CERT: "CHAT_ERR_TLS_UNTRUSTED",
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: "CHAT_ERR_TLS_UNTRUSTED",
  CERT_UNTRUSTED: "CHAT_ERR_TLS_UNTRUSTED",
  CERT_SIGNATURE_FAILURE: "CHAT_ERR_TLS_UNTRUSTED",
  CERT_HAS_EXPIRED: "CHAT_ERR_TLS_EXPIRED",
  CERT_NOT_YET_VALID: "CHAT_ERR_TLS_EXPIRED",
  ERR_TLS_CERT_ALTNAME_INVALID: "CHAT_ERR_TLS_WRONG_NAME",
  // What OpenSSL says when the first bytes back are not a TLS record: a greeting line, an
  // error line, an HTTP answer or garbage.
  ERR_SSL_WRONG_VERSION_NUMBER: "CHAT_ERR_TLS_PLAINTEXT_SERVER",
  ERR_SSL_PACKET_LENGTH_TOO_LONG: "CHAT_ERR_TLS_PLAINTEXT_SERVER",
  ERR_SSL_HTTP_REQUEST: "CHAT_ERR_TLS_PLAINTEXT_SERVER",
  ERR_SSL_RECORD_LAYER_FAILURE: "CHAT_ERR_TLS_PLAINTEXT_SERVER",
};

/**
 * The TLS failure class of an error from a TLS connect, or undefined when it is not one:
 * untrusted, expired, wrong name, plaintext server, or another handshake failure (`ERR_SSL_*`).
 */
export function tlsErrorCode(syscallCode: string): ChatErrorCode | undefined {
  return (
    BY_TLS_CODE[syscallCode] ??
    (syscallCode.startsWith("ERR_SSL_") || syscallCode.startsWith("ERR_TLS_")
      ? "CHAT_ERR_TLS_HANDSHAKE"
      : undefined)
  );
}

/**
 * Whether a TLS connect ended because the peer closed (FIN) before any TLS reply. Node raises
 * it from the TLS socket's own end handler as an ECONNRESET with no syscall (a reset from the
 * kernel has `syscall: "read"`). A TLS server would have answered with an alert; a peer that
 * just hangs up on a ClientHello is a plaintext service that could not parse it.
 */
function isSilentCloseDuringTls(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const { code, syscall } = error as NodeJS.ErrnoException;
  return (
    code === "ECONNRESET" &&
    syscall === undefined &&
    error.message.includes("before secure TLS connection was established")
  );
}

/** The message of a silent close in answer to our ClientHello (see isSilentCloseDuringTls). */
const SILENT_CLOSE_MESSAGE =
  "The server closed the connection in answer to the TLS handshake, without a TLS reply: " +
  "it most likely does not speak TLS on this port.";

/**
 * Turns a connection failure into a {@link ChatError} with a stable code and a hint that says
 * what to do: refused (nothing listens), timed out (packets dropped: a firewall), unreachable
 * (routing), DNS, reset. A ChatError passes through unchanged.
 */
export function classifyConnectError(
  error: unknown,
  target?: { host: string; port: number },
): ChatError {
  if (error instanceof ChatError) return error;
  const syscallCode =
    typeof error === "object" && error !== null && "code" in error ? String(error.code) : "";
  if (isSilentCloseDuringTls(error)) {
    const where = target === undefined ? "" : ` (${target.host}:${target.port})`;
    return new ConnectionError("CHAT_ERR_TLS_PLAINTEXT_SERVER", {
      message: SILENT_CLOSE_MESSAGE + where,
      hint: ERROR_CODES.CHAT_ERR_TLS_PLAINTEXT_SERVER.hint,
      cause: error,
      syscallCode,
    });
  }
  const code = tlsErrorCode(syscallCode) ?? BY_SYSCALL_CODE[syscallCode] ?? "CHAT_ERR_CONN_CLOSED";
  const where = target === undefined ? "" : ` (${target.host}:${target.port})`;
  let hint: string = ERROR_CODES[code].hint;
  if (target !== undefined && code === "CHAT_ERR_CONN_TIMEOUT") {
    hint = `Most often a firewall on the server or the network: open inbound TCP port ${target.port} on the server (run \`tcpchat doctor ${target.host}:${target.port}\` for the commands).`;
  }
  if (target !== undefined && code === "CHAT_ERR_CONN_REFUSED") {
    hint = `Is the server running, and is the port right? Start one with \`pnpm --filter cli start -- --port ${target.port}\` (or \`tcpchat serve --port ${target.port}\` where tcpchat is installed).`;
  }
  const detail = code.startsWith("CHAT_ERR_TLS_") ? tlsDetail(error) : "";
  return new ConnectionError(code, {
    message: ERROR_CODES[code].message + where + detail,
    hint,
    cause: error,
    ...(syscallCode === "" ? {} : { syscallCode }),
  });
}

/** The names a certificate lists and the reason OpenSSL gave, to follow a TLS message. */
function tlsDetail(error: unknown): string {
  if (!(error instanceof Error)) return "";
  const { cert } = error as { cert?: { subjectaltname?: string; subject?: { CN?: unknown } } };
  const names =
    cert?.subjectaltname ??
    (cert?.subject?.CN === undefined ? "" : `CN=${String(cert.subject.CN)}`);
  return names === "" ? ` [${error.message}]` : ` [it names ${names}; ${error.message}]`;
}
