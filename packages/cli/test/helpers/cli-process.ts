import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The built CLI: tests run the real program, as users do (the test task builds first). */
export const CLI_PATH = resolve(dirname(fileURLToPath(import.meta.url)), "../../dist/main.js");

const running = new Set<CliProcess>();

/** A running `tcpchat` process with its output collected, and waits that poll with deadlines. */
export class CliProcess {
  stdout = "";
  stderr = "";
  exitCode: number | null = null;
  readonly exited: Promise<number>;
  private readonly child: ChildProcessWithoutNullStreams;

  constructor(args: string[], env: NodeJS.ProcessEnv = {}) {
    this.child = spawn(process.execPath, [CLI_PATH, ...args], {
      env: { ...process.env, NO_COLOR: "1", ...env },
      stdio: "pipe",
    });
    this.child.stdout.setEncoding("utf8").on("data", (text: string) => (this.stdout += text));
    this.child.stderr.setEncoding("utf8").on("data", (text: string) => (this.stderr += text));
    this.child.stdin.on("error", () => {});
    this.exited = new Promise((resolveExit) => {
      this.child.on("close", (code, signal) => {
        this.exitCode = code ?? (signal ? 128 : -1);
        running.delete(this);
        resolveExit(this.exitCode);
      });
    });
    running.add(this);
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Writes lines to the process's stdin. */
  write(text: string): void {
    this.child.stdin.write(text);
  }

  /** Closes the process's stdin (EOF). */
  endInput(): void {
    this.child.stdin.end();
  }

  signal(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  /** Waits until stdout matches; fails with both streams in the message when the deadline passes. */
  waitForStdout(pattern: RegExp, timeoutMs = 10_000): Promise<RegExpMatchArray> {
    return this.waitFor(() => this.stdout.match(pattern), `stdout to match ${pattern}`, timeoutMs);
  }

  waitForStderr(pattern: RegExp, timeoutMs = 10_000): Promise<RegExpMatchArray> {
    return this.waitFor(() => this.stderr.match(pattern), `stderr to match ${pattern}`, timeoutMs);
  }

  /** Waits for the exit code, within a deadline. */
  async waitExit(timeoutMs = 10_000): Promise<number> {
    const timeout = new Promise<never>((_, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`process did not exit within ${timeoutMs} ms\n${this.describe()}`)),
        timeoutMs,
      );
      void this.exited.finally(() => clearTimeout(timer));
    });
    return Promise.race([this.exited, timeout]);
  }

  describe(): string {
    return `--- stdout ---\n${this.stdout}\n--- stderr ---\n${this.stderr}`;
  }

  private async waitFor<T>(
    check: () => T | null | undefined,
    what: string,
    timeoutMs: number,
  ): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = check();
      if (value) return value;
      if (Date.now() > deadline)
        throw new Error(`timed out waiting for ${what}\n${this.describe()}`);
      if (this.exitCode !== null) {
        const last = check();
        if (last) return last;
        throw new Error(`process exited (${this.exitCode}) before ${what}\n${this.describe()}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  kill(): void {
    if (this.exitCode === null) this.child.kill("SIGKILL");
  }
}

/** Starts the CLI with args. */
export function runCli(args: string[], env?: NodeJS.ProcessEnv): CliProcess {
  return new CliProcess(args, env);
}

/** Runs the CLI to completion with optional stdin; resolves code and output. */
export async function runCliToEnd(
  args: string[],
  options: { input?: string; timeoutMs?: number } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const proc = runCli(args);
  if (options.input !== undefined) proc.write(options.input);
  proc.endInput();
  const code = await proc.waitExit(options.timeoutMs ?? 15_000);
  return { code, stdout: proc.stdout, stderr: proc.stderr };
}

/** Kills every CLI process a test left running (afterEach). */
export async function killAllCli(): Promise<void> {
  const left = [...running];
  for (const proc of left) proc.kill();
  await Promise.all(left.map((p) => p.exited));
}

/** Polls a condition until it holds or the deadline passes. */
export async function waitUntil(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
