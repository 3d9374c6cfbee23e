import { DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_PORT, normalizeName } from "@tcpchat/core";
import { intFlag, parseCommandArgs, parseHostPort, stringFlag } from "../args.js";
import { runRaw } from "../connect/raw.js";
import { runStructured } from "../connect/structured.js";
import { TLS_FLAG_HELP, TLS_FLAG_SPEC, tlsFromFlags } from "../connect/tls-flags.js";
import { UsageError } from "../usage-error.js";
import type { Command } from "./command.js";

const DEFAULT_HOST = "127.0.0.1";

const HELP = `Usage: tcpchat connect [HOST[:PORT]] [options]

Joins a chat. HOST defaults to ${DEFAULT_HOST}, PORT to ${DEFAULT_PORT}; IPv6: [::1]:${DEFAULT_PORT}.
Against a tcpchat server it speaks the structured protocol; against any other line-based
server (a Java ServerSocket program, ncat -l) it falls back to plain line mode: every line
you type is sent as is and every line received is printed.

In a terminal: a prompt that stays put while messages arrive, history (up/down), timestamps.
Commands: /join ROOM  /part [ROOM]  /nick NAME  /msg NICK TEXT  /me TEXT  /who [ROOM]
          /rooms  /ping  /quit [REASON]  /help      (//TEXT sends a line that starts with /)
With stdin not a terminal (a pipe or a file) it sends each line of stdin, prints what it
receives, and quits once stdin ends and the server has acknowledged every line.

Options:
  --nick NAME        nick to ask for (default: the server picks guest-XXXX)
  --room ROOM        room to start in (default: the server's default room)
  --raw              plain line mode, without detecting a tcpchat server
  --timeout MS       connect timeout, and time to wait for the tcpchat greeting (default ${DEFAULT_CONNECT_TIMEOUT_MS})
${TLS_FLAG_HELP}
  --timestamps       show local timestamps (default in a terminal)
  --no-timestamps    do not show timestamps (default in a pipe)
  -h, --help         show this help

Exit codes:
  0  quit (/quit, Ctrl+D, Ctrl+C, end of stdin), or a plain-line peer closed the connection
  2  bad arguments, or a host name that does not exist
  3  connection refused: nothing listens on that port
  4  connection timed out: packets dropped, usually a firewall (try tcpchat doctor)
  5  refused by the server's accept policy (deny list, full, too many connections, ...)
  6  DNS failure: no DNS server answered
  7  host or network unreachable
  8  connection lost (reset, or the server closed it without a reason)
  9  the server ended the session: kicked, banned, or shut down
  11 TLS failed: certificate untrusted, expired or for another name, or the server
     answered in plain text (drop --tls)
  130 interrupted by SIGINT while not in a terminal

Examples:
  tcpchat connect                         the server on this machine, port ${DEFAULT_PORT}
  tcpchat connect 192.168.1.20 --nick 민수
  echo "build finished" | tcpchat connect chat.example.org:4000 --nick ci
  tcpchat connect --raw localhost:5000    a plain line server
  tcpchat connect chat.example.org --tls  TLS, checked against the system's CAs
  tcpchat connect 192.168.1.20 --ca server.pem   TLS with a self-signed certificate
  pnpm --filter cli start connect 192.168.1.20:3000`;

/** `tcpchat connect`: the line client (structured mode, or plain line mode for other peers). */
export const connectCommand: Command = {
  name: "connect",
  summary: "join a chat from this terminal (or send stdin's lines from a script)",
  help: HELP,
  async run(argv, _io) {
    const { flags, positionals } = parseCommandArgs("connect", argv, {
      nick: { type: "string" },
      room: { type: "string" },
      raw: { type: "boolean" },
      timeout: { type: "string" },
      timestamps: { type: "boolean" },
      "no-timestamps": { type: "boolean" },
      ...TLS_FLAG_SPEC,
    });
    if (positionals.length > 1) {
      throw new UsageError(
        `connect takes one HOST[:PORT], got ${positionals.length} arguments. See: tcpchat connect --help`,
      );
    }
    const target = parseHostPort(positionals[0] ?? DEFAULT_HOST, DEFAULT_PORT);
    const timeoutMs =
      intFlag(flags, "timeout", { min: 1, max: 600_000 }) ?? DEFAULT_CONNECT_TIMEOUT_MS;
    const timestamps = flags["no-timestamps"] ? false : flags.timestamps ? true : undefined;
    const tls = tlsFromFlags(flags);
    const base = { ...target, timeoutMs, timestamps, ...(tls === undefined ? {} : { tls }) };
    if (flags.raw) return runRaw(base);

    const nick = checkName(stringFlag(flags, "nick"), "nick");
    const room = checkName(stringFlag(flags, "room"), "room");
    const outcome = await runStructured({
      ...base,
      ...(nick === undefined ? {} : { nick }),
      ...(room === undefined ? {} : { room }),
    });
    if ("exitCode" in outcome) return outcome.exitCode;
    return runRaw({
      ...base,
      connection: outcome.connection,
      notice: `*** not a tcpchat server (${outcome.notTcpchat.message}); switching to plain line mode on the same connection (use --raw to skip the check)`,
    });
  },
};

/**
 * Checks a name's characters before connecting, so that a typo is a usage error rather than a
 * silent guest nick. The length is left to the server: its limit may differ from the default.
 */
function checkName(raw: string | undefined, kind: "nick" | "room"): string | undefined {
  if (raw === undefined) return undefined;
  const checked = normalizeName(raw, kind, Number.POSITIVE_INFINITY);
  if (typeof checked !== "string") throw new UsageError(`--${kind}: ${checked.message}`);
  return checked;
}
