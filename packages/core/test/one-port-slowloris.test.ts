import { connect, type Socket } from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import { createAcceptPolicy } from "../src/index.js";
import { LineClient, startServer } from "./helpers.js";
import { makeCertificate, removeCertificate } from "./peers.js";

const cert = makeCertificate("tcpchat-slowloris");
afterAll(() => removeCertificate(cert));

/** A socket that sends `first` and then nothing: a slowloris between two drips. */
function unfinished(port: number, first: Buffer): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.on("error", () => {});
    socket.once("connect", () => {
      socket.write(first);
      resolve(socket);
    });
    socket.once("error", reject);
  });
}

/**
 * Tries, every 100 ms until `timeoutMs`, to join as a text client; resolves with the greeting,
 * or with the refusals seen. The slowloris sockets are routed as soon as their bytes are read,
 * so the first tries may come before they are held: retrying waits for that, not a sleep.
 */
async function newcomer(port: number, timeoutMs: number) {
  const refusals: string[] = [];
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const client = await LineClient.open(port);
    const first = await client
      .waitFor(/^(\*\*\* tcpchat\/|!!! CHAT_ERR_)/, Math.max(1, deadline - Date.now()))
      .catch(() => undefined);
    client.close();
    if (first?.startsWith("*** tcpchat/")) return { greeted: true, refusals };
    if (first !== undefined) refusals.push(first.slice(0, 40));
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { greeted: false, refusals };
}

const CASES = [
  {
    name: "a TLS handshake",
    options: { tls: { cert: cert.cert, key: cert.key } },
    // A record header announcing a 512-byte ClientHello, and its first bytes: never finished.
    first: Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03]),
  },
  {
    name: "an HTTP request head",
    options: { http: true },
    first: Buffer.from("GET /ws HTTP/1.1\r\nHost: chat.example.org\r\nUpgrade: websocket\r\n"),
  },
];

describe("the connection cap against a slowloris on the one port", () => {
  for (const { name, options, first } of CASES) {
    it(`a connection stuck in ${name} makes room for a newcomer at the cap`, async () => {
      await using s = await startServer({
        ...options,
        sniffTimeoutMs: 50,
        evictMinAgeMs: 0,
        policy: createAcceptPolicy({ maxConnections: 2 }),
      });
      const stuck = [await unfinished(s.port, first), await unfinished(s.port, first)];
      const closed = stuck.map((socket) => new Promise((resolve) => socket.once("close", resolve)));
      const result = await newcomer(s.port, 3000);
      expect(result, JSON.stringify(result.refusals)).toMatchObject({ greeted: true });
      // The oldest stuck connection was dropped for it, and counted as an eviction.
      await Promise.race(closed);
      expect(s.server.stats().evictions).toBeGreaterThanOrEqual(1);
      for (const socket of stuck) socket.destroy();
    });
  }
});
