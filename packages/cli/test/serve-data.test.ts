import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type CliProcess, killAllCli, runCli, waitUntil } from "./helpers/cli-process.js";

const dirs: string[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await killAllCli();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "tcpchat-serve-data-"));
  dirs.push(dir);
  return dir;
}

/** `tcpchat serve` on 127.0.0.1, a free port, with `args`; resolves once it listens. */
async function serve(
  args: string[],
  env?: NodeJS.ProcessEnv,
): Promise<{ proc: CliProcess; port: number }> {
  const proc = runCli(["serve", "--port", "0", "--host", "127.0.0.1", ...args], env);
  const match = await proc.waitForStderr(/listening on 127\.0\.0\.1:(\d+)/);
  return { proc, port: Number(match[1]) };
}

/** A raw line client (what nc is), from `localAddress`. */
function lineClient(port: number, localAddress = "127.0.0.1") {
  const socket = connect({ host: "127.0.0.1", port, localAddress });
  sockets.push(socket);
  let text = "";
  socket.setEncoding("utf8");
  socket.on("data", (chunk: string) => (text += chunk));
  socket.on("error", () => {});
  return {
    send: (line: string) => socket.write(`${line}\n`),
    lines: () => text.split("\n"),
    waitFor: async (pattern: RegExp) => {
      const find = () => text.split("\n").find((line) => pattern.test(line));
      await waitUntil(() => find() !== undefined, `a line matching ${pattern}`).catch(
        (error: Error) => {
          throw new Error(`${error.message}; got:\n${text}`);
        },
      );
      return find()!;
    },
  };
}

async function stop(proc: CliProcess): Promise<void> {
  proc.signal("SIGTERM");
  expect(await proc.waitExit()).toBe(0);
}

