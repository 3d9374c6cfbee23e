import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { killAllCli, runCli } from "./helpers/cli-process.js";
import { startServe } from "./helpers/serve.js";

const dirs: string[] = [];
afterEach(async () => {
  await killAllCli();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** Connects from a given loopback address and returns the first line the server sends. */
function firstLineFrom(localAddress: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port, localAddress });
    let text = "";
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      text += chunk;
      const lf = text.indexOf("\n");
      if (lf !== -1) {
        socket.destroy();
        resolve(text.slice(0, lf));
      }
    });
    socket.on("error", reject);
    socket.setTimeout(5000, () => {
      socket.destroy();
      reject(new Error("no line within 5 s"));
    });
  });
}

describe("serve with an accept policy", () => {
  it("reloads --policy FILE when it changes and on SIGHUP; a bad file keeps the old policy", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tcpchat-serve-policy-"));
    dirs.push(dir);
    const file = join(dir, "policy.toml");
    writeFileSync(file, 'deny = ["127.0.0.3"]\n');
    const { serve, port } = await startServe(["--policy", file]);
    expect(await firstLineFrom("127.0.0.2", port)).toMatch(/^\*\*\* tcpchat\/1 /);
    expect(await firstLineFrom("127.0.0.3", port)).toMatch(/^!!! CHAT_ERR_REFUSED_DENIED: /);

    writeFileSync(file, 'deny = ["127.0.0.2"]\n');
    await serve.waitForStderr(/file changed: policy reloaded from .*deny 127\.0\.0\.2/);
    expect(await firstLineFrom("127.0.0.2", port)).toMatch(/^!!! CHAT_ERR_REFUSED_DENIED: /);

    writeFileSync(file, 'deny = ["127.0.0.300"]\n');
    await serve.waitForStderr(/kept the previous policy: .*deny\[0\]/);
    expect(await firstLineFrom("127.0.0.2", port)).toMatch(/^!!! CHAT_ERR_REFUSED_DENIED: /);

    serve.signal("SIGHUP");
    await serve.waitForStderr(/SIGHUP: kept the previous policy/);
    writeFileSync(file, "maxConnections = 100\n");
    await serve.waitForStderr(/policy reloaded from .*max-connections 100/);
    expect(await firstLineFrom("127.0.0.2", port)).toMatch(/^\*\*\* tcpchat\/1 /);
  });

  it("--max-connections refuses the client past the limit with exit 5", async () => {
    const { serve, port } = await startServe(["--max-connections", "1"]);
    const first = runCli(["connect", `127.0.0.1:${port}`, "--nick", "first"]);
    await first.waitForStderr(/you are first/);
    const second = runCli(["connect", `127.0.0.1:${port}`]);
    expect(await second.waitExit()).toBe(5);
    expect(second.stderr).toMatch(/CHAT_ERR_REFUSED_SERVER_FULL/);
    await serve.waitForStderr(/CHAT_ERR_REFUSED_SERVER_FULL/);
  });

  it("a bad --allow value is a usage error", async () => {
    const serve = runCli(["serve", "--port", "0", "--allow", "10.0.0.0/33"]);
    expect(await serve.waitExit()).toBe(2);
    expect(serve.stderr).toMatch(/^tcpchat: .*allow\[0\]/);
  });
});
