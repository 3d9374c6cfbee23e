/** Command-line arguments of tcpchat-tui. */

/** Usage text. */
export const USAGE = `Usage: tcpchat-tui [host[:port]] [--nick NAME] [--room ROOM]

  host[:port]   server to connect to (default 127.0.0.1:3000; IPv6 as [::1]:3000)
  --nick NAME   nick to ask for (default: the server picks a guest nick)
  --room ROOM   room to start in (default: the server's default room)
`;

/** Parsed arguments. */
export interface TuiArgs {
  host: string;
  port: number;
  /** `host:port` as shown in the status bar. */
  display: string;
  nick: string | undefined;
  room: string | undefined;
  help: boolean;
}

/** Reads argv (without node and the script); a leading `--` from pnpm is dropped. */
export function parseArgs(
  argv: readonly string[],
  defaultPort: number,
): TuiArgs | { error: string } {
  const args = argv[0] === "--" ? argv.slice(1) : [...argv];
  let target: string | undefined;
  let nick: string | undefined;
  let room: string | undefined;
  let help = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "-h" || arg === "--help") help = true;
    else if (arg === "--nick" || arg === "--room") {
      const value = args[++i];
      if (value === undefined) return { error: `${arg} needs a value` };
      if (arg === "--nick") nick = value;
      else room = value;
    } else if (arg.startsWith("--nick=")) nick = arg.slice(7);
    else if (arg.startsWith("--room=")) room = arg.slice(7);
    else if (arg.startsWith("-")) return { error: `unknown option ${arg}` };
    else if (target === undefined) target = arg;
    else return { error: `unexpected argument ${arg}` };
  }
  const parsed = parseTarget(target ?? "", defaultPort);
  if ("error" in parsed) return parsed;
  const display = parsed.host.includes(":")
    ? `[${parsed.host}]:${parsed.port}`
    : `${parsed.host}:${parsed.port}`;
  return { ...parsed, display, nick, room, help };
}

function parseTarget(
  text: string,
  defaultPort: number,
): { host: string; port: number } | { error: string } {
  const match = /^(?:\[([^\]]+)\]|([^:]*))(?::(\d*))?$/.exec(text);
  if (!match) return { error: `not a host[:port]: ${text}` };
  const host = match[1] ?? (match[2] || "127.0.0.1");
  const portText = match[3];
  const port = portText === undefined || portText === "" ? defaultPort : Number(portText);
  if (!Number.isInteger(port) || port < 1 || port > 65535) return { error: `bad port in ${text}` };
  return { host, port };
}
