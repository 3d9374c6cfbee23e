import { copyFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { connect as tcpConnect } from "node:net";
import { join } from "node:path";
import { type TLSSocket, connect as tlsConnect } from "node:tls";
import { makeCertificate, type TestCertificate } from "@tcpchat/testing/certificates";
import { afterEach, describe, expect, it } from "vitest";
import { killAllCli, runCli } from "./helpers/cli-process.js";
import { startServe } from "./helpers/serve.js";

const certs: TestCertificate[] = [];
const sockets: Array<{ destroy(): void }> = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await killAllCli();
  for (const cert of certs.splice(0)) rmSync(cert.dir, { recursive: true, force: true });
});

function certificate(commonName: string): TestCertificate {
  const made = makeCertificate(commonName);
  certs.push(made);
  return made;
}

/** Reads lines from a socket until one matches (with a deadline). */
function linesOf(socket: TLSSocket | ReturnType<typeof tcpConnect>) {
  let text = "";
  socket.setEncoding("utf8");
  socket.on("data", (chunk: string) => (text += chunk));
  socket.on("error", () => {});
  sockets.push(socket);
  return {
    send: (line: string) => socket.write(`${line}\n`),
    async waitFor(pattern: RegExp, timeoutMs = 10_000): Promise<string> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const line = text.split("\n").find((l) => pattern.test(l));
        if (line !== undefined) return line;
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}:\n${text}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
  };
}

/** A TLS connection that trusts only `ca`; resolves with the certificate's common name. */
function openTls(port: number, ca: string): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: "127.0.0.1", port, ca, servername: "localhost" });
    socket.once("secureConnect", () => resolve(socket));
    socket.once("error", reject);
  });
}

describe("serve with TLS on the same port", () => {
  it("plain and TLS clients chat; the certificate is reloaded on change and SIGHUP without dropping anyone", async () => {
    const a = certificate("serve-a");
    const b = certificate("serve-b");
    const live = certificate("serve-live");
    // The served files start as certificate a.
    copyFileSync(a.certFile, live.certFile);
    copyFileSync(a.keyFile, live.keyFile);
    const { serve, port } = await startServe([
      "--tls-cert",
      live.certFile,
      "--tls-key",
      live.keyFile,
      "--sniff-timeout-ms",
      "100",
    ]);
    await serve.waitForStderr(/tls.*on \(/);
    const plain = linesOf(tcpConnect({ host: "127.0.0.1", port }));
    await plain.waitFor(/^\*\*\* tcpchat\/1 /);
    const before = await openTls(port, a.cert);
    expect(before.getPeerCertificate().subject.CN).toBe("serve-a");
    const secure = linesOf(before);
    await secure.waitFor(/^\*\*\* tcpchat\/1 /);
    secure.send("/nick securea");
    await plain.waitFor(/securea/);

    // A renewal replaces the files by rename, as certbot and editors do.
    copyFileSync(b.keyFile, join(live.dir, "key.next"));
    copyFileSync(b.certFile, join(live.dir, "cert.next"));
    renameSync(join(live.dir, "key.next"), live.keyFile);
    renameSync(join(live.dir, "cert.next"), live.certFile);
    await serve.waitForStderr(/file changed: certificate reloaded/);
    const after = await openTls(port, b.cert);
    expect(after.getPeerCertificate().subject.CN).toBe("serve-b");
    after.destroy();

    // A broken file keeps the certificate in force; SIGHUP reloads once it is fixed.
    writeFileSync(live.certFile, "not a certificate\n");
    await serve.waitForStderr(/kept the previous certificate: .*could not be loaded/);
    const still = await openTls(port, b.cert);
    expect(still.getPeerCertificate().subject.CN).toBe("serve-b");
    still.destroy();
    copyFileSync(a.certFile, live.certFile);
    copyFileSync(a.keyFile, live.keyFile);
    serve.signal("SIGHUP");
    await serve.waitForStderr(/SIGHUP: certificate reloaded/);
    const back = await openTls(port, a.cert);
    expect(back.getPeerCertificate().subject.CN).toBe("serve-a");
    back.destroy();

    // The first TLS connection lived through every reload, and still chats both ways.
    secure.send("made it through");
    await plain.waitFor(/<securea> made it through/);
    plain.send("welcome back");
    await secure.waitFor(/> welcome back/);
  });

  it("--tls-only refuses plaintext with CHAT_ERR_TLS_REQUIRED and serves TLS", async () => {
    const a = certificate("serve-only");
    const { port } = await startServe([
      "--tls-cert",
      a.certFile,
      "--tls-key",
      a.keyFile,
      "--tls-only",
      "--sniff-timeout-ms",
      "100",
    ]);
    const plain = linesOf(tcpConnect({ host: "127.0.0.1", port }));
    await plain.waitFor(/CHAT_ERR_TLS_REQUIRED/);
    const secure = linesOf(await openTls(port, a.cert));
    await secure.waitFor(/^\*\*\* tcpchat\/1 /);
  });

  it("bad TLS flags are usage errors (exit 2) with the reason", async () => {
    const a = certificate("serve-bad");
    const onlyCert = runCli(["serve", "--port", "0", "--tls-cert", a.certFile]);
    expect(await onlyCert.waitExit()).toBe(2);
    expect(onlyCert.stderr).toMatch(/--tls-cert and --tls-key go together/);
    const onlyFlag = runCli(["serve", "--port", "0", "--tls-only"]);
    expect(await onlyFlag.waitExit()).toBe(2);
    expect(onlyFlag.stderr).toMatch(/--tls-only needs --tls-cert/);
    const missing = runCli([
      "serve",
      "--port",
      "0",
      "--tls-cert",
      join(a.dir, "nope.pem"),
      "--tls-key",
      a.keyFile,
    ]);
    expect(await missing.waitExit()).toBe(2);
    expect(missing.stderr).toMatch(
      /CHAT_ERR_TLS_CREDENTIALS: --tls-cert .*nope\.pem does not exist/,
    );
    writeFileSync(join(a.dir, "junk.pem"), "junk\n");
    const junk = runCli([
      "serve",
      "--port",
      "0",
      "--tls-cert",
      join(a.dir, "junk.pem"),
      "--tls-key",
      a.keyFile,
    ]);
    expect(await junk.waitExit()).toBe(2);
    expect(junk.stderr).toMatch(
      /CHAT_ERR_TLS_CREDENTIALS: The TLS certificate or key could not be loaded/,
    );
  });
});
