import { readFileSync } from "node:fs";

/**
 * Reads one TcpExt counter from /proc/net/netstat (Linux), e.g. `ListenOverflows`: connection
 * attempts the kernel dropped because a listen queue was full. The client then retries its SYN
 * after a second, then two more, which is what a connect burst's slowest clients wait for.
 * Undefined where the file does not exist. The counter is machine-wide.
 */
export function readTcpExtCounter(name: string, text?: string): number | undefined {
  let netstat = text;
  if (netstat === undefined) {
    try {
      netstat = readFileSync("/proc/net/netstat", "utf8");
    } catch {
      return undefined;
    }
  }
  const lines = netstat.split("\n").filter((line) => line.startsWith("TcpExt:"));
  if (lines.length < 2) return undefined;
  const names = lines[0]!.trim().split(/\s+/);
  const values = lines[1]!.trim().split(/\s+/);
  const index = names.indexOf(name);
  if (index < 1) return undefined;
  const value = Number(values[index]);
  return Number.isFinite(value) ? value : undefined;
}
