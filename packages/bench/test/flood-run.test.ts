import { spawn, spawnSync } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";

const packageDir = fileURLToPath(new URL("..", import.meta.url));
const repoRoot = fileURLToPath(new URL("../../..", import.meta.url));

beforeAll(() => {
  const built = spawnSync(
    join(repoRoot, "node_modules/.bin/turbo"),
    ["run", "build", "--filter=@tcpchat/bench...", "--output-logs=errors-only"],
    { cwd: repoRoot, encoding: "utf8", env: { ...process.env, TURBO_TELEMETRY_DISABLED: "1" } },
  );
  if (built.status !== 0) throw new Error(`build failed:\n${built.stdout}\n${built.stderr}`);
});

describe("flood run", () => {
  it("every connection from the denied address gets its reason line; accepted clients keep chatting", async () => {
    const { code, stdout } = await new Promise<{ code: number | null; stdout: string }>(
      (resolve) => {
        const child = spawn(
          process.execPath,
          ["dist/flood.js", "--rate", "300", "--seconds", "1"],
          {
            cwd: packageDir,
          },
        );
        let out = "";
        child.stdout.on("data", (d) => {
          out += d;
        });
        child.on("exit", (exit) => resolve({ code: exit, stdout: out }));
      },
    );
    expect(code).toBe(0);
    const report = JSON.parse(stdout);
    expect(report.flood.attempts).toBeGreaterThan(50);
    expect(report.flood.refusalLines).toBe(report.flood.attempts);
    expect(report.server.refusedByCode).toEqual({ CHAT_ERR_REFUSED_DENIED: report.flood.attempts });
    expect(report.server.sessionsOpen).toBe(2);
    expect(report.chat.received).toBeGreaterThanOrEqual(report.chat.sent - 1);
    expect(report.chat.sent).toBeGreaterThan(5);
  });
});
