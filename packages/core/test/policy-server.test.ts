import { connect } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createClient, createServer, RemoteError } from "../src/index.js";
import { createAcceptPolicy, type ManagedAcceptPolicy } from "../src/policy/index.js";
import { LineClient, startServer } from "./helpers.js";

// Loopback is a whole /8: a client that binds 127.0.0.2 is a different peer from 127.0.0.1.
const OTHER_PEER = "127.0.0.2";
const THIRD_PEER = "127.0.0.3";

const open: Array<{ close(): void }> = [];
afterEach(() => {
  for (const client of open.splice(0)) client.close();
});

async function connectFrom(port: number, localAddress?: string): Promise<LineClient> {
  const client = await LineClient.open(port, localAddress);
  open.push(client);
  return client;
}

async function greetedFrom(port: number, localAddress?: string) {
  const client = await connectFrom(port, localAddress);
  const greeting = await client.waitFor(/^\*\*\* tcpchat\/1 /);
  return Object.assign(client, { nick: /you are (\S+) in/.exec(greeting)![1]! });
}

/** A refused client gets exactly one line, then EOF: waits for the close and returns the line. */
async function refusalOf(client: LineClient): Promise<string> {
  await client.closed;
  expect(client.lines).toHaveLength(1);
  return client.lines[0]!;
}

