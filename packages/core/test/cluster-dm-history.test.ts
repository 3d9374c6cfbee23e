import { until } from "@tcpchat/testing/redis-server";
import { describe, expect, it } from "vitest";
import { createServer, openSqliteStore, type SqliteStore } from "../src/index.js";
import { clusterFixture } from "./cluster-fixture.js";
import { LineClient, retry } from "./helpers.js";

/**
 * Direct messages between two nodes of a cluster on a real redis-server, each node with a store
 * of its own: a DM between two logged-in users is stored on the sender's node and on the
 * recipient's, once on each, with one id, so each end's `/history NICK` lists it.
 */

const cluster = clusterFixture();
const open = cluster.open;

async function startNode(prefix: string) {
  const store: SqliteStore = openSqliteStore(":memory:");
  const server = createServer({ store, modeSettleMs: 50, redis: cluster.nodeRedis(prefix) });
  const { port } = await server.listen(0, "127.0.0.1");
  return {
    server,
    port,
    /** Messages this node's store has written, once nothing is waiting to be written. */
    async written(): Promise<number> {
      await until(() => server.stats().history!.queued === 0, "the history writer to catch up");
      return server.stats().history!.written;
    },
    async [Symbol.asyncDispose]() {
      await server.close({ graceMs: 200 });
      store.close();
    },
  };
}

/**
 * A text client on `port` that takes `nick` (once the node holding it before has let it go:
 * nicks are unique across the cluster) and registers it on that node.
 */
async function registered(port: number, nick: string): Promise<LineClient> {
  const client = await LineClient.greeted(port);
  open.push(client);
  const answer = await retry(
    () => client.ask(`/nick ${nick}`, /known as|^!!! /),
    (line) => line.includes("known as"),
  );
  expect(answer).toMatch(new RegExp(`known as ${nick}$`));
  await client.ask("/register correct-horse", new RegExp(`^\\*\\*\\* registered ${nick}`));
  return client;
}

/** The history lines `/history NICK` printed. */
async function dmHistory(client: LineClient, nick: string): Promise<string[]> {
  const from = client.lines.length;
  client.send(`/history ${nick}`);
  await client.waitFor(/^(\*\*\* (end of history|no messages found)|!!! )/, 5000, from);
  return client.lines.slice(from).filter((line) => line.startsWith("*dm* [history "));
}

describe("direct-message history across nodes", () => {
  it("a DM between logged-in users on two nodes is stored once on each node, and both ends read it", async () => {
    await using a = await startNode("dmhist1");
    await using b = await startNode("dmhist1");
    // Accounts live in each node's store: each node gets both accounts, registered there.
    (await registered(b.port, "alice")).close();
    const alice = await registered(a.port, "alice");
    (await registered(a.port, "bob")).close();
    const bob = await registered(b.port, "bob");

    await alice.ask("/msg bob hello across", "*dm* -> bob: hello across");
    await bob.waitFor("*dm* <alice> hello across");
    await bob.ask("/msg alice hi back", "*dm* -> alice: hi back");
    await alice.waitFor("*dm* <bob> hi back");

    const expected = [
      expect.stringMatching(/^\*dm\* \[history [^\]]+\] <alice> -> bob: hello across$/),
      expect.stringMatching(/^\*dm\* \[history [^\]]+\] <bob> -> alice: hi back$/),
    ];
    // The sender's node stores a DM once the recipient's node says it delivered it.
    const onA = await retry(
      () => dmHistory(alice, "bob"),
      (lines) => lines.length >= 2,
    );
    const onB = await retry(
      () => dmHistory(bob, "alice"),
      (lines) => lines.length >= 2,
    );
    expect(onA).toEqual(expected);
    // The same messages, once each, with the same ids and times, on both nodes.
    expect(onB).toEqual(onA);
    expect(await a.written()).toBe(2);
    expect(await b.written()).toBe(2);
    // Each node stored one DM as its sender's copy, told by the other node.
    expect(a.server.stats().cluster!.dmsKept).toBe(1);
    expect(b.server.stats().cluster!.dmsKept).toBe(1);
  });

  it("a DM across nodes with a guest at either end is delivered and stored nowhere", async () => {
    await using a = await startNode("dmhist2");
    await using b = await startNode("dmhist2");
    (await registered(b.port, "dana")).close();
    const dana = await registered(a.port, "dana");
    const guest = await LineClient.greeted(b.port);
    open.push(guest);
    await guest.ask("/nick erin", /known as erin$/);
    await dana.ask("/msg erin to a guest", "*dm* -> erin: to a guest");
    await guest.waitFor("*dm* <dana> to a guest");
    await guest.ask("/msg dana from a guest", "*dm* -> dana: from a guest");
    await dana.waitFor("*dm* <erin> from a guest");
    // A message between two accounts after them, stored on A once B has it: the guest DMs,
    // sent before, would be there by then.
    (await registered(a.port, "fay")).close();
    const fay = await registered(b.port, "fay");
    await fay.ask("/msg dana marker", "*dm* -> dana: marker");
    for (const [reader, other] of [
      [dana, "fay"],
      [fay, "dana"],
    ] as const) {
      expect(
        await retry(
          () => dmHistory(reader, other),
          (lines) => lines.length === 1,
        ),
      ).toHaveLength(1);
    }
    // Only the marker, on both nodes: the sender's node kept its copy, the other kept none.
    expect(await a.written()).toBe(1);
    expect(await b.written()).toBe(1);
    expect(b.server.stats().cluster!.dmsKept).toBe(1);
    expect(a.server.stats().cluster!.dmsKept).toBe(0);
  });
});
