import type { ChatError } from "@tcpchat/core";

/**
 * Exit codes of every `tcpchat` command. Scripts match on these, so they never change meaning.
 * `connect` and `doctor` share the connection codes: the same failure exits the same way.
 */
export const EXIT_CODE = {
  /** Normal end: quit, a clean shutdown, `doctor` found a listening tcpchat server, policy accepts. */
  ok: 0,
  /** Something failed at run time that has no code of its own (`policy check`: refused). */
  failure: 1,
  /** Bad command line: unknown flag, bad value (port 70000), a host name that does not exist. */
  usage: 2,
  /** Connection refused: the host answered, nothing listens on the port. */
  connRefused: 3,
  /** Connection timed out: packets dropped on the way (usually a firewall). */
  connTimeout: 4,
  /** The server's accept policy refused this client (`CHAT_ERR_REFUSED_*`). */
  refusedByPolicy: 5,
  /** The DNS lookup failed for a reason other than "no such name" (no DNS server answered). */
  dns: 6,
  /** No route to the host or its network. */
  unreachable: 7,
  /** The connection was lost after it was open (reset, closed, ping timeout). */
  connectionLost: 8,
  /** The server ended the session on purpose: kicked, banned, or shut down. */
  endedByServer: 9,
  /** `serve`: the port is already in use (another program listens on it). */
  portInUse: 10,
  /** The TLS handshake failed: certificate untrusted, expired or for another name, or plain text. */
  tls: 11,
  /** Killed by Ctrl+C (128 + SIGINT), as shells report it. */
  interrupted: 130,
} as const;
/** One of {@link EXIT_CODE}'s values. */
export type ExitCode = (typeof EXIT_CODE)[keyof typeof EXIT_CODE];

/** Maps a classified error to the exit code that tells scripts what happened. */
export function exitCodeForError(error: ChatError): ExitCode {
  const code: string = error.code;
  if (code.startsWith("CHAT_ERR_REFUSED_")) return EXIT_CODE.refusedByPolicy;
  if (code.startsWith("CHAT_ERR_TLS_")) return EXIT_CODE.tls;
  switch (code) {
    case "CHAT_ERR_CONN_REFUSED":
      return EXIT_CODE.connRefused;
    case "CHAT_ERR_CONN_TIMEOUT":
      return EXIT_CODE.connTimeout;
    case "CHAT_ERR_DNS":
      // A name that does not exist is a bad argument; a DNS server that does not answer is not.
      return isNoSuchName(error) ? EXIT_CODE.usage : EXIT_CODE.dns;
    case "CHAT_ERR_CONN_UNREACHABLE":
      return EXIT_CODE.unreachable;
    case "CHAT_ERR_KICKED":
    case "CHAT_ERR_BANNED":
    case "CHAT_ERR_SERVER_SHUTDOWN":
      return EXIT_CODE.endedByServer;
    default:
      return EXIT_CODE.connectionLost;
  }
}

function isNoSuchName(error: ChatError): boolean {
  const syscall = (error as { syscallCode?: string }).syscallCode;
  const cause = error.cause as { code?: string } | undefined;
  return syscall === "ENOTFOUND" || cause?.code === "ENOTFOUND";
}
