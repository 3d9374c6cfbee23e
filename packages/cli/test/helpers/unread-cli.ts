import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { CLI_PATH } from "./cli-process.js";

/**
 * The CLI with its stdout a pipe that nobody reads (a slow consumer: `tcpchat connect | slow`).
 * stdin stays open; stderr is collected. `readStdout()` starts reading, as a consumer that
 * catches up.
 */
export function spawnUnread(args: string[]) {
  const child: ChildProcessWithoutNullStreams = spawn(process.execPath, [CLI_PATH, ...args], {
    env: { ...process.env, NO_COLOR: "1" },
    stdio: "pipe",
  });
  let stderr = "";
  let stdoutBytes = 0;
  let exitCode: number | null = null;
  child.stderr.setEncoding("utf8").on("data", (text: string) => (stderr += text));
  child.stdin.on("error", () => {});
  const exited = new Promise<number>((resolve) =>
    child.on("close", (code, signal) => {
      exitCode = code ?? (signal ? 128 : -1);
      resolve(exitCode);
    }),
  );
  return {
    pid: child.pid!,
    stderr: () => stderr,
    exitCode: () => exitCode,
    stdoutBytes: () => stdoutBytes,
    readStdout(): void {
      child.stdout.on("data", (chunk: Buffer) => (stdoutBytes += chunk.length));
    },
    async kill(): Promise<void> {
      if (exitCode === null) child.kill("SIGKILL");
      await exited;
    },
  };
}

/** Resident memory of a process, in bytes (Linux: VmRSS in /proc/PID/status). */
export function residentBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kib = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  if (kib === null) throw new Error(`no VmRSS for process ${pid}`);
  return Number(kib[1]) * 1024;
}

/**
 * Whether `condition` becomes true within `windowMs`. For checking that something does NOT
 * happen (a paused reader takes no more): the window is how long the test is willing to watch.
 */
export async function happensWithin(condition: () => boolean, windowMs: number): Promise<boolean> {
  const deadline = Date.now() + windowMs;
  while (Date.now() < deadline) {
    if (condition()) return true;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return condition();
}