describe("serve --data", () => {
  it("keeps history and bans across a restart on the same directory", async () => {
    const data = join(tempDir(), "chat");
    const first = await serve(["--data", data]);
    expect(first.proc.stdout).toContain(`data:      SQLite 3.`);
    expect(first.proc.stdout).toContain(join(data, "tcpchat.db"));
    const alice = lineClient(first.port);
    await alice.waitFor(/you are (\S+) in/);
    alice.send("/nick alice");
    alice.send("remember this");
    alice.send("and this, 안녕");
    await alice.waitFor(/<alice> and this, 안녕$/);
    first.proc.write("/ban 127.0.0.9 spammer\n");
    await first.proc.waitForStdout(/banned 127\.0\.0\.9/);
    await stop(first.proc);

    const second = await serve(["--data", data]);
    await second.proc.waitForStderr(/restoredBans=1/);
    const bob = lineClient(second.port);
    const line = await bob.waitFor(/\[history [^\]]+\] <alice> and this, 안녕$/);
    expect(line).toMatch(/^#lobby \[history \d\d-\d\d \d\d:\d\dZ\] <alice> and this, 안녕$/);
    expect(bob.lines().filter((l) => l.includes("[history"))).toHaveLength(2);
    const banned = lineClient(second.port, "127.0.0.9");
    await banned.waitFor(/^!!! CHAT_ERR_REFUSED_BANNED: .*spammer/);
    // Lifting it is stored too: the third run lets the address in.
    second.proc.write("/unban 127.0.0.9\n");
    await second.proc.waitForStdout(/unbanned 127\.0\.0\.9/);
    await stop(second.proc);
    const third = await serve(["--data", data]);
    await third.proc.waitForStderr(/restoredBans=0/);
    const back = lineClient(third.port, "127.0.0.9");
    await back.waitFor(/^\*\*\* tcpchat\/1 /);
    await stop(third.proc);
  });

  it("an automatic connect-rate ban survives a restart too", async () => {
    const data = tempDir();
    const first = await serve(["--data", data, "--connect-rate", "1/s"]);
    // Connect again and again from one address until the rule bans it (bounded).
    let refusal = "";
    for (let i = 0; i < 40 && !refusal.includes("CHAT_ERR_REFUSED_BANNED"); i++) {
      const client = lineClient(first.port, "127.0.0.5");
      refusal = await client.waitFor(/^(\*\*\* tcpchat|!!! CHAT_ERR_REFUSED)/);
    }
    expect(refusal).toMatch(/^!!! CHAT_ERR_REFUSED_BANNED: /);
    await stop(first.proc);
    const second = await serve(["--data", data]);
    await second.proc.waitForStderr(/restoredBans=1/);
    const again = lineClient(second.port, "127.0.0.5");
    await again.waitFor(/^!!! CHAT_ERR_REFUSED_BANNED: .*connecting too often/);
    await stop(second.proc);
  });

  it("tcpchat account op makes a registered account an operator who may /kick", async () => {
    const data = tempDir();
    const first = await serve(["--data", data]);
    const alice = lineClient(first.port);
    await alice.waitFor(/you are \S+ in/);
    alice.send("/nick alice");
    alice.send("/register correct-horse");
    await alice.waitFor(/^\*\*\* registered alice/);
    // The running server holds the directory.
    const locked = runCli(["account", "op", "alice", "--data", data]);
    expect(await locked.waitExit()).toBe(1);
    expect(locked.stderr).toMatch(/CHAT_ERR_STORE_LOCKED/);
    await stop(first.proc);

    const missing = runCli(["account", "op", "nobody", "--data", data]);
    expect(await missing.waitExit()).toBe(1);
    expect(missing.stderr).toMatch(/there is no account nobody/);
    const op = runCli(["account", "op", "alice", "--data", data]);
    expect(await op.waitExit()).toBe(0);
    expect(op.stdout).toMatch(/alice is an operator/);

    const second = await serve(["--data", data]);
    const admin = lineClient(second.port);
    await admin.waitFor(/you are \S+ in/);
    admin.send("/login alice correct-horse");
    await admin.waitFor(/^\*\*\* logged in as alice$/);
    const bob = lineClient(second.port);
    await bob.waitFor(/you are \S+ in/);
    bob.send("/nick bob");
    await bob.waitFor(/known as bob$/);
    admin.send("/kick bob enough");
    await bob.waitFor(/^!!! CHAT_ERR_KICKED: kicked by alice: enough/);
    await stop(second.proc);
  });

  it("a second server on the same directory stops at start with CHAT_ERR_STORE_LOCKED", async () => {
    const data = tempDir();
    const first = await serve(["--data", data]);
    const second = runCli(["serve", "--port", "0", "--host", "127.0.0.1", "--data", data]);
    expect(await second.waitExit()).toBe(1);
    expect(second.stderr).toMatch(/^tcpchat: CHAT_ERR_STORE_LOCKED: /m);
    expect(second.stderr).toMatch(/hint: Stop the other tcpchat server on this directory/);
    await stop(first.proc);
  });

  it("a damaged database stops the server at start with CHAT_ERR_STORE_CORRUPT", async () => {
    const data = tempDir();
    writeFileSync(join(data, "tcpchat.db"), "this is not a database, just text ".repeat(200));
    const proc = runCli(["serve", "--port", "0", "--host", "127.0.0.1", "--data", data]);
    expect(await proc.waitExit()).toBe(1);
    expect(proc.stderr).toMatch(/CHAT_ERR_STORE_CORRUPT: .*tcpchat\.db/);
    expect(proc.stderr).toMatch(/hint: Move the file aside/);
  });

  it("defaults to $XDG_DATA_HOME/tcpchat, and --data :memory: keeps nothing", async () => {
    const home = tempDir();
    const byDefault = await serve([], { TCPCHAT_DATA: "", XDG_DATA_HOME: home });
    expect(byDefault.proc.stdout).toContain(join(home, "tcpchat", "tcpchat.db"));
    await stop(byDefault.proc);
    mkdirSync(join(home, "unused"));
    const memory = await serve(["--data", ":memory:"], { XDG_DATA_HOME: join(home, "unused") });
    expect(memory.proc.stdout).toMatch(/data: +SQLite [\d.]+ in memory \(nothing is kept\)/);
    await stop(memory.proc);
  });
});
