import { spawn, spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, expect } from "vitest";
import type { BroadcastFigures } from "../src/scenarios/context.js";
import type { BenchResults } from "../src/suite.js";

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

/** The small run the end-to-end tests share: 8 clients, 3 senders, 0.2 s each, `--quick`. */
const QUICK_RUN = ["--quick", "--clients", "8", "--senders", "3", "--duration", "0.2"];

/**
 * Runs the bench with `args`, writing its JSON to `json`; fails the test unless the bench exits
 * 0. Returns the output and the results.
 */
export async function runBenchJson(
  json: string,
  args: string[],
): Promise<BenchRun & { results: BenchResults }> {
  const run = await runBench([...args, "--json", json]);
  expect(run.code, run.stderr + run.stdout).toBe(0);
  return { ...run, results: JSON.parse(await readFile(json, "utf8")) as BenchResults };
}

/** {@link runBenchJson} on the small run every end-to-end test starts from, plus `args`. */
export function runQuickBench(
  json: string,
  args: string[],
): Promise<BenchRun & { results: BenchResults }> {
  return runBenchJson(json, [...QUICK_RUN, ...args]);
}

/**
 * Checks that a broadcast run delivered every message it sent to each of `receivers` clients
 * exactly once, in order (no gaps, duplicates or short receivers). `label` names it on failure.
 */
export function expectEveryDelivery(
  run: BroadcastFigures | undefined,
  receivers: number,
  label: string,
): void {
  expect(run?.sent, label).toBeGreaterThan(0);
  expect(run?.expected, label).toBe((run?.sent ?? 0) * receivers);
  expect(run?.delivered, label).toBe(run?.expected);
  expect(run, label).toMatchObject({
    gaps: 0,
    duplicates: 0,
    mismatchedStreams: 0,
    receiversShort: 0,
  });
  expect(run?.checkedStreams, label).toBeGreaterThan(0);
}
