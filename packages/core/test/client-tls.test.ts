import { createServer as createNetServer, type Server } from "node:net";
import { makeCertificateTrio } from "@tcpchat/testing/certificates";
import { afterAll, describe, expect, it } from "vitest";
import { ChatError, createClient, inspectTls, tlsErrorCode } from "../src/index.js";
import { LineClient, startServer } from "./helpers.js";

const { good, expired, elsewhere, remove } = makeCertificateTrio("client");
afterAll(remove);

/** The code a TLS connect fails with (the test fails if it connects). */
async function failureOf(port: number, tls: { ca?: string; servername?: string }) {
  const client = createClient({ port, tls, connectTimeoutMs: 3000 });
  const error = await client.connect().then(
    async () => {
      await client.quit();
      throw new Error("connected, but a TLS failure was expected");
    },
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ChatError);
  return error as ChatError;
}

/** A plain TCP server that answers any connection with a line of text, then closes. */
async function plaintextPeer(answer: string): Promise<{ server: Server; port: number }> {
  const server = createNetServer((socket) => {
    socket.on("error", () => {});
    socket.once("data", () => socket.end(answer));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  return { server, port: address.port };
}

describe("ChatClient over TLS", () => {
  it("chats with a TLS server that it trusts through `ca`, beside a plaintext client", async () => {
    await using s = await startServer({ tls: good, sniffTimeoutMs: 100 });
    const plain = await LineClient.greeted(s.port);
    const client = createClient({ port: s.port, nick: "secure", tls: { ca: good.cert } });
    const welcome = await client.connect();
    expect(welcome.nick).toBe("secure");
    await client.send("hello over tls");
    expect(await plain.waitFor(/hello over tls/)).toBe("#lobby <secure> hello over tls");
    await client.quit();
    plain.close();
  });

  it("connects to a self-signed server with `insecure`, and refuses it without", async () => {
    await using s = await startServer({ tls: good });
    const client = createClient({ port: s.port, nick: "lab", tls: { insecure: true } });
    expect((await client.connect()).nick).toBe("lab");
    await client.quit();
    const error = await failureOf(s.port, {});
    expect(error.code).toBe("CHAT_ERR_TLS_UNTRUSTED");
    expect(error.hint).toMatch(/--ca FILE.*--insecure/);
  });

  it("classifies an expired certificate", async () => {
    await using s = await startServer({ tls: expired });
    const error = await failureOf(s.port, { ca: expired.cert });
    expect(error.code).toBe("CHAT_ERR_TLS_EXPIRED");
    expect(error.message).toMatch(/expired/);
  });

  it("classifies a certificate for another name", async () => {
    await using s = await startServer({ tls: elsewhere });
    const error = await failureOf(s.port, { ca: elsewhere.cert });
    expect(error.code).toBe("CHAT_ERR_TLS_WRONG_NAME");
    expect(error.message).toMatch(/elsewhere\.example/);
    // The same certificate is fine when asked for by the name it lists.
    const client = createClient({
      port: s.port,
      tls: { ca: elsewhere.cert, servername: "elsewhere.example" },
    });
    await client.connect();
    await client.quit();
  });

  it("classifies a plaintext tcpchat server and a plaintext foreign peer", async () => {
    await using s = await startServer({ sniffTimeoutMs: 100 });
    const error = await failureOf(s.port, {});
    expect(error.code).toBe("CHAT_ERR_TLS_PLAINTEXT_SERVER");
    expect(error.hint).toMatch(/Drop `--tls`/);
    const peer = await plaintextPeer("220 not tls here\r\n");
    try {
      expect((await failureOf(peer.port, {})).code).toBe("CHAT_ERR_TLS_PLAINTEXT_SERVER");
    } finally {
      peer.server.close();
    }
  });
});

describe("ChatClient over TLS to a peer that closes without a word", () => {
  it("reports a silent close in answer to the ClientHello as a plaintext server, not a reset", async () => {
    // Like a plaintext service that drops a connection whose first bytes it cannot parse.
    const server = createNetServer((socket) => {
      socket.on("error", () => {});
      socket.once("data", () => socket.end());
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const address = server.address();
      if (address === null || typeof address === "string") throw new Error("no port");
      const error = await failureOf(address.port, {});
      expect(error.code).toBe("CHAT_ERR_TLS_PLAINTEXT_SERVER");
      expect(error.message).toMatch(
        /closed the connection in answer to the TLS handshake, without a TLS reply/,
      );
      expect(error.hint).toMatch(/Drop `--tls`/);
    } finally {
      server.close();
    }
  });
});

describe("inspectTls", () => {
  it("shows the certificate whatever is wrong with it, with trust and name checked", async () => {
    await using s = await startServer({ tls: elsewhere });
    const base = { host: "127.0.0.1", port: s.port, timeoutMs: 3000 };
    const untrusted = await inspectTls({ ...base, name: "127.0.0.1" });
    expect(untrusted).toMatchObject({
      trusted: false,
      trustError: "DEPTH_ZERO_SELF_SIGNED_CERT",
      nameMatches: false,
      certificate: {
        subject: "CN=client-elsewhere",
        issuer: "CN=client-elsewhere",
        names: ["DNS:elsewhere.example"],
      },
    });
    expect(tlsErrorCode(untrusted.trustError!)).toBe("CHAT_ERR_TLS_UNTRUSTED");
    const good = await inspectTls({ ...base, name: "elsewhere.example", ca: elsewhere.cert });
    expect(good).toMatchObject({ trusted: true, nameMatches: true });
    expect(good.trustError).toBeUndefined();
    expect(Date.parse(good.certificate.validTo)).toBeGreaterThan(Date.now());
  });

  it("rejects with OpenSSL's error when the peer answers in plain text", async () => {
    await using s = await startServer({ sniffTimeoutMs: 100 });
    const error = await inspectTls({
      host: "127.0.0.1",
      port: s.port,
      name: "x",
      timeoutMs: 3000,
    }).catch((caught: { code?: string }) => caught);
    expect(tlsErrorCode(String((error as { code?: string }).code))).toBe(
      "CHAT_ERR_TLS_PLAINTEXT_SERVER",
    );
  });
});
