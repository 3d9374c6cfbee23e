import { spawn, spawnSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll } from "vitest";

const packageDir = fileURLToPath(new URL("..", import.meta.url));
const repoRoot = fileURLToPath(new URL("../../..", import.meta.url));

/** What a bench process printed, and how it ended. */
export interface BenchRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built bench as a real process; resolves with its exit code and output. */
export function runBench(args: string[]): Promise<BenchRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["dist/main.js", ...args], { cwd: packageDir });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    child.on("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * Builds the bench before the file's tests, as `pnpm bench` does (worker threads and server
 * children load built files, and the tcpchat child imports core's dist; turbo caches), and
 * gives them a temporary directory for JSON output, removed afterwards. Returns the directory
 * (set once the build is done).
 */
export function useBuiltBench(prefix: string): () => string {
  let dir: string | undefined;
  beforeAll(async () => {
    const built = spawnSync(
      join(repoRoot, "node_modules/.bin/turbo"),
      ["run", "build", "--filter=@tcpchat/bench...", "--output-logs=errors-only"],
      { cwd: repoRoot, encoding: "utf8", env: { ...process.env, TURBO_TELEMETRY_DISABLED: "1" } },
    );
    if (built.status !== 0) throw new Error(`build failed:\n${built.stdout}\n${built.stderr}`);
    dir = await mkdtemp(join(tmpdir(), prefix));
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  return () => {
    if (dir === undefined) throw new Error("the bench is not built yet (use it inside a test)");
    return dir;
  };
}
