import { afterEach, describe, expect, it } from "vitest";
import { killAllCli, runCli } from "./helpers/cli-process.js";
import { startServe } from "./helpers/serve.js";

afterEach(killAllCli);

describe("serve and two non-TTY connect clients", () => {
  it("chat, hear the operator's console, and /kick ends a client with exit 9", async () => {
    const { serve, port } = await startServe();
    expect(serve.stdout).toMatch(/Join with any of:/);
    expect(serve.stdout).toMatch(new RegExp(`nc 127\\.0\\.0\\.1 ${port}`));

    const alice = runCli(["connect", `127.0.0.1:${port}`, "--nick", "alice"]);
    const bob = runCli(["connect", `127.0.0.1:${port}`, "--nick", "bob"]);
    await alice.waitForStderr(/connected to 127\.0\.0\.1:\d+ .*you are alice in #lobby/);
    await bob.waitForStderr(/you are bob in #lobby/);

    alice.write("hello bob, 안녕하세요\n");
    await bob.waitForStdout(/^#lobby <alice> hello bob, 안녕하세요$/m);
    // The console shows every room's traffic, timestamped.
    await serve.waitForStdout(/^\d\d:\d\d:\d\d #lobby <alice> hello bob, 안녕하세요$/m);

    serve.write("welcome, both of you\n");
    await alice.waitForStdout(/^#lobby <operator> welcome, both of you$/m);
    await bob.waitForStdout(/^#lobby <operator> welcome, both of you$/m);

    serve.write("/kick bob too noisy\n");
    expect(await bob.waitExit()).toBe(9);
    expect(bob.stderr).toMatch(/CHAT_ERR_KICKED: too noisy/);
    await serve.waitForStdout(/\*\*\* kicked bob/);
    await alice.waitForStdout(/#lobby <-- bob left/);

    // End of stdin: alice waits for her acks, then quits cleanly.
    alice.write("bye\n");
    alice.endInput();
    expect(await alice.waitExit()).toBe(0);
    await serve.waitForStdout(/#lobby <alice> bye/);
  });

  it("keeps serving after the console's stdin ends, and shuts down gracefully on SIGINT", async () => {
    const { serve, port } = await startServe(["--log-format", "json"]);
    serve.endInput();
    await serve.waitForStderr(/"event":"console".*keeps running/);

    const carol = runCli(["connect", `127.0.0.1:${port}`, "--nick", "carol"]);
    await carol.waitForStderr(/you are carol/);
    await serve.waitForStderr(/"event":"session-open"/);
    // Every stderr line is one JSON object.
    for (const line of serve.stderr.trim().split("\n"))
      expect(() => JSON.parse(line)).not.toThrow();

    serve.signal("SIGINT");
    expect(await carol.waitExit()).toBe(9);
    expect(carol.stderr).toMatch(/CHAT_ERR_SERVER_SHUTDOWN/);
    expect(await serve.waitExit()).toBe(0);
    expect(serve.stderr).toMatch(/"event":"closed"/);
  });

  it("console commands: /who, /rooms, /stats, /ban with --kick, /bans, /unban", async () => {
    const { serve, port } = await startServe();
    const dave = runCli(["connect", `127.0.0.1:${port}`, "--nick", "dave", "--room", "ops"]);
    await dave.waitForStderr(/you are dave in #ops/);
    serve.write("/who ops\n");
    await serve.waitForStdout(
      /\*\*\* 1 client in #ops\n\*\*\* {3}nick {2}session {2}address .*\n\*\*\* {3}dave {2}s\d+ {4,}127\.0\.0\.1:\d+/,
    );
    serve.write("/rooms\n");
    await serve.waitForStdout(/\*\*\* rooms: #ops \(1\)/);
    dave.write("one\n");
    await dave.waitForStdout(/<dave> one/);
    serve.write("/stats\n");
    await serve.waitForStdout(/\*\*\* messages 1 \(/);
    expect(serve.stdout).toMatch(/connections 1 \(peak 1, opened 1\)/);

    serve.write("/ban 127.0.0.0/8 10m --kick testing bans\n");
    await serve.waitForStdout(/\*\*\* banned 127\.0\.0\.0\/8 for 10m00s; disconnected 1 client/);
    expect(await dave.waitExit()).toBe(9);
    expect(dave.stderr).toMatch(/CHAT_ERR_BANNED/);

    const refused = runCli(["connect", `127.0.0.1:${port}`]);
    expect(await refused.waitExit()).toBe(5);
    expect(refused.stderr).toMatch(/CHAT_ERR_REFUSED_BANNED/);
    await serve.waitForStderr(/refused 127\.0\.0\.1/);

    serve.write("/bans\n");
    await serve.waitForStdout(
      /\*\*\* 127\.0\.0\.0\/8 {2}\d+m\d+s left {2}by operator {2}\(testing bans\)/,
    );
    serve.write("/unban 127.0.0.0/8\n");
    await serve.waitForStdout(/\*\*\* unbanned 127\.0\.0\.0\/8/);
    const back = runCli(["connect", `127.0.0.1:${port}`, "--nick", "dave"]);
    await back.waitForStderr(/you are dave/);
    back.endInput();
    expect(await back.waitExit()).toBe(0);
  });
});
