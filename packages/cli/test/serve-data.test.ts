import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { killAllCli, runCli } from "./helpers/cli-process.js";
import { cleanUpLineClients, lineClient, tempDir } from "./helpers/line-client.js";
import { startServe, stopServe } from "./helpers/serve.js";

afterEach(async () => {
  await killAllCli();
  cleanUpLineClients();
});

describe("serve --data", () => {
  it("keeps history and bans across a restart on the same directory", async () => {
    const data = join(tempDir("serve-data"), "chat");
    const first = await startServe(["--data", data]);
    expect(first.serve.stdout).toContain(`data:      SQLite 3.`);
    expect(first.serve.stdout).toContain(join(data, "tcpchat.db"));
    const alice = lineClient(first.port);
    await alice.waitFor(/you are (\S+) in/);
    alice.send("/nick alice");
    alice.send("remember this");
    alice.send("and this, 안녕");
    await alice.waitFor(/<alice> and this, 안녕$/);
    first.serve.write("/ban 127.0.0.9 spammer\n");
    await first.serve.waitForStdout(/banned 127\.0\.0\.9/);
    await stopServe(first.serve);

    const second = await startServe(["--data", data]);
    await second.serve.waitForStderr(/restoredBans=1/);
    const bob = lineClient(second.port);
    const line = await bob.waitFor(/\[history [^\]]+\] <alice> and this, 안녕$/);
    expect(line).toMatch(/^#lobby \[history \d\d-\d\d \d\d:\d\dZ\] <alice> and this, 안녕$/);
    expect(bob.lines().filter((l) => l.includes("[history"))).toHaveLength(2);
    const banned = lineClient(second.port, "127.0.0.9");
    await banned.waitFor(/^!!! CHAT_ERR_REFUSED_BANNED: .*spammer/);
    // Lifting it is stored too: the third run lets the address in.
    second.serve.write("/unban 127.0.0.9\n");
    await second.serve.waitForStdout(/unbanned 127\.0\.0\.9/);
    await stopServe(second.serve);
    const third = await startServe(["--data", data]);
    await third.serve.waitForStderr(/restoredBans=0/);
    const back = lineClient(third.port, "127.0.0.9");
    await back.waitFor(/^\*\*\* tcpchat\/1 /);
    await stopServe(third.serve);
  });

  it("an automatic connect-rate ban survives a restart too", async () => {
    const data = tempDir("serve-data");
    const first = await startServe(["--data", data, "--connect-rate", "1/s"]);
    // Connect again and again from one address until the rule bans it (bounded).
    let refusal = "";
    for (let i = 0; i < 40 && !refusal.includes("CHAT_ERR_REFUSED_BANNED"); i++) {
      const client = lineClient(first.port, "127.0.0.5");
      refusal = await client.waitFor(/^(\*\*\* tcpchat|!!! CHAT_ERR_REFUSED)/);
    }
    expect(refusal).toMatch(/^!!! CHAT_ERR_REFUSED_BANNED: /);
    await stopServe(first.serve);
    const second = await startServe(["--data", data]);
    await second.serve.waitForStderr(/restoredBans=1/);
    const again = lineClient(second.port, "127.0.0.5");
    await again.waitFor(/^!!! CHAT_ERR_REFUSED_BANNED: .*connecting too often/);
    await stopServe(second.serve);
  });

  it("tcpchat account op makes a registered account an operator who may /kick", async () => {
    const data = tempDir("serve-data");
    const first = await startServe(["--data", data]);
    const alice = lineClient(first.port);
    await alice.waitFor(/you are \S+ in/);
    alice.send("/nick alice");
    alice.send("/register correct-horse");
    await alice.waitFor(/^\*\*\* registered alice/);
    // The running server holds the directory.
    const locked = runCli(["account", "op", "alice", "--data", data]);
    expect(await locked.waitExit()).toBe(1);
    expect(locked.stderr).toMatch(/CHAT_ERR_STORE_LOCKED/);
    await stopServe(first.serve);

    const missing = runCli(["account", "op", "nobody", "--data", data]);
    expect(await missing.waitExit()).toBe(1);
    expect(missing.stderr).toMatch(/there is no account nobody/);
    const op = runCli(["account", "op", "alice", "--data", data]);
    expect(await op.waitExit()).toBe(0);
    expect(op.stdout).toMatch(/alice is an operator/);

    const second = await startServe(["--data", data]);
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
    await stopServe(second.serve);
  });

  it("a second server on the same directory stops at start with CHAT_ERR_STORE_LOCKED", async () => {
    const data = tempDir("serve-data");
    const first = await startServe(["--data", data]);
    const second = runCli(["serve", "--port", "0", "--host", "127.0.0.1", "--data", data]);
    expect(await second.waitExit()).toBe(1);
    expect(second.stderr).toMatch(/^tcpchat: CHAT_ERR_STORE_LOCKED: /m);
    expect(second.stderr).toMatch(/hint: Stop the other tcpchat server on this directory/);
    await stopServe(first.serve);
  });

  it("a damaged database stops the server at start with CHAT_ERR_STORE_CORRUPT", async () => {
    const data = tempDir("serve-data");
    writeFileSync(join(data, "tcpchat.db"), "this is not a database, just text ".repeat(200));
    const proc = runCli(["serve", "--port", "0", "--host", "127.0.0.1", "--data", data]);
    expect(await proc.waitExit()).toBe(1);
    expect(proc.stderr).toMatch(/CHAT_ERR_STORE_CORRUPT: .*tcpchat\.db/);
    expect(proc.stderr).toMatch(/hint: Move the file aside/);
  });

  it("defaults to $XDG_DATA_HOME/tcpchat, and --data :memory: keeps nothing", async () => {
    const home = tempDir("serve-data");
    const byDefault = await startServe([], { TCPCHAT_DATA: "", XDG_DATA_HOME: home });
    expect(byDefault.serve.stdout).toContain(join(home, "tcpchat", "tcpchat.db"));
    await stopServe(byDefault.serve);
    mkdirSync(join(home, "unused"));
    const memory = await startServe(["--data", ":memory:"], {
      XDG_DATA_HOME: join(home, "unused"),
    });
    expect(memory.serve.stdout).toMatch(/data: +SQLite [\d.]+ in memory \(nothing is kept\)/);
    await stopServe(memory.serve);
  });
});
