import { isIP } from "node:net";
import { type ParseArgsConfig, parseArgs } from "node:util";
import { UsageError } from "./usage-error.js";

/** Options of a command, in `node:util` parseArgs form. */
export type OptionSpec = NonNullable<ParseArgsConfig["options"]>;

/** Parsed flags: every value a string, boolean, or array of strings (repeatable flags). */
export type FlagValues = Record<string, string | boolean | string[] | undefined>;

/**
 * Parses a command's argv strictly: an unknown flag or a missing value becomes a
 * {@link UsageError} whose message names the flag and the command's `--help`.
 */
export function parseCommandArgs(
  command: string,
  argv: readonly string[],
  options: OptionSpec,
): { flags: FlagValues; positionals: string[] } {
  try {
    const parsed = parseArgs({
      args: [...argv],
      options,
      allowPositionals: true,
      strict: true,
    });
    return { flags: parsed.values as FlagValues, positionals: parsed.positionals };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    // parseArgs' messages are clear but long; keep the first sentence and point to the help.
    const first = message.split(". ")[0]?.replace(/\.$/, "") ?? message;
    throw new UsageError(`${first}. See: tcpchat ${command} --help`);
  }
}

/** Reads a string flag, or undefined. */
export function stringFlag(flags: FlagValues, name: string): string | undefined {
  const value = flags[name];
  return typeof value === "string" ? value : undefined;
}

/** Reads a repeatable string flag (always an array). */
export function listFlag(flags: FlagValues, name: string): string[] {
  const value = flags[name];
  if (Array.isArray(value)) return value;
  return typeof value === "string" ? [value] : [];
}

/** Parses an integer flag within [min, max]; undefined when the flag is absent. */
export function intFlag(
  flags: FlagValues,
  name: string,
  range: { min: number; max: number },
): number | undefined {
  const raw = stringFlag(flags, name);
  if (raw === undefined) return undefined;
  return parseInteger(`--${name}`, raw, range);
}

/** Parses a decimal integer within [min, max], or throws a {@link UsageError} naming `what`. */
export function parseInteger(
  what: string,
  raw: string,
  range: { min: number; max: number },
): number {
  const trimmed = raw.trim();
  const value = /^-?\d+$/.test(trimmed) ? Number(trimmed) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < range.min || value > range.max) {
    throw new UsageError(
      `${what} must be a whole number from ${range.min} to ${range.max}, got "${raw}"`,
    );
  }
  return value;
}

/** Parses a TCP port (1-65535; 0 only where `allowZero` says "any free port"). */
export function parsePort(what: string, raw: string, allowZero = false): number {
  return parseInteger(what, raw, { min: allowZero ? 0 : 1, max: 65535 });
}

/** A host and port from `host[:port]`. */
export interface HostPort {
  host: string;
  port: number;
}

/**
 * Splits `host[:port]`: `example.org`, `example.org:3000`, `10.0.0.5:3000`, `[::1]:3000`, `::1`.
 * A bare IPv6 address has no port (its colons are the address's own).
 */
export function parseHostPort(raw: string, defaultPort: number): HostPort {
  const text = raw.trim();
  if (text === "") throw new UsageError("the host is empty");
  const bracketed = /^\[([^\]]+)\](?::(.*))?$/.exec(text);
  if (bracketed) {
    const host = bracketed[1] ?? "";
    if (isIP(host) !== 6) throw new UsageError(`"${host}" in brackets is not an IPv6 address`);
    const portText = bracketed[2];
    return { host, port: portText === undefined ? defaultPort : parsePort("the port", portText) };
  }
  if (isIP(text) === 6) return { host: text, port: defaultPort };
  const colon = text.lastIndexOf(":");
  if (colon === -1) return { host: checkHostName(text), port: defaultPort };
  const host = text.slice(0, colon);
  if (host.includes(":")) {
    throw new UsageError(`"${text}": write an IPv6 address with a port as [ADDRESS]:PORT`);
  }
  return { host: checkHostName(host), port: parsePort("the port", text.slice(colon + 1)) };
}

function checkHostName(host: string): string {
  if (host === "") throw new UsageError("the host is empty");
  if (/[\s/]/.test(host)) throw new UsageError(`"${host}" is not a host name or address`);
  return host;
}

/** Parses a rate like `10/s`, `600/min` or `10` (per second) into connections per second. */
export function parseRate(what: string, raw: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(?:\/\s*(s|sec|second|m|min|minute))?\s*$/.exec(raw);
  const count = match ? Number(match[1]) : Number.NaN;
  if (!match || !Number.isFinite(count) || count <= 0) {
    throw new UsageError(`${what} must look like 10/s or 600/min, got "${raw}"`);
  }
  const unit = match[2] ?? "s";
  return unit.startsWith("m") ? count / 60 : count;
}

/** Parses a duration like `90`, `90s`, `15m`, `2h`, `1d` into milliseconds. */
export function parseDuration(what: string, raw: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(raw);
  if (!match) throw new UsageError(`${what} must look like 90s, 15m, 2h or 1d, got "${raw}"`);
  const unitMs = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
  const unit = (match[2] ?? "s") as keyof typeof unitMs;
  return Math.round(Number(match[1]) * unitMs[unit]);
}
