import { afterEach, describe, expect, it } from "vitest";
import { killAllCli, runCli } from "./helpers/cli-process.js";
import { startServe } from "./helpers/serve.js";

afterEach(killAllCli);

describe("connect with history and accounts", () => {
  it("shows history marked on join, answers /history and /search, and warns before a clear-text password", async () => {
    const { port } = await startServe(["--history-on-join", "2"]);
    const alice = runCli(["connect", `127.0.0.1:${port}`, "--nick", "alice"]);
    await alice.waitForStderr(/you are alice in #lobby/);
    alice.write("first\nthe deploy failed\n점심 먹자\n");
    await alice.waitForStdout(/^#lobby <alice> 점심 먹자$/m);

    const bob = runCli(["connect", `127.0.0.1:${port}`, "--nick", "bob"]);
    await bob.waitForStdout(/^#lobby \[history \d\d-\d\d \d\d:\d\dZ\] <alice> 점심 먹자$/m);
    expect(bob.stdout).toMatch(/^#lobby \[history [^\]]+\] <alice> the deploy failed$/m);
    expect(bob.stdout).not.toMatch(/<alice> first$/m);

    bob.write("/history 5\n");
    await bob.waitForStdout(/\] <alice> first$/m);
    bob.write("/search deploy\n");
    await bob.waitForStdout(/(\[history [^\]]+\] <alice> the deploy failed\n[\s\S]*){2}/);

    bob.write("/register correct-horse\n");
    await bob.waitForStderr(/warning: this connection is not encrypted.*--tls/);
    await bob.waitForStderr(/registered bob: only you can use it now/);
    bob.endInput();
    expect(await bob.waitExit()).toBe(0);

    alice.write("/nick bob\n");
    await alice.waitForStderr(/CHAT_ERR_NICK_REGISTERED/);
    alice.write("/login bob correct-horse\n");
    await alice.waitForStderr(/logged in as bob/);
    alice.endInput();
    expect(await alice.waitExit()).toBe(0);
  });
});
