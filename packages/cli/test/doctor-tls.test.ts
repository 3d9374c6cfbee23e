import { makeCertificateTrio, type TestCertificate } from "@tcpchat/testing/certificates";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { killAllCli, runCliToEnd } from "./helpers/cli-process.js";
import { startServe } from "./helpers/serve.js";

const { good, expired, elsewhere, remove } = makeCertificateTrio("doctor");
afterAll(remove);
afterEach(killAllCli);

const TLS_EXIT = 11;

function tlsServe(cert: TestCertificate) {
  return startServe(["--tls-cert", cert.certFile, "--tls-key", cert.keyFile]);
}

async function doctorJson(args: string[]) {
  const run = await runCliToEnd(["doctor", ...args, "--json"]);
  return { code: run.code, report: JSON.parse(run.stdout) };
}

describe("doctor --tls", () => {
  it("reports a good certificate: subject, issuer, expiry, days left, names that match", async () => {
    const { port } = await tlsServe(good);
    const text = await runCliToEnd(["doctor", `127.0.0.1:${port}`, "--ca", good.certFile]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/TLS handshake with 127\.0\.0\.1:\d+/);
    expect(text.stdout).toMatch(/subject {3}CN=doctor-good/);
    expect(text.stdout).toMatch(/issuer {4}CN=doctor-good/);
    expect(text.stdout).toMatch(/valid .* GMT to .* GMT {2}0 days left \(renew soon\)/);
    expect(text.stdout).toMatch(
      /names {5}DNS:localhost, IP Address:127\.0\.0\.1 {2}match 127\.0\.0\.1/,
    );
    expect(text.stdout).toMatch(/trusted {3}yes/);
    expect(text.stdout).toMatch(/Verdict: listening\nTLS works \(TLSv1\.[23]\)/);
    expect(text.stdout).toMatch(/connect 127\.0\.0\.1:\d+ --ca /);

    const { code, report } = await doctorJson([`localhost:${port}`, "--ca", good.certFile]);
    expect(code).toBe(0);
    expect(report.tls).toMatchObject({
      trusted: true,
      nameMatches: true,
      certificate: { subject: "CN=doctor-good", daysLeft: 0 },
    });
  });

  it("without --ca, a self-signed certificate is reported and classified as untrusted", async () => {
    const { port } = await tlsServe(good);
    const { code, report } = await doctorJson([`127.0.0.1:${port}`, "--tls"]);
    expect(code).toBe(TLS_EXIT);
    expect(report.verdict).toBe("tls-failed");
    expect(report.tls).toMatchObject({
      trusted: false,
      trustError: "DEPTH_ZERO_SELF_SIGNED_CERT",
      certificate: { subject: "CN=doctor-good" },
      error: { code: "CHAT_ERR_TLS_UNTRUSTED" },
    });
    expect(report.advice).toMatch(/--ca FILE/);
  });

  it("an expired certificate: EXPIRED n days ago, CHAT_ERR_TLS_EXPIRED, exit 11", async () => {
    const { port } = await tlsServe(expired);
    const text = await runCliToEnd(["doctor", `127.0.0.1:${port}`, "--ca", expired.certFile]);
    expect(text.code).toBe(TLS_EXIT);
    expect(text.stdout).toMatch(/Jan {2}2 00:00:00 2020 GMT {2}EXPIRED \d+ days ago/);
    expect(text.stdout).toMatch(/Verdict: tls-failed\nCHAT_ERR_TLS_EXPIRED: /);
    const { report } = await doctorJson([`127.0.0.1:${port}`, "--ca", expired.certFile]);
    expect(report.tls.certificate.daysLeft).toBeLessThan(-300);
    expect(report.tls.error.code).toBe("CHAT_ERR_TLS_EXPIRED");
  });

  it("a certificate for another name: names do NOT match, CHAT_ERR_TLS_WRONG_NAME", async () => {
    const { port } = await tlsServe(elsewhere);
    const text = await runCliToEnd(["doctor", `127.0.0.1:${port}`, "--ca", elsewhere.certFile]);
    expect(text.code).toBe(TLS_EXIT);
    expect(text.stdout).toMatch(/names {5}DNS:elsewhere\.example {2}do NOT match 127\.0\.0\.1/);
    expect(text.stdout).toMatch(
      /CHAT_ERR_TLS_WRONG_NAME: .*names DNS:elsewhere\.example, not 127\.0\.0\.1/,
    );
  });

  it("a plaintext server: CHAT_ERR_TLS_PLAINTEXT_SERVER with the hint to drop --tls", async () => {
    const { port } = await startServe();
    const text = await runCliToEnd(["doctor", `127.0.0.1:${port}`, "--tls"]);
    expect(text.code).toBe(TLS_EXIT);
    // The TCP step still finds the tcpchat server; the TLS step says why TLS fails.
    expect(text.stdout).toMatch(/ok .*tcpchat\/1/);
    expect(text.stdout).toMatch(/TLS handshake with .*\n {3}FAILED CHAT_ERR_TLS_PLAINTEXT_SERVER/);
    expect(text.stdout).toMatch(/Drop `--tls`/);
  });
});
