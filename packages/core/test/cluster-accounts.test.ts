import { until } from "@tcpchat/testing/redis-server";
import { describe, expect, it } from "vitest";
import { openSqliteStore } from "../src/index.js";
import { clusterFixture } from "./cluster-fixture.js";
import { LineClient, retry } from "./helpers.js";

/**
 * Registered nicks across two nodes of a cluster on a real redis-server. Accounts live in each
 * node's store, so a nick is protected only where its account is known: a client of another
 * node may hold it, and the owner's login there cannot take it across nodes.
 */

const cluster = clusterFixture();

function startNode(prefix: string) {
  return cluster.startNode(prefix, { store: openSqliteStore(":memory:"), modeSettleMs: 50 });
}

/** A text client that takes `nick` (once the node holding it before has let it go). */
async function named(port: number, nick: string): Promise<LineClient> {
  const client = await LineClient.greeted(port);
  cluster.open.push(client);
  const answer = await retry(
    () => client.ask(`/nick ${nick}`, /known as|^!!! /),
    (line) => line.includes("known as"),
  );
  expect(answer).toMatch(new RegExp(`known as ${nick}$`));
  return client;
}

describe("registered nicks across nodes", () => {
  it("a login cannot take the nick from a client of a node that does not know the account", async () => {
    await using a = await startNode("accounts1");
    await using b = await startNode("accounts1");
    const owner = await named(a.port, "alice");
    await owner.ask("/register correct-horse", /^\*\*\* registered alice/);
    await owner.ask("/nick zed", /known as zed$/);
    // Node B does not know the account: a client there takes the free nick.
    const holder = await named(b.port, "alice");
    await until(() => a.server.cluster?.remoteNick("alice") !== undefined, "A to see alice on B");

    const login = await named(a.port, "carol");
    expect(await login.ask("/login alice correct-horse", /^(\*\*\* logged in|!!! )/)).toBe(
      "*** logged in as alice",
    );
    const refused = await login.waitFor(/^!!! CHAT_ERR_NICK_IN_USE: /);
    expect(refused).toMatch(/taken on another server of this cluster.*you are (guest-\w+) now/);
    const guest = /you are (guest-\w+) now/.exec(refused)![1]!;
    // The holder on B keeps the nick, and hears the owner's nick come and go.
    await holder.waitFor("*** carol is now known as alice");
    await holder.waitFor(`*** alice is now known as ${guest}`);
    expect(b.server.sessions().map((s) => s.nick)).toEqual(["alice"]);
    expect(
      a.server
        .sessions()
        .map((s) => s.nick)
        .sort(),
    ).toEqual([guest, "zed"].sort());
    // Still logged in to the account: its stored DMs can be asked for (a guest is refused).
    expect(await login.ask("/history alice", /^(\*\*\* no messages|!!! )/)).toBe(
      "*** no messages found",
    );
  });
});
