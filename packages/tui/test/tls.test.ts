import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { Cleanup, nextEvent, requireBuild, startServer, startTui } from "./harness.js";

/** A self-signed certificate for localhost and 127.0.0.1, made at run time with `openssl`. */
function makeCertificate() {
  const dir = mkdtempSync(join(tmpdir(), "tcpchat-tui-cert-"));
  const certFile = join(dir, "cert.pem");
  const keyFile = join(dir, "key.pem");
  execFileSync(
    "openssl",
    ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
      .concat(["-days", "1", "-subj", "/CN=tui-tls", "-addext"])
      .concat(["subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", keyFile, "-out", certFile]),
    { stdio: "pipe" },
  );
  return {
    dir,
    certFile,
    cert: readFileSync(certFile, "utf8"),
    key: readFileSync(keyFile, "utf8"),
  };
}

const certificate = makeCertificate();
const cleanup = new Cleanup();
beforeAll(requireBuild);
afterEach(() => cleanup.run());
afterAll(() => rmSync(certificate.dir, { recursive: true, force: true }));

describe("TUI over TLS in tmux", () => {
  it("chats with a TLS server through --tls --ca", async () => {
    const { server, port } = await startServer(cleanup, 0, {
      tls: { cert: certificate.cert, key: certificate.key },
    });
    const pane = await startTui(cleanup, {
      port,
      nick: "보안",
      extraArgs: ["--tls", "--ca", certificate.certFile],
    });
    await pane.waitForText("[online]");
    await pane.waitForText(`127.0.0.1:${port} (TLS)`);
    const delivered = nextEvent<{ from: string; text: string }>(
      server,
      "message",
      (m) => m.text === "암호화된 인사",
    );
    await pane.type("암호화된 인사");
    await pane.press("Enter");
    expect(await delivered).toMatchObject({ from: "보안" });
  });

  it("shows an untrusted certificate with its code and hint, and does not retry", async () => {
    const { port } = await startServer(cleanup, 0, {
      tls: { cert: certificate.cert, key: certificate.key },
    });
    const pane = await startTui(cleanup, { port, nick: "nocheck", extraArgs: ["--tls"] });
    const rows = await pane.waitForText("CHAT_ERR_TLS_UNTRUSTED");
    const screen = rows.join("\n").replace(/\s+/g, " ");
    expect(screen).toContain("--ca FILE");
    expect(screen).not.toContain("reconnecting in");
  });
});
