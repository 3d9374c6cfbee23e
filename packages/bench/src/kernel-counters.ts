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

/** Busy and total CPU time of the whole machine so far, in clock ticks (from /proc/stat). */
export function readMachineCpu(text?: string): { busy: number; total: number } | undefined {
  let stat = text;
  if (stat === undefined) {
    try {
      stat = readFileSync("/proc/stat", "utf8");
    } catch {
      return undefined;
    }
  }
  const line = stat.split("\n").find((l) => l.startsWith("cpu "));
  if (!line) return undefined;
  // user nice system idle iowait irq softirq steal ...
  const [user, nice, system, idle, iowait, irq, softirq, steal] = line
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  // Softirq time is left out of "busy": loopback traffic is processed there, on behalf of the
  // bench's own processes but not charged to them, so it would count as someone else's load.
  const busy = (user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (steal ?? 0);
  return { busy, total: busy + (softirq ?? 0) + (idle ?? 0) + (iowait ?? 0) };
}

/**
 * Measures how many cores the whole machine kept busy during a span (every process, this one
 * included). Undefined off Linux.
 */
export function startMachineCpu(cores: number): { stop(): number | undefined } {
  const before = readMachineCpu();
  return {
    stop() {
      const after = readMachineCpu();
      if (!before || !after || after.total <= before.total) return undefined;
      return ((after.busy - before.busy) / (after.total - before.total)) * cores;
    },
  };
}

/**
 * Page size the kernel counts socket memory in. Node has no API for `sysconf(_SC_PAGESIZE)`;
 * 4 KiB is the page size of x86-64 and of the common arm64 kernels.
 */
export const KERNEL_PAGE_BYTES = 4096;

/**
 * Memory the kernel holds for TCP sockets machine-wide, in bytes: the `mem` field (pages) of the
 * `TCP:` line of /proc/net/sockstat. Socket send and receive buffers count here, so a peer that
 * never reads shows up in it. Undefined off Linux.
 */
export function readKernelTcpMemBytes(text?: string): number | undefined {
  let sockstat = text;
  if (sockstat === undefined) {
    try {
      sockstat = readFileSync("/proc/net/sockstat", "utf8");
    } catch {
      return undefined;
    }
  }
  const match = /^TCP:.*\bmem (\d+)/m.exec(sockstat);
  return match ? Number(match[1]) * KERNEL_PAGE_BYTES : undefined;
}
