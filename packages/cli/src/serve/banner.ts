import type { ListenAddress } from "@tcpchat/core";
import { runCommand, tuiRunCommand } from "../invocation.js";
import { formatHostPort, interfaceAddresses } from "../lan-addresses.js";

/** The addresses people can use to reach a server listening at `bound`. */
export function reachableAddresses(bound: ListenAddress): { lan: string[]; local: string[] } {
  const wildcard = bound.address === "::" || bound.address === "0.0.0.0";
  if (!wildcard) {
    const local = bound.address.startsWith("127.") || bound.address === "::1";
    return local ? { lan: [], local: [bound.address] } : { lan: [bound.address], local: [] };
  }
  // "::" on a dual-stack machine takes IPv4 too; "0.0.0.0" only IPv4.
  const all = interfaceAddresses().filter((a) => bound.address === "::" || a.family === 4);
  return {
    lan: all.filter((a) => !a.internal).map((a) => a.address),
    local: all.filter((a) => a.internal).map((a) => a.address),
  };
}

/**
 * The start banner: where the server listens and every way to join it. `command` is how this
 * program is run here ({@link runCommand}): the join commands it suggests must work as typed.
 */
export function startBanner(
  bound: ListenAddress,
  software: string,
  details: {
    /** How this program is run here (default {@link runCommand}). */
    command?: string;
    /** Where the server keeps its data ("SQLite 3.53.2 at DIR/tcpchat.db"). */
    data?: string;
    /** Whether the operator console reads this terminal (default true; off with --no-console). */
    console?: boolean;
  } = {},
): string {
  const command = details.command ?? runCommand();
  const { lan, local } = reachableAddresses(bound);
  const port = bound.port;
  const lines = [`${software} listening on ${formatHostPort(bound.address, port)}`];
  for (const address of lan) lines.push(`  LAN:       ${formatHostPort(address, port)}`);
  for (const address of local) lines.push(`  this host: ${formatHostPort(address, port)}`);
  if (lan.length === 0) {
    lines.push(
      "  (loopback only: other machines cannot connect; listen on all interfaces by leaving out --host)",
    );
  }
  if (details.data !== undefined) lines.push(`  data:      ${details.data}`);
  const share = lan.find((a) => !a.includes(":")) ?? lan[0] ?? local[0] ?? "localhost";
  const host = share.includes(":") ? `[${share}]` : share;
  const hostPort = formatHostPort(share, port);
  const joins: Array<[string, string]> = [
    [`${command} connect ${hostPort}`, "line client"],
    [`${tuiRunCommand(command)} ${hostPort}`, "full-screen client"],
    [`nc ${host} ${port}`, "any line client"],
    [`telnet ${host} ${port}`, ""],
  ];
  const width = Math.max(...joins.map(([join]) => join.length));
  lines.push(
    "",
    "Join with any of:",
    ...joins.map(([join, what]) => `  ${join.padEnd(width)}   ${what}`.trimEnd()),
    "",
    details.console === false
      ? "Ctrl+C stops the server."
      : "Type to chat as the operator; /help lists console commands; Ctrl+C stops the server.",
  );
  return lines.join("\n");
}
