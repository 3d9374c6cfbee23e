import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { killAllCli, runCli } from "./helpers/cli-process.js";
import { cleanUpLineClients, lineClient, tempDir } from "./helpers/line-client.js";
import { startServe } from "./helpers/serve.js";

afterEach(async () => {
  await killAllCli();
  cleanUpLineClients();
});

describe("serve with HTTP and WebSocket on the same port", () => {
  it("serves the web root, /healthz and /metrics, and a WebSocket client chats with nc", async () => {
    const root = tempDir("web-root");
    writeFileSync(join(root, "index.html"), "<title>served by serve</title>");
    const { serve, port } = await startServe([
      "--web-root",
      root,
      "--websocket",
      "--ws-origin",
      "http://localhost:5173",
      "--sniff-timeout-ms",
      "100",
    ]);
    await serve.waitForStderr(/http.*http\+websocket/);
    const base = `http://127.0.0.1:${port}`;
    expect(await (await fetch(`${base}/`)).text()).toMatch(/served by serve/);
    expect(await (await fetch(`${base}/healthz`)).text()).toBe("ok\n");
    const nc = lineClient(port);
    await nc.waitFor(/^\*\*\* tcpchat\/1 /);
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, { origin: "http://localhost:5173" });
    let received = "";
    ws.on("message", (data: Buffer) => (received += data.toString()));
    await new Promise((resolve, reject) => {
      ws.once("open", resolve);
      ws.once("error", reject);
    });
    ws.send(JSON.stringify({ type: "hello", proto: 1, nick: "webclient" }));
    await nc.waitFor(/webclient/);
    nc.send("hello web");
    const deadline = Date.now() + 10_000;
    while (!received.includes("hello web")) {
      if (Date.now() > deadline) throw new Error(`no message over WebSocket: ${received}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/^tcpchat_connections\{mode="structured",transport="websocket"\} 1$/m);
    expect(metrics).toMatch(/^tcpchat_connections\{mode="text",transport="tcp"\} 1$/m);
    const other = new WebSocket(`ws://127.0.0.1:${port}/ws`, {
      origin: "https://elsewhere.example",
    });
    const status = await new Promise<number>((resolve) => {
      other.once("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
      other.once("open", () => resolve(101));
      other.once("error", () => {});
    });
    expect(status).toBe(403);
    ws.terminate();
    nc.close();
  });

  it("without --web-root, serves the built browser chat at / and says where", async () => {
    const { serve, port } = await startServe(["--websocket"]);
    await serve.waitForStdout(new RegExp(`Chat in a browser: http://127\\.0\\.0\\.1:${port}/`));
    const page = await (await fetch(`http://127.0.0.1:${port}/`)).text();
    expect(page).toMatch(/id="join-screen"/);
    const script = /src="\.\/(assets\/[^"]+\.js)"/.exec(page)?.[1];
    expect(script).toBeDefined();
    const asset = await fetch(`http://127.0.0.1:${port}/${script}`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get("content-type")).toMatch(/javascript/);
  });

  it("bad web flags are usage errors (exit 2)", async () => {
    const origin = runCli(["serve", "--port", "0", "--ws-origin", "https://x.example"]);
    expect(await origin.waitExit()).toBe(2);
    expect(origin.stderr).toMatch(/--ws-origin limits WebSocket clients: add --websocket/);
    const path = runCli([
      "serve",
      "--port",
      "0",
      "--websocket",
      "--ws-origin",
      "https://x.example/app",
    ]);
    expect(await path.waitExit()).toBe(2);
    expect(path.stderr).toMatch(/scheme and host, no path/);
    const missing = runCli(["serve", "--port", "0", "--web-root", "/no/such/dir/here"]);
    expect(await missing.waitExit()).toBe(2);
    expect(missing.stderr).toMatch(/--web-root \/no\/such\/dir\/here does not exist/);
  });
});
