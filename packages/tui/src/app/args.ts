/** Command-line arguments of tcpchat-tui. */

/** Usage text. */
export const USAGE = `Usage: tcpchat-tui [host[:port]] [--nick NAME] [--room ROOM] [--tls [--ca FILE | --insecure]]

  host[:port]   server to connect to (default 127.0.0.1:3000; IPv6 as [::1]:3000)
  --nick NAME   nick to ask for (default: the server picks a guest nick)
  --room ROOM   room to start in (default: the server's default room)
  --tls         speak TLS (the server runs with --tls-cert and --tls-key)
  --ca FILE     trust this PEM certificate (the server's own, or its CA); implies --tls
  --insecure    do not check the server's certificate (labs only); implies --tls
`;

/** Parsed arguments. */
export interface TuiArgs {
  host: string;
  port: number;
  /** `host:port` as shown in the status bar. */
  display: string;
  nick: string | undefined;
  room: string | undefined;
  /** TLS settings: undefined for plain TCP; `caFile` is read by the caller. */
  tls: { caFile?: string; insecure?: boolean } | undefined;
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
  let tls = false;
  let caFile: string | undefined;
  let insecure = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "-h" || arg === "--help") help = true;
    else if (arg === "--tls") tls = true;
    else if (arg === "--insecure") insecure = true;
    else if (arg === "--nick" || arg === "--room" || arg === "--ca") {
      const value = args[++i];
      if (value === undefined) return { error: `${arg} needs a value` };
      if (arg === "--nick") nick = value;
      else if (arg === "--room") room = value;
      else caFile = value;
    } else if (arg.startsWith("--ca=")) caFile = arg.slice(5);
    else if (arg.startsWith("--nick=")) nick = arg.slice(7);
    else if (arg.startsWith("--room=")) room = arg.slice(7);
    else if (arg.startsWith("-")) return { error: `unknown option ${arg}` };
    else if (target === undefined) target = arg;
    else return { error: `unexpected argument ${arg}` };
  }
  if (caFile !== undefined && insecure) {
    return { error: "--ca and --insecure contradict each other: give one of them" };
  }
  const tlsArgs =
    tls || caFile !== undefined || insecure
      ? { ...(caFile === undefined ? {} : { caFile }), ...(insecure ? { insecure } : {}) }
      : undefined;
  const parsed = parseTarget(target ?? "", defaultPort);
  if ("error" in parsed) return parsed;
  const display = parsed.host.includes(":")
    ? `[${parsed.host}]:${parsed.port}`
    : `${parsed.host}:${parsed.port}`;
  return { ...parsed, display, nick, room, tls: tlsArgs, help };
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
