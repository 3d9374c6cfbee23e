import { createServer } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { killAllCli, runCliToEnd } from "./helpers/cli-process.js";

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  await killAllCli();
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

describe("serve on a port that is already in use", () => {
  it("explains what holds the port and exits with its own code, 10, not a raw EADDRINUSE", async () => {
    // This test process holds the port, so the error can name it by pid.
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, "127.0.0.1", resolve));
    cleanups.push(() => new Promise((resolve) => holder.close(() => resolve())));
    const { port } = holder.address() as { port: number };

    const { code, stdout, stderr } = await runCliToEnd([
      "serve",
      "--port",
      String(port),
      "--host",
      "127.0.0.1",
    ]);
    expect(code).toBe(10);
    expect(stdout).toBe("");
    expect(stderr).toBe(
      [
        `tcpchat: 127.0.0.1:${port} is already in use: it is held by pid ${process.pid} (${stderr.match(/\(([^)]*)\)\./)?.[1]}).`,
        "  hint: Pick another port with --port (--port 0 picks a free one), or stop that program.",
        "",
      ].join("\n"),
    );
    expect(stderr).toMatch(new RegExp(`pid ${process.pid} \\(\\S*node`));
    expect(stderr).not.toMatch(/EADDRINUSE|server-error/);
  });
});
