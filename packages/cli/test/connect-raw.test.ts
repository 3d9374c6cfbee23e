import { afterEach, describe, expect, it } from "vitest";
import { killAllCli, runCli } from "./helpers/cli-process.js";
import { startLineServer } from "./helpers/line-server.js";

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  await killAllCli();
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

describe("connect to a plain line server", () => {
  it("--raw sends lines as they are and prints what comes back", async () => {
    const server = await startLineServer();
    cleanups.push(server.close);
    const client = runCli(["connect", "--raw", `127.0.0.1:${server.port}`]);
    await client.waitForStdout(/^Welcome to the echo server$/m);
    client.write("hello there\n/help is not a command here\n한국어 줄\n");
    await client.waitForStdout(/^echo: 한국어 줄$/m);
    expect(server.received).toEqual(["hello there", "/help is not a command here", "한국어 줄"]);
    client.write("bye\n");
    expect(await client.waitExit()).toBe(0);
    expect(client.stdout).toBe(
      "Welcome to the echo server\necho: hello there\necho: /help is not a command here\necho: 한국어 줄\necho: bye\n",
    );
    expect(server.connections()).toBe(1);
  });

  it("detects a peer that is not tcpchat and falls back to plain line mode", async () => {
    const server = await startLineServer("HELLO from a Java ServerSocket");
    cleanups.push(server.close);
    const client = runCli(["connect", `127.0.0.1:${server.port}`]);
    await client.waitForStderr(/not a tcpchat server .*switching to plain line mode/);
    client.write("ping\n");
    client.endInput();
    expect(await client.waitExit()).toBe(0);
    expect(client.stdout).toMatch(/^echo: ping$/m);
    expect(server.received).toEqual(["ping"]);
  });

  it("falls back when the peer stays silent past --timeout", async () => {
    const server = await startLineServer("");
    cleanups.push(server.close);
    const client = runCli(["connect", `127.0.0.1:${server.port}`, "--timeout", "500"]);
    await client.waitForStderr(/sent no tcpchat greeting in time.*plain line mode/);
    client.write("anyone?\n");
    await client.waitForStdout(/^echo: anyone\?$/m);
    client.endInput();
    expect(await client.waitExit()).toBe(0);
  });

  it("shows a prompt the peer leaves without a line ending", async () => {
    const server = await startLineServer("Java chat server", {
      promptAfterGreeting: "Enter your name: ",
    });
    cleanups.push(server.close);
    const client = runCli(["connect", "--raw", `127.0.0.1:${server.port}`]);
    await client.waitForStdout(/^Enter your name: $/m);
    client.write("민수\n");
    await client.waitForStdout(/^echo: 민수$/m);
    client.endInput();
    expect(await client.waitExit()).toBe(0);
  });

  it("exits 3 when nothing listens on the port", async () => {
    const server = await startLineServer();
    const port = server.port;
    await server.close();
    const client = runCli(["connect", "--raw", `127.0.0.1:${port}`]);
    expect(await client.waitExit()).toBe(3);
    expect(client.stderr).toMatch(/CHAT_ERR_CONN_REFUSED/);
  });
});
