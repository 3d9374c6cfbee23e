import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { cpus, loadavg, release, totalmem } from "node:os";

/** The machine a run was measured on, for the JSON report. */
export interface MachineInfo {
  cores: number;
  cpuModel: string;
  node: string;
  platform: string;
  osRelease: string;
  totalMemoryBytes: number;
  /** 1, 5 and 15 minute load averages when the run started: others' load skews figures. */
  loadAverage: number[];
  /** `git rev-parse HEAD` of the checkout, if it is one. */
  commit: string | undefined;
  /** Whether the checkout had uncommitted changes. */
  dirty: boolean | undefined;
  /**
   * The bench process's open-file limit (soft, as Node raises it to the hard limit at start):
   * every client is a file, so it caps `--clients` (undefined off Linux).
   */
  openFileLimit: number | undefined;
}

function openFileLimit(): number | undefined {
  try {
    const line = readFileSync("/proc/self/limits", "utf8")
      .split("\n")
      .find((l) => l.startsWith("Max open files"));
    const soft = line?.split(/\s{2,}/)[1];
    return soft === undefined || soft === "unlimited" ? undefined : Number(soft);
  } catch {
    return undefined;
  }
}

function git(args: string[]): string | undefined {
  try {
    return execFileSync("git", args, {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    }).trim();
  } catch {
    return undefined;
  }
}

/** Reads the machine info. */
export function machineInfo(): MachineInfo {
  const cpuList = cpus();
  const status = git(["status", "--porcelain"]);
  return {
    cores: cpuList.length,
    cpuModel: cpuList[0]?.model ?? "unknown",
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    osRelease: release(),
    totalMemoryBytes: totalmem(),
    loadAverage: loadavg(),
    commit: git(["rev-parse", "HEAD"]),
    dirty: status === undefined ? undefined : status.length > 0,
    openFileLimit: openFileLimit(),
  };
}