/** Polls a condition with a deadline (server-side closes land asynchronously). */
async function until(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** Sends a message from one client and waits until another sees it: proof both still chat. */
async function chats(
  from: LineClient & { nick: string },
  to: LineClient,
  text: string,
): Promise<void> {
  from.send(text);
  expect(await to.waitFor(new RegExp(`^#lobby <${from.nick}> ${text}$`))).toBeDefined();
}

describe("accept policy in the server, over real sockets", () => {
  it("a denied address gets the reason line, then EOF, and costs no session", async () => {
    const policy = createAcceptPolicy({ deny: [`${OTHER_PEER}/32`] });
    await using s = await startServer({ policy });
    const allowed = await greetedFrom(s.port);
    const denied = await connectFrom(s.port, OTHER_PEER);
    expect(await refusalOf(denied)).toBe(
      "!!! CHAT_ERR_REFUSED_DENIED: Your address is on this server's deny list. (hint: Contact the server's operator if you should have access.)",
    );
    expect(s.server.stats()).toMatchObject({
      connections: 1,
      refused: 1,
      refusedByCode: { CHAT_ERR_REFUSED_DENIED: 1 },
    });
    expect(s.server.sessions().map((session) => session.address)).toEqual(["127.0.0.1"]);
    expect(policy.stats().byRule).toEqual({ default: 1, deny: 1 });
    expect(allowed.ended).toBe(false);
  });

  it("ChatClient surfaces a refusal as a typed RemoteError", async () => {
    await using s = await startServer({ policy: createAcceptPolicy({ allow: ["127.0.0.1"] }) });
    const client = createClient({ port: s.port, localAddress: OTHER_PEER, connectTimeoutMs: 5000 });
    const error = await client.connect().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RemoteError);
    expect(error).toMatchObject({
      code: "CHAT_ERR_REFUSED_NOT_ALLOWED",
      message: "Your address is not on this server's allow list.",
    });
    await client.quit();
  });

  it("refuses the (N+1)th connection while the first N keep chatting", async () => {
    const policy = createAcceptPolicy({ maxConnections: 3 });
    await using s = await startServer({ policy });
    const first = [
      await greetedFrom(s.port),
      await greetedFrom(s.port, OTHER_PEER),
      await greetedFrom(s.port, THIRD_PEER),
    ];
    const extra = await connectFrom(s.port);
    expect(await refusalOf(extra)).toBe(
      "!!! CHAT_ERR_REFUSED_SERVER_FULL: The server has reached its maximum of 3 connections. (hint: Retry later.)",
    );
    await chats(first[0]!, first[2]!, "still here");
    await chats(first[2]!, first[1]!, "me too");

    first[1]!.close();
    await until(() => policy.stats().connections === 2, "the policy saw the close");
    const replacement = await greetedFrom(s.port);
    await chats(replacement, first[0]!, "a free slot");
  });

  it("limits connections per address, counting 127.0.0.2 apart from 127.0.0.1", async () => {
    await using s = await startServer({ policy: createAcceptPolicy({ maxPerAddress: 1 }) });
    await greetedFrom(s.port);
    await greetedFrom(s.port, OTHER_PEER);
    const second = await connectFrom(s.port, OTHER_PEER);
    expect(await refusalOf(second)).toMatch(
      /^!!! CHAT_ERR_REFUSED_TOO_MANY_FROM_ADDRESS: Your address \(127\.0\.0\.2\) already has 1 connection, /,
    );
  });

  it("the connect rate triggers, says when to retry, and recovers", async () => {
    const clock = { now: 1_700_000_000_000 };
    const policy = createAcceptPolicy(
      { connectRate: { perSecond: 10, burst: 2, banAfter: 0 } },
      { now: () => clock.now },
    );
    await using s = await startServer({ policy });
    await greetedFrom(s.port, OTHER_PEER);
    await greetedFrom(s.port, OTHER_PEER);
    const third = await connectFrom(s.port, OTHER_PEER);
    expect(await refusalOf(third)).toBe(
      "!!! CHAT_ERR_REFUSED_RATE_LIMITED: Your address is connecting too often (this server allows 10 per second, 2 at once). retry in 1s (hint: Wait before reconnecting; use backoff between retries.)",
    );
    await greetedFrom(s.port); // another address is not limited
    clock.now += 100;
    await greetedFrom(s.port, OTHER_PEER);
  });

  it("repeated rate violations ban the address with a retry time", async () => {
    const clock = { now: 1_700_000_000_000 };
    const policy = createAcceptPolicy(
      { connectRate: { perSecond: 1, burst: 1, banAfter: 2, banDurationMs: 30_000 } },
      { now: () => clock.now },
    );
    await using s = await startServer({ policy });
    await greetedFrom(s.port, OTHER_PEER);
    expect(await refusalOf(await connectFrom(s.port, OTHER_PEER))).toMatch(
      /^!!! CHAT_ERR_REFUSED_RATE_LIMITED: /,
    );
    expect(await refusalOf(await connectFrom(s.port, OTHER_PEER))).toMatch(
      /^!!! CHAT_ERR_REFUSED_BANNED: Your address is banned for a while for connecting too often\. retry in 30s \(hint: /,
    );
    clock.now += 30_000;
    await greetedFrom(s.port, OTHER_PEER);
  });

  it("a reload with update() changes decisions without dropping sessions", async () => {
    const policy = createAcceptPolicy({});
    await using s = await startServer({ policy });
    const local = await greetedFrom(s.port);
    const other = await greetedFrom(s.port, OTHER_PEER);
    policy.update({ deny: [OTHER_PEER] });
    expect(await refusalOf(await connectFrom(s.port, OTHER_PEER))).toMatch(
      /^!!! CHAT_ERR_REFUSED_DENIED: /,
    );
    await chats(other, local, "not dropped");

    expect(() => policy.update({ deny: ["127.0.0.300"] })).toThrow(/deny\[0\]/);
    expect(await refusalOf(await connectFrom(s.port, OTHER_PEER))).toMatch(
      /^!!! CHAT_ERR_REFUSED_DENIED: /,
    );

    policy.update({});
    await chats(await greetedFrom(s.port, OTHER_PEER), other, "back");
    expect(s.server.stats().connections).toBe(3);
  });

  it("an operator ban applies to new connections at once and, if asked, to existing ones", async () => {
    const policy: ManagedAcceptPolicy = createAcceptPolicy({});
    await using s = await startServer({ policy });
    const local = await greetedFrom(s.port);
    const banned = await greetedFrom(s.port, THIRD_PEER);
    policy.ban("127.0.0.3/32", { reason: "flooding", durationMs: 60_000 });
    expect(await refusalOf(await connectFrom(s.port, THIRD_PEER))).toBe(
      "!!! CHAT_ERR_REFUSED_BANNED: Your address is banned from this server: flooding. retry in 60s (hint: Wait for the ban to expire, or contact the server's operator.)",
    );
    await chats(banned, local, "still connected");

    const cut = s.server.disconnectWhere(
      (session) => policy.isBanned(session.address) !== undefined,
      "flooding",
      "CHAT_ERR_BANNED",
    );
    expect(cut).toBe(1);
    await banned.closed;
    expect(banned.lines.at(-1)).toMatch(/^!!! CHAT_ERR_BANNED: /);
    expect(local.ended).toBe(false);

    expect(policy.unban("127.0.0.3")).toBe(true);
    await greetedFrom(s.port, THIRD_PEER);
  });

  it("an async custom predicate decides before any greeting", async () => {
    const policy = createAcceptPolicy({
      custom: async (peer) =>
        peer.address === OTHER_PEER
          ? { accept: false, message: "Peers from .2 wait for approval." }
          : true,
    });
    await using s = await startServer({ policy });
    await greetedFrom(s.port);
    expect(await refusalOf(await connectFrom(s.port, OTHER_PEER))).toMatch(
      /^!!! CHAT_ERR_REFUSED_CUSTOM: Peers from \.2 wait for approval\. \(hint: /,
    );
    expect(policy.stats().byRule).toEqual({ custom: 2 });
  });

  it("setPolicy swaps in a policy; every close is released back to zero", async () => {
    const policy = createAcceptPolicy({ maxPerAddress: 2 });
    await using s = await startServer();
    const before = await greetedFrom(s.port);
    s.server.setPolicy(policy);
    const clients = [await greetedFrom(s.port), await greetedFrom(s.port)];
    expect(await refusalOf(await connectFrom(s.port))).toMatch(
      /^!!! CHAT_ERR_REFUSED_TOO_MANY_FROM_ADDRESS: /,
    );
    expect(policy.stats().connections).toBe(2);
    for (const client of [before, ...clients]) client.close();
    await until(
      () => policy.stats().connections === 0 && s.server.stats().connections === 0,
      "all closes were released",
    );
    expect(policy.stats().trackedAddresses).toBe(0);
  });

  it("matches IPv4-mapped peers of a dual-stack listener, and IPv6 peers", async () => {
    const policy = createAcceptPolicy({ deny: ["::ffff:127.0.0.2", "::1/128"] });
    const server = createServer({ policy });
    try {
      const { port } = await server.listen(0, "::");
      const mapped = await connectFrom(port, OTHER_PEER);
      expect(await refusalOf(mapped)).toMatch(/^!!! CHAT_ERR_REFUSED_DENIED: /);
      // Skipped quietly where the machine has no IPv6 loopback.
      const v6 = await readUntilClose(port, "::1").catch(() => undefined);
      if (v6 !== undefined) expect(v6).toMatch(/^!!! CHAT_ERR_REFUSED_DENIED: .*\n$/);
      await greetedFrom(port);
      expect(policy.stats().byRule).toMatchObject({ deny: v6 === undefined ? 1 : 2, default: 1 });
    } finally {
      await server.close({ graceMs: 500 });
    }
  });
});

/** Everything a server sends to a raw connection from `host` until it closes. */
function readUntilClose(port: number, host: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host });
    let text = "";
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      text += chunk;
    });
    socket.once("error", reject);
    socket.once("close", () => resolve(text));
  });
}
