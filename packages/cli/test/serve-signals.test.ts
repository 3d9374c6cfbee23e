import { connect, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { killAllCli, runCli } from "./helpers/cli-process.js";
import { startServe } from "./helpers/serve.js";

const sockets: Socket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await killAllCli();
});

describe("serve and Ctrl+C", () => {
  it("the first SIGINT starts a graceful shutdown; a second one forces the exit", async () => {
    const { serve, port } = await startServe(["--shutdown-grace-ms", "60000"]);
    // A client that never closes its side keeps the graceful shutdown waiting.
    const stubborn = connect({ host: "127.0.0.1", port, allowHalfOpen: true });
    sockets.push(stubborn);
    stubborn.on("error", () => {});
    stubborn.resume();
    await serve.waitForStderr(/session-open/);

    serve.signal("SIGINT");
    await serve.waitForStderr(/shutting down: telling 1 clients/);
    expect(serve.exitCode).toBeNull();
    serve.signal("SIGINT");
    expect(await serve.waitExit(5000)).toBe(130);
    expect(serve.stderr).toMatch(/second interrupt: exiting without waiting/);
  });

  it("/shutdown SECONDS tells clients and stops the server with exit 0", async () => {
    const { serve, port } = await startServe();
    const client = runCli(["connect", `127.0.0.1:${port}`, "--nick", "leaver"]);
    await client.waitForStderr(/you are leaver/);
    serve.write("/shutdown 1\n");
    expect(await client.waitExit()).toBe(9);
    expect(client.stderr).toMatch(/CHAT_ERR_SERVER_SHUTDOWN/);
    expect(await serve.waitExit()).toBe(0);
    expect(serve.stderr).toMatch(/up to 1000 ms to flush/);
  });
});
