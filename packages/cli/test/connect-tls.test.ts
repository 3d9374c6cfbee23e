import { connect as tcpConnect } from "node:net";
import { makeCertificateTrio, type TestCertificate } from "@tcpchat/testing/certificates";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { killAllCli, runCliToEnd } from "./helpers/cli-process.js";
import { startServe } from "./helpers/serve.js";

const { good, expired, elsewhere, remove } = makeCertificateTrio("connect");
afterAll(remove);
afterEach(killAllCli);

const TLS_EXIT = 11;

function tlsServe(cert: TestCertificate) {
  return startServe(["--tls-cert", cert.certFile, "--tls-key", cert.keyFile]);
}

/** A plaintext line reader on the server, to see what TLS clients say. */
async function plainWatcher(port: number) {
  const socket = tcpConnect({ host: "127.0.0.1", port });
  let text = "";
  socket.setEncoding("utf8");
  socket.on("data", (chunk: string) => (text += chunk));
  socket.on("error", () => {});
  return {
    async waitFor(pattern: RegExp, timeoutMs = 10_000): Promise<string> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const line = text.split("\n").find((l) => pattern.test(l));
        if (line !== undefined) return line;
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}:\n${text}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    close: () => socket.destroy(),
  };
}

describe("connect --tls", () => {
  it("chats with `serve --tls-cert --tls-key` through --ca, beside a plaintext client", async () => {
    const { port } = await tlsServe(good);
    const watcher = await plainWatcher(port);
    // A silent plaintext peer is greeted once the sniff deadline passes.
    await watcher.waitFor(/^\*\*\* tcpchat\/1 /);
    const run = await runCliToEnd(
      ["connect", `127.0.0.1:${port}`, "--tls", "--ca", good.certFile, "--nick", "tlsuser"],
      { input: "hello over tls\n" },
    );
    expect(run.stderr).toMatch(/connected to 127\.0\.0\.1:\d+ over TLS \(tcpchat /);
    expect(run.code).toBe(0);
    expect(await watcher.waitFor(/hello over tls/)).toBe("#lobby <tlsuser> hello over tls");
    watcher.close();
  });

  it("--insecure connects to a self-signed certificate; without --ca it is untrusted (exit 11)", async () => {
    const { port } = await tlsServe(good);
    const insecure = await runCliToEnd(
      ["connect", `127.0.0.1:${port}`, "--insecure", "--nick", "lab"],
      { input: "/who\n" },
    );
    expect(insecure.code).toBe(0);
    expect(insecure.stdout).toMatch(/lab/);
    expect(insecure.stderr).toMatch(/certificate NOT checked/);
    const untrusted = await runCliToEnd(["connect", `127.0.0.1:${port}`, "--tls"]);
    expect(untrusted.code).toBe(TLS_EXIT);
    expect(untrusted.stderr).toMatch(/CHAT_ERR_TLS_UNTRUSTED/);
    expect(untrusted.stderr).toMatch(/hint: .*--ca FILE.*--insecure/);
  });

  it("an expired certificate exits 11 with CHAT_ERR_TLS_EXPIRED", async () => {
    const { port } = await tlsServe(expired);
    const run = await runCliToEnd(["connect", `127.0.0.1:${port}`, "--ca", expired.certFile]);
    expect(run.code).toBe(TLS_EXIT);
    expect(run.stderr).toMatch(/CHAT_ERR_TLS_EXPIRED/);
  });

  it("a certificate for another name exits 11 with CHAT_ERR_TLS_WRONG_NAME and its names", async () => {
    const { port } = await tlsServe(elsewhere);
    const run = await runCliToEnd(["connect", `127.0.0.1:${port}`, "--ca", elsewhere.certFile]);
    expect(run.code).toBe(TLS_EXIT);
    expect(run.stderr).toMatch(/CHAT_ERR_TLS_WRONG_NAME.*DNS:elsewhere\.example/);
  });

  it("a plaintext server exits 11 with CHAT_ERR_TLS_PLAINTEXT_SERVER, in raw mode too", async () => {
    const { port } = await startServe();
    for (const extra of [[], ["--raw"]]) {
      const run = await runCliToEnd(["connect", `127.0.0.1:${port}`, "--tls", ...extra]);
      expect(run.code).toBe(TLS_EXIT);
      expect(run.stderr).toMatch(/CHAT_ERR_TLS_PLAINTEXT_SERVER/);
      expect(run.stderr).toMatch(/hint: Drop `--tls`/);
    }
  });

  it("bad TLS flags are usage errors (exit 2)", async () => {
    const both = await runCliToEnd(["connect", "--ca", good.certFile, "--insecure"]);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/--ca and --insecure/);
    const missing = await runCliToEnd(["connect", "--ca", `${good.dir}/no-such.pem`]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--ca: cannot read/);
  });
});
