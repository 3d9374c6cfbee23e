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
  const code = BY_SYSCALL_CODE[syscallCode] ?? "CHAT_ERR_CONN_CLOSED";
  const where = target === undefined ? "" : ` (${target.host}:${target.port})`;
  let hint: string = ERROR_CODES[code].hint;
  if (target !== undefined && code === "CHAT_ERR_CONN_TIMEOUT") {
    hint = `Most often a firewall on the server or the network: open inbound TCP port ${target.port} on the server (run \`tcpchat doctor ${target.host}:${target.port}\` for the commands).`;
  }
  if (target !== undefined && code === "CHAT_ERR_CONN_REFUSED") {
    hint = `Is the server running, and is the port right? Start one with \`pnpm --filter cli start -- --port ${target.port}\` (or \`tcpchat serve --port ${target.port}\` where tcpchat is installed).`;
  }
  return new ConnectionError(code, {
    message: ERROR_CODES[code].message + where,
    hint,
    cause: error,
    ...(syscallCode === "" ? {} : { syscallCode }),
  });
}
