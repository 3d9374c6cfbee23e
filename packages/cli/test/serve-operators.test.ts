import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { killAllCli, runCli } from "./helpers/cli-process.js";
import {
  ask,
  cleanUpLineClients,
  lineClient,
  namedClient,
  registeredClient,
  tempDir,
} from "./helpers/line-client.js";
import { startServe, stopServe } from "./helpers/serve.js";

afterEach(async () => {
  await killAllCli();
  cleanUpLineClients();
});

/**
 * A server with a data directory and an operators file holding `list`: the server, the file
 * (to rewrite) and the arguments it was started with (to start it again on the same files).
 */
async function serveWithOperators(list: string) {
  const dir = tempDir("serve-operators");
  const operators = join(dir, "operators.txt");
  writeFileSync(operators, list);
  const args = ["--no-console", "--data", join(dir, "data"), "--operators", operators];
  return { server: await startServe(args), operators, args };
}

describe("serve --operators", () => {
  it("an operator from the file bans and sets a topic from a client; both are back after a restart", async () => {
    const { server: first, args } = await serveWithOperators(
      "# who may /kick, /ban and /topic\nalice\n",
    );
    // Nobody has registered alice yet: the log says that whoever does becomes an operator.
    await first.serve.waitForStderr(/alice is in .*operators\.txt but not registered yet/);
    const alice = await registeredClient(first.port, "alice", "correct-horse", { login: true });
    await ask(alice, "/topic welcome, read the rules", /^\*\*\* topic of #lobby: welcome/);
    const spammer = await namedClient(first.port, "spammer", "127.0.0.9");
    expect(await ask(alice, "/ban spammer 1d flooding", /^\*\*\* banned /)).toBe(
      "*** banned 127.0.0.9 (spammer) for 1d; disconnected 1",
    );
    await spammer.waitFor(/^!!! CHAT_ERR_KICKED: banned by alice: flooding/);
    await stopServe(first.serve);

    const second = await startServe(args);
    await second.serve.waitForStderr(/restoredBans=1/);
    const bob = lineClient(second.port);
    const topic = await bob.waitFor(/^\*\*\* topic of #lobby/);
    expect(topic).toMatch(
      /^\*\*\* topic of #lobby: welcome, read the rules \(set by alice \d\d-\d\d \d\d:\d\dZ\)$/,
    );
    const refused = lineClient(second.port, "127.0.0.9");
    await refused.waitFor(/^!!! CHAT_ERR_REFUSED_BANNED: .*banned by alice: flooding/);
    await stopServe(second.serve);
  });

  it("SIGHUP re-reads the file: a name taken out loses its rights at once; a bad file keeps the list", async () => {
    const { server, operators } = await serveWithOperators("alice\n");
    const alice = await registeredClient(server.port, "alice", "correct-horse", { login: true });
    await ask(alice, "/topic first", /^\*\*\* topic of #lobby: first/);

    writeFileSync(operators, "alice\nnot a name\n");
    server.serve.signal("SIGHUP");
    await server.serve.waitForStderr(/SIGHUP: kept the previous operators: .*line 2: "not a name"/);
    await ask(alice, "/topic second", /^\*\*\* topic of #lobby: second/);

    writeFileSync(operators, "# nobody\n");
    server.serve.signal("SIGHUP");
    await server.serve.waitForStderr(/SIGHUP: 0 operator accounts from/);
    expect(await ask(alice, "/topic third", /^!!! /)).toMatch(/^!!! CHAT_ERR_NOT_PERMITTED: /);
    await stopServe(server.serve);
  });

  it("a bad operators file stops the server at start with CHAT_ERR_OPERATORS_FILE", async () => {
    const dir = tempDir("serve-operators");
    const operators = join(dir, "operators.txt");
    writeFileSync(operators, "alice\n\nbob smith  # two words\n");
    const bad = runCli(["serve", "--port", "0", "--data", ":memory:", "--operators", operators]);
    expect(await bad.waitExit()).toBe(2);
    expect(bad.stderr).toMatch(
      /^tcpchat: CHAT_ERR_OPERATORS_FILE: .*operators\.txt: line 3: "bob smith" is not an account name/m,
    );
    expect(bad.stderr).toMatch(/hint: Write one account name per line/);
    const missing = runCli([
      "serve",
      "--port",
      "0",
      "--data",
      ":memory:",
      "--operators",
      join(dir, "none"),
    ]);
    expect(await missing.waitExit()).toBe(2);
    expect(missing.stderr).toMatch(/CHAT_ERR_OPERATORS_FILE: .*none: no such file/);
    const grace = runCli(["serve", "--port", "0", "--data", ":memory:", "--login-grace", "soon"]);
    expect(await grace.waitExit()).toBe(2);
    expect(grace.stderr).toMatch(/--login-grace must look like 90s/);
  });
});

describe("serve --login-grace", () => {
  it("renames a client that brought a registered nick in its hello and did not log in", async () => {
    const dir = tempDir("serve-operators");
    const server = await startServe([
      "--no-console",
      "--data",
      join(dir, "data"),
      "--login-grace",
      "1s",
    ]);
    const alice = await registeredClient(server.port, "alice", "correct-horse");
    alice.send("/quit");
    const impostor = lineClient(server.port);
    await impostor.waitFor(/^\*\*\* tcpchat\/1 /);
    impostor.send(JSON.stringify({ type: "hello", proto: 1, nick: "alice" }));
    await impostor.waitFor(/"type":"welcome".*"nick":"alice"/);
    await impostor.waitFor(/"text":"alice is registered: log in within 1 s/);
    await impostor.waitFor(
      /"text":"alice is registered and you did not log in to it within 1 s; you are now guest-[0-9a-f]{6}"/,
    );
    await stopServe(server.serve);
  });
});

describe("connect as an operator", () => {
  it("brings a registered nick, logs in within the grace period, shows and sets the topic, bans", async () => {
    const { server } = await serveWithOperators("alice\n");
    const setup = await registeredClient(server.port, "alice", "correct-horse");
    setup.send("/quit");
    const guest = await namedClient(server.port, "visitor", "127.0.0.7");

    const alice = runCli(["connect", `127.0.0.1:${server.port}`, "--nick", "alice"]);
    await alice.waitForStderr(/you are alice in #lobby/);
    await alice.waitForStderr(/alice is registered: log in within 30 s/);
    alice.write("/topic\n");
    await alice.waitForStdout(/^\*\*\* #lobby has no topic$/m);
    alice.write("/topic be kind\n");
    await alice.waitForStderr(/CHAT_ERR_NOT_PERMITTED/);
    alice.write("/login alice correct-horse\n");
    await alice.waitForStderr(/logged in as alice/);
    alice.write("/topic be kind\n");
    await alice.waitForStdout(/^\*\*\* topic of #lobby: be kind \(set by alice [^)]+\)$/m);
    await guest.waitFor(/^\*\*\* topic of #lobby: be kind \(set by alice/);
    alice.write("/ban visitor 15m\n");
    await alice.waitForStderr(/banned 127\.0\.0\.7 \(visitor\) for 15m; disconnected 1/);
    await guest.waitFor(/^!!! CHAT_ERR_KICKED: banned by alice/);
    alice.write("/unban 127.0.0.7\n");
    await alice.waitForStderr(/unbanned 127\.0\.0\.7/);
    alice.endInput();
    expect(await alice.waitExit()).toBe(0);
    await stopServe(server.serve);
  });
});

describe("the console's /topic", () => {
  it("sets, shows and clears a room's topic; clients in the room hear it", async () => {
    const dir = tempDir("serve-operators");
    const proc = runCli(["serve", "--port", "0", "--host", "127.0.0.1", "--data", join(dir, "d")]);
    const match = await proc.waitForStderr(/listening on 127\.0\.0\.1:(\d+)/);
    const client = lineClient(Number(match[1]));
    await client.waitFor(/you are \S+ in/);
    proc.write("/topic #lobby read the rules\n");
    await proc.waitForStdout(/\*\*\* topic of #lobby set/);
    await client.waitFor(/^\*\*\* topic of #lobby: read the rules \(set by operator /);
    proc.write("/topic lobby\n");
    await proc.waitForStdout(/\*\*\* topic of #lobby: read the rules \(set by operator\)/);
    proc.write(`/topic #lobby ${"x".repeat(301)}\n`);
    await proc.waitForStdout(/!!! A topic is one line of at most 300 characters/);
    proc.write("/topic #lobby --clear\n");
    await client.waitFor(/^\*\*\* #lobby has no topic$/);
    await stopServe(proc);
  });
});

describe("the console's /unban", () => {
  it("lifts the stored ban under any spelling of its address, so a restart does not bring it back", async () => {
    const dir = tempDir("serve-operators");
    const data = join(dir, "d");
    const first = runCli(["serve", "--port", "0", "--host", "127.0.0.1", "--data", data]);
    await first.waitForStderr(/listening on 127\.0\.0\.1:(\d+)/);
    first.write("/ban 127.0.0.9 2h spammer\n");
    await first.waitForStdout(/banned 127\.0\.0\.9/);
    first.write("/unban ::ffff:127.0.0.9\n");
    await first.waitForStdout(/unbanned ::ffff:127\.0\.0\.9/);
    await stopServe(first);
    const second = await startServe(["--no-console", "--data", data]);
    await second.serve.waitForStderr(/restoredBans=0/);
    await stopServe(second.serve);
  });
});
