import { type TLSSocket, connect as tlsConnect } from "node:tls";
import { afterAll, describe, expect, it } from "vitest";
import { ChatError, createServer } from "../src/index.js";
import { LineClient, startServer } from "./helpers.js";
import { makeCertificate, PeerProcess, removeCertificate } from "./peers.js";

const certA = makeCertificate("tcpchat-a");
const certB = makeCertificate("tcpchat-b");
afterAll(() => {
  removeCertificate(certA);
  removeCertificate(certB);
});

/** Opens a TLS connection that trusts the given certificate. */
function openTls(port: number, ca: string): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: "127.0.0.1", port, ca, servername: "localhost" });
    socket.once("secureConnect", () => resolve(socket));
    socket.once("error", reject);
  });
}

async function greetedOverTls(port: number, ca: string) {
  const socket = await openTls(port, ca);
  const client = LineClient.over(socket);
  const greeting = await client.waitFor(/^\*\*\* tcpchat\/1 /);
  return { client, socket, nick: /you are (\S+) in/.exec(greeting)![1]! };
}

describe("one port: TLS beside plain text", () => {
  it("greets a silent plaintext peer as a text client once the sniff deadline passes", async () => {
    await using s = await startServer({ tls: certA, sniffTimeoutMs: 100 });
    const started = Date.now();
    const client = await LineClient.greeted(s.port);
    // Greeted only after the deadline: it had to be waited for, and not much longer.
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
    client.send("hello in plain text");
    await client.waitFor(/hello in plain text/);
    client.close();
  });

  it("reads a JSON hello that arrives first on a TLS-enabled port, plain and inside TLS", async () => {
    await using s = await startServer({ tls: certA });
    const plain = await LineClient.open(s.port);
    plain.send(JSON.stringify({ type: "hello", proto: 1, nick: "plainjson" }));
    await plain.waitFor(/"type":"welcome".*"nick":"plainjson"/);
    const socket = await openTls(s.port, certA.cert);
    const secure = LineClient.over(socket);
    secure.send(JSON.stringify({ type: "hello", proto: 1, nick: "tlsjson" }));
    await secure.waitFor(/"type":"welcome".*"nick":"tlsjson"/);
    await plain.waitFor(/"type":"join".*"nick":"tlsjson"/);
    plain.close();
    secure.close();
  });

  it("openssl s_client and ncat --ssl chat with a plaintext client on the same port", async () => {
    await using s = await startServer({ tls: certA, sniffTimeoutMs: 100 });
    const plain = await LineClient.greeted(s.port);
    const openssl = new PeerProcess("openssl", [
      "s_client",
      "-quiet",
      "-connect",
      `127.0.0.1:${s.port}`,
    ]);
    const ncat = new PeerProcess("ncat", ["--ssl", "127.0.0.1", String(s.port)]);
    try {
      // Both are silent at first: each is greeted as a text client inside TLS.
      await openssl.waitFor(/^\*\*\* tcpchat\/1 /);
      await ncat.waitFor(/^\*\*\* tcpchat\/1 /);
      openssl.send("/nick viaopenssl");
      ncat.send("/nick viancat");
      await plain.waitFor(/viaopenssl/);
      await plain.waitFor(/viancat/);
      openssl.send("hello from openssl");
      ncat.send("hello from ncat");
      plain.send("hello from plain");
      await plain.waitFor(/<viaopenssl> hello from openssl/);
      await plain.waitFor(/<viancat> hello from ncat/);
      await openssl.waitFor(/<viancat> hello from ncat/);
      await openssl.waitFor(new RegExp(`<${plain.nick}> hello from plain`));
      await ncat.waitFor(/<viaopenssl> hello from openssl/);
      await ncat.waitFor(new RegExp(`<${plain.nick}> hello from plain`));
      expect(s.server.sessions().length).toBe(3);
    } finally {
      openssl.kill();
      ncat.kill();
      plain.close();
    }
  });

  it("swaps the certificate without dropping a connection", async () => {
    await using s = await startServer({ tls: certA, sniffTimeoutMs: 50 });
    const before = await greetedOverTls(s.port, certA.cert);
    expect(before.socket.getPeerCertificate().subject.CN).toBe("tcpchat-a");
    s.server.setTlsCredentials(certB);
    const after = await greetedOverTls(s.port, certB.cert);
    expect(after.socket.getPeerCertificate().subject.CN).toBe("tcpchat-b");
    // The connection made with the old certificate still chats both ways.
    before.client.send("still here");
    await after.client.waitFor(new RegExp(`<${before.nick}> still here`));
    after.client.send("me too");
    await before.client.waitFor(new RegExp(`<${after.nick}> me too`));
    expect(before.client.ended).toBe(false);
    before.client.close();
    after.client.close();
  });

  it("keeps the old certificate when the new pair does not load", async () => {
    await using s = await startServer({ tls: certA, sniffTimeoutMs: 50 });
    let error: unknown;
    try {
      s.server.setTlsCredentials({ cert: certB.cert, key: certA.key });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ChatError);
    expect((error as ChatError).code).toBe("CHAT_ERR_TLS_CREDENTIALS");
    expect((error as ChatError).message).toMatch(/could not be loaded/);
    const client = await greetedOverTls(s.port, certA.cert);
    expect(client.socket.getPeerCertificate().subject.CN).toBe("tcpchat-a");
    client.client.close();
  });

  it("refuses a certificate that is not PEM at construction", () => {
    expect(() => createServer({ tls: { cert: "not a certificate", key: "nor a key" } })).toThrow(
      expect.objectContaining({ code: "CHAT_ERR_TLS_CREDENTIALS" }),
    );
    expect(() => createServer({ tlsOnly: true })).toThrow(
      expect.objectContaining({ code: "CHAT_ERR_TLS_CREDENTIALS" }),
    );
  });

  it("tlsOnly refuses plaintext with a clear line, silent or speaking, and serves TLS", async () => {
    await using s = await startServer({ tls: certA, tlsOnly: true, sniffTimeoutMs: 50 });
    const silent = await LineClient.open(s.port);
    const refusal = await silent.waitFor(/CHAT_ERR_TLS_REQUIRED/);
    expect(refusal).toMatch(/only TLS/);
    await silent.closed;
    const speaking = await LineClient.open(s.port);
    speaking.send("hello?");
    await speaking.waitFor(/CHAT_ERR_TLS_REQUIRED/);
    await speaking.closed;
    expect(s.server.stats().refusedByCode.CHAT_ERR_TLS_REQUIRED).toBe(2);
    expect(s.server.sessions()).toEqual([]);
    const secure = await greetedOverTls(s.port, certA.cert);
    secure.client.send("over TLS");
    await secure.client.waitFor(/over TLS/);
    secure.client.close();
  });

  it("a failed handshake costs no session, and the server closes with peers mid-sniff", async () => {
    await using s = await startServer({ tls: certA, sniffTimeoutMs: 5000 });
    // Distrusts the server's certificate: the handshake fails on the client's side.
    await expect(openTls(s.port, certB.cert)).rejects.toThrow();
    const waiting = await LineClient.open(s.port);
    // A peer that typed "GE" and nothing more is still being sniffed when the server closes.
    waiting.send(Buffer.from("GE"));
    const closedBy = Date.now();
    await s.server.close({ graceMs: 200 });
    await waiting.closed;
    expect(Date.now() - closedBy).toBeLessThan(3000);
    expect(s.server.stats().sessionsOpened).toBe(0);
  });
});
