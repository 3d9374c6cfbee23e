import { execFileSync } from "node:child_process";
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
  };
}
