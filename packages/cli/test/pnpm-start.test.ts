import { type ChildProcess, spawn } from "node:child_process";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { createServer } from "@tcpchat/core";
import { afterEach, describe, expect, it } from "vitest";
import { waitUntil } from "./helpers/cli-process.js";

// The README's commands, run as a user types them: through pnpm and the start script, from the
// repository root. Whatever a user pipes must hold only the program's own output.
const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

/** Runs a shell command line in the repository root; resolves its exit code and both streams. */
function shell(
  commandLine: string,
  timeoutMs = 60_000,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolveRun, reject) => {
    const child = spawn("sh", ["-c", commandLine], {
      cwd: REPO_ROOT,
      env: { ...process.env, NO_COLOR: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (text: string) => (stdout += text));
    child.stderr.setEncoding("utf8").on("data", (text: string) => (stderr += text));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${commandLine} did not end within ${timeoutMs} ms\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolveRun({ code: code ?? -1, stdout, stderr });
    });
  });
}

describe("the README's pnpm commands", () => {
  it('echo "build done" | pnpm --filter cli start connect HOST --nick ci: stdout is the chat line only', async () => {
    const server = createServer();
    const { port } = await server.listen(0, "127.0.0.1");
    cleanups.push(() => server.close({ graceMs: 0 }));

    const { code, stdout, stderr } = await shell(
      `echo "build done" | pnpm --filter cli start connect 127.0.0.1:${port} --nick ci | cat`,
    );
    expect(code).toBe(0);
    // Only the program's chat lines (the server may announce the join first): no blank line and
    // "> @tcpchat/cli start" header from pnpm, no turbo banner.
    expect(stdout).toMatch(/^(#lobby [^\n]*\n)*#lobby <ci> build done\n$/);
    expect(stderr).not.toMatch(/turbo|Tasks:|FULL TURBO/);
    expect(stderr).toMatch(/connected to 127\.0\.0\.1:\d+ .*you are ci in #lobby/);
  });

  it("pnpm --filter cli start (serve): stdout opens with the banner, whose join command works as typed", async () => {
    const serve: ChildProcess = spawn(
      "sh",
      ["-c", "pnpm --filter cli start serve --port 0 --host 127.0.0.1 --no-console"],
      { cwd: REPO_ROOT, detached: true, stdio: ["ignore", "pipe", "pipe"] },
    );
    let stdout = "";
    serve.stdout?.setEncoding("utf8").on("data", (text: string) => (stdout += text));
    const ended = new Promise<void>((resolveEnd) => serve.on("close", () => resolveEnd()));
    cleanups.push(async () => {
      // The shell, pnpm, the start script and the server share the process group started here.
      if (serve.exitCode === null && serve.pid !== undefined) process.kill(-serve.pid, "SIGTERM");
      await ended;
    });
    await waitUntil(
      () => /Join with any of:[\s\S]*stops the server\./.test(stdout),
      "the banner",
      60_000,
    );
    expect(stdout).toMatch(/^tcpchat \S+ listening on 127\.0\.0\.1:\d+\n/);
    // --no-console: the banner does not invite typing into a console that is not there.
    expect(stdout).toMatch(/^Ctrl\+C stops the server\.$/m);
    expect(stdout).not.toMatch(/Type to chat/);
    const join = /^ {2}(pnpm --filter cli start connect 127\.0\.0\.1:\d+) +line client$/m.exec(
      stdout,
    );
    expect(join, stdout).not.toBeNull();
    expect(stdout).not.toMatch(/^ {2}tcpchat connect/m);
    expect(stdout).toMatch(/^ {2}pnpm --filter tui start 127\.0\.0\.1:\d+ +full-screen client$/m);

    // The suggested command, typed as printed, joins the server.
    const joined = await shell(`echo "hello from the banner" | ${join?.[1]} --nick banner`);
    expect(joined.code).toBe(0);
    // Only chat lines (the server may announce the join first), the message among them.
    expect(joined.stdout).toMatch(/^(#lobby [^\n]*\n)*#lobby <banner> hello from the banner\n$/);
  });
});
