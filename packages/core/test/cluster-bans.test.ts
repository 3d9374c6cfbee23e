import { until } from "@tcpchat/testing/redis-server";
import { describe, expect, it } from "vitest";
import { createAcceptPolicy, createServer, type ManagedAcceptPolicy } from "../src/index.js";
import { clusterFixture } from "./cluster-fixture.js";
import { LineClient } from "./helpers.js";

/**
 * Operator bans across the nodes of a cluster on a real redis-server: made on one node, they
 * refuse new connections on every node; lifted on any node, they are lifted everywhere.
 */

const BANNED_PEER = "127.0.0.3";

const cluster = clusterFixture();
const open = cluster.open;

async function startNode(prefix: string) {
  const policy: ManagedAcceptPolicy = createAcceptPolicy({});
  const server = createServer({
    policy,
    redis: cluster.nodeRedis(prefix),
  });
  const { port } = await server.listen(0, "127.0.0.1");
  return {
    server,
    policy,
    port,
    async [Symbol.asyncDispose]() {
      await server.close({ graceMs: 200 });
    },
  };
}

async function connectFrom(port: number, localAddress?: string): Promise<LineClient> {
  const client = await LineClient.open(port, localAddress);
  open.push(client);
  return client;
}

/** A refused client gets exactly one line, then EOF. */
async function refusalOf(client: LineClient): Promise<string> {
  await client.closed;
  expect(client.lines).toHaveLength(1);
  return client.lines[0]!;
}

describe("operator bans in a cluster", () => {
  it("a ban made on one node refuses new connections on the other; an unban on either lifts it on both", async () => {
    await using a = await startNode("bans1");
    await using b = await startNode("bans1");
    a.policy.ban(`${BANNED_PEER}/32`, { reason: "flooding", durationMs: 60_000 });
    await until(() => b.policy.isBanned(BANNED_PEER) !== undefined, "node B to hear the ban");
    expect(b.policy.bans()).toMatchObject([
      { target: BANNED_PEER, source: "operator", reason: "flooding" },
    ]);
    expect(await refusalOf(await connectFrom(b.port, BANNED_PEER))).toMatch(
      /^!!! CHAT_ERR_REFUSED_BANNED: Your address is banned from this server: flooding\. retry in (59|60)s/,
    );
    // Only that address: others still get in on node B.
    const other = await connectFrom(b.port);
    await other.waitFor(/^\*\*\* tcpchat\/1 /);

    expect(b.policy.unban(BANNED_PEER)).toBe(true);
    await until(() => a.policy.isBanned(BANNED_PEER) === undefined, "node A to hear the unban");
    const back = await connectFrom(a.port, BANNED_PEER);
    await back.waitFor(/^\*\*\* tcpchat\/1 /);
  });

  it("a node that joins later finds the bans already made, blocks included", async () => {
    await using a = await startNode("bans2");
    a.policy.ban("127.0.0.0/29", { reason: "range" });
    // The ban reaches Redis asynchronously: wait until a node that starts now would read it.
    await using b = await startNode("bans2");
    await until(() => b.policy.isBanned(BANNED_PEER) !== undefined, "the ban in Redis");
    await using late = await startNode("bans2");
    // Loaded during listen(): banned before any message on the channel.
    expect(late.policy.isBanned(BANNED_PEER)?.target).toBe("127.0.0.0/29");
    expect(await refusalOf(await connectFrom(late.port, BANNED_PEER))).toMatch(
      /^!!! CHAT_ERR_REFUSED_BANNED: .*range/,
    );
  });

  it("keeps automatic (connect-rate) bans on the node that made them", async () => {
    await using a = await startNode("bans3");
    await using b = await startNode("bans3");
    a.policy.ban("127.0.0.5", { source: "connect-rate", durationMs: 60_000 });
    a.policy.ban("127.0.0.6", { reason: "later" });
    // Changes are heard in order: once the later operator ban is there, the automatic one
    // would have been too.
    await until(() => b.policy.isBanned("127.0.0.6") !== undefined, "the operator ban");
    expect(b.policy.isBanned("127.0.0.5")).toBeUndefined();
    expect(a.policy.isBanned("127.0.0.5")?.source).toBe("connect-rate");
  });

  it("a ban lifted while Redis is down stays lifted when Redis comes back empty", async () => {
    await using a = await startNode("bans4");
    await using b = await startNode("bans4");
    a.policy.ban(`${BANNED_PEER}/32`, { reason: "flooding" });
    await until(() => b.policy.isBanned(BANNED_PEER) !== undefined, "node B to hear the ban");
    await cluster.redis.stop();
    // Lifted on B alone: A, cut off, still holds the ban and will write it back.
    expect(b.policy.unban(BANNED_PEER)).toBe(true);
    await cluster.redis.run();
    const restored = (node: typeof a) => node.server.cluster!.bans.restores > 0;
    await until(() => restored(a) && restored(b), "both nodes to write back their bans", 15_000);
    // A change made after both write-backs, heard both ways: anything announced before it
    // (the write-backs) has been heard too.
    a.policy.ban("127.0.0.7", { reason: "probe" });
    await until(() => b.policy.isBanned("127.0.0.7") !== undefined, "B to hear A's probe");
    b.policy.ban("127.0.0.8", { reason: "probe" });
    await until(() => a.policy.isBanned("127.0.0.8") !== undefined, "A to hear B's probe");
    expect(a.policy.isBanned(BANNED_PEER)).toBeUndefined();
    expect(b.policy.isBanned(BANNED_PEER)).toBeUndefined();
    // A node that starts now reads the same: the lifted ban is not in Redis as a ban.
    await using late = await startNode("bans4");
    expect(late.policy.isBanned("127.0.0.8")?.reason).toBe("probe");
    expect(late.policy.isBanned(BANNED_PEER)).toBeUndefined();
    const back = await connectFrom(a.port, BANNED_PEER);
    await back.waitFor(/^\*\*\* tcpchat\/1 /);
  });

  it("a ban made while Redis is down reaches the other nodes when it is back", async () => {
    await using a = await startNode("bans5");
    await using b = await startNode("bans5");
    await cluster.redis.stop();
    a.policy.ban(`${BANNED_PEER}/32`, { reason: "made offline" });
    await cluster.redis.run();
    await until(() => b.policy.isBanned(BANNED_PEER) !== undefined, "B to get the ban", 15_000);
    expect(b.policy.isBanned(BANNED_PEER)?.reason).toBe("made offline");
  });
});
