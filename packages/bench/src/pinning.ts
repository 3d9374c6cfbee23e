import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { availableParallelism } from "node:os";

/**
 * `--pin`: which CPUs the server under test and the load generator run on. On a machine this
 * small the two share the cores, and the scheduler moves them about: a server preempted by a
 * generator process in the middle of writing a turn to 500 sockets makes that turn, and every
 * message in it, later. Pinning gives each side cores of its own, as wrk's and h2load's guides
 * advise (`taskset`), so a latency figure says what the server did, not what it waited for.
 */
export interface CpuPinning {
  /** CPU list (taskset syntax) for the server child and every thread it starts. */
  server: string;
  /** CPU list for the bench process: its worker threads and native generator processes. */
  generator: string;
}

/**
 * The split for `cores` CPUs: the first half (at least one) to the server, the rest to the
 * generator. Undefined on a single core, where there is nothing to split.
 */
export function planPinning(cores = availableParallelism()): CpuPinning | undefined {
  if (cores < 2) return undefined;
  const serverCores = Math.max(1, Math.floor(cores / 2));
  return {
    server: cpuRange(0, serverCores - 1),
    generator: cpuRange(serverCores, cores - 1),
  };
}

function cpuRange(first: number, last: number): string {
  return first === last ? String(first) : `${first}-${last}`;
}

/**
 * Pins every thread of process `pid` (threads it starts later inherit it) to `cpus` with
 * `taskset -a -p -c`. Returns why it could not (no taskset, not Linux), or undefined when done.
 */
export function pinProcess(pid: number, cpus: string): string | undefined {
  try {
    execFileSync("taskset", ["-a", "-p", "-c", cpus, String(pid)], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    // taskset -a succeeds on a pid that does not exist (no threads to walk): ask the kernel.
    const off = threadsOffCpus(pid, cpus);
    return off.length === 0 ? undefined : `threads ${off.join(", ")} are not on CPU ${cpus}`;
  } catch (err) {
    const stderr = (err as { stderr?: Buffer }).stderr?.toString().trim();
    return stderr || (err as Error).message;
  }
}

/** The CPU numbers of a list in taskset's syntax ("0", "1-3", "0,2-3"), ascending. */
export function cpuNumbers(list: string): number[] {
  const cpus = new Set<number>();
  for (const part of list.split(",")) {
    const [first, last = first] = part.trim().split("-").map(Number);
    if (first === undefined || last === undefined || Number.isNaN(first) || Number.isNaN(last))
      continue;
    for (let cpu = first; cpu <= last; cpu++) cpus.add(cpu);
  }
  return [...cpus].sort((a, b) => a - b);
}

/**
 * The threads of process `pid` that may run anywhere but on `cpus` (read from
 * /proc/PID/task/TID/status): what a pinning missed. Empty when every thread is pinned.
 */
export function threadsOffCpus(pid: number, cpus: string): number[] {
  const want = cpuNumbers(cpus).join(",");
  const off: number[] = [];
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    let status: string;
    try {
      status = readFileSync(`/proc/${pid}/task/${tid}/status`, "utf8");
    } catch {
      continue; // the thread has exited
    }
    const list = /^Cpus_allowed_list:\s*(.+)$/m.exec(status)?.[1] ?? "";
    if (cpuNumbers(list).join(",") !== want) off.push(Number(tid));
  }
  return off;
}

/** The CPUs process `pid` may run on now (its affinity list), or undefined off Linux. */
export function affinityOf(pid: number): string | undefined {
  try {
    const out = execFileSync("taskset", ["-c", "-p", String(pid)], { encoding: "utf8" });
    return out.split(":").at(-1)?.trim();
  } catch {
    return undefined;
  }
}
