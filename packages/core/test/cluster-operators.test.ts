import { until } from "@tcpchat/testing/redis-server";
import { describe, expect, it } from "vitest";
import {
  createAcceptPolicy,
  createServer,
  openSqliteStore,
  type SqliteStore,
} from "../src/index.js";
import { clusterFixture } from "./cluster-fixture.js";
import { LineClient, retry } from "./helpers.js";

/**
 * Topics and kicks across the nodes of a cluster on a real redis-server: a topic set on one
 * node is the room's topic on every node (joins, `/topic`, a node that starts later), and a
 * kick of a nick held on another node reaches it, and the operator hears the result.
 */

const cluster = clusterFixture();
const open = cluster.open;

async function startNode(prefix: string) {
  const store: SqliteStore = openSqliteStore(":memory:");
  // A ban list, shared by the nodes: operator accounts' /ban acts on it.
  const policy = createAcceptPolicy({});
  const server = createServer({
    store,
    policy,
    modeSettleMs: 50,
    redis: cluster.nodeRedis(prefix),
  });
  const { port } = await server.listen(0, "127.0.0.1");
  return {
    server,
    store,
    policy,
    port,
    async [Symbol.asyncDispose]() {
      await server.close({ graceMs: 200 });
      store.close();
    },
  };
}

/** A text client on `node` logged in as alice, a registered operator account. */
async function operatorOn(node: Awaited<ReturnType<typeof startNode>>): Promise<LineClient> {
  const alice = await LineClient.greeted(node.port);
  open.push(alice);
  await alice.ask("/nick alice", /known as alice$/);
  await alice.ask("/register correct-horse", /^\*\*\* registered alice/);
  expect(node.store.setOperator("alice", true)).toBe(true);
  await alice.ask("/login alice correct-horse", "*** logged in as alice");
  return alice;
}

async function jsonMember(port: number, nick: string, room: string): Promise<LineClient> {
  const client = await LineClient.open(port);
  open.push(client);
  client.send(JSON.stringify({ type: "hello", proto: 1, nick, room }));
  await client.waitFor(/"type":"welcome"/);
  return client;
}

const topicLines = (client: LineClient) =>
  client.lines.filter((l) => l.includes('"type":"topic"')).map((l) => JSON.parse(l));

describe("topics across nodes", () => {
  it("a topic set on node A is shown once to members on B, kept on B and shown to B's joiners", async () => {
    await using a = await startNode("topics1");
    await using b = await startNode("topics1");
    await jsonMember(a.port, "alice", "dev");
    const bob = await jsonMember(b.port, "bob", "dev");
    a.server.setTopic("#dev", "release on friday");
    await bob.waitFor(/"type":"topic".*release on friday/);
    await until(() => b.server.topic("#dev")?.text === "release on friday", "B to keep the topic");
    expect(b.server.topic("#dev")).toMatchObject({ by: "operator" });
    const carol = await jsonMember(b.port, "carol", "dev");
    await carol.waitFor(/"type":"topic".*release on friday/);
    // Once: from B, not again in A's batch. A message after it proves nothing else is coming.
    const probe = await jsonMember(a.port, "probe", "dev");
    probe.send(JSON.stringify({ type: "send", text: "after the topic" }));
    await bob.waitFor(/after the topic/);
    expect(topicLines(bob)).toHaveLength(1);
  });

  it("a topic set where the room has no member reaches its members on other nodes; a clear anywhere clears it everywhere", async () => {
    await using a = await startNode("topics2");
    await using b = await startNode("topics2");
    const dave = await jsonMember(b.port, "dave", "ops");
    a.server.setTopic("#ops", "quiet please");
    await dave.waitFor(/"type":"topic".*quiet please/);
    await until(() => b.server.topic("ops")?.text === "quiet please", "B to keep the topic");
    b.server.setTopic("#ops", "");
    await until(() => a.server.topic("#ops") === undefined, "A to hear the clear");
    await dave.waitFor(/"type":"topic","room":"ops","text":""/);
    // A node that starts later reads the topics there are (none for #ops now, one for #dev).
    a.server.setTopic("#dev", "standup at ten");
    await until(() => b.server.topic("#dev") !== undefined, "B to hear the topic");
    await using late = await startNode("topics2");
    expect(late.server.topic("#dev")?.text).toBe("standup at ten");
    expect(late.server.topic("#ops")).toBeUndefined();
    expect(late.store.loadTopics().map((t) => t.text)).toEqual(["standup at ten"]);
  });
});

describe("kicks across nodes", () => {
  it("the console of node A kicks a nick held on node B, and hears who it kicked", async () => {
    await using a = await startNode("kicks1");
    await using b = await startNode("kicks1");
    const bob = await LineClient.greeted(b.port);
    open.push(bob);
    await bob.ask("/nick Bob", /known as Bob$/);
    // Node A learns that B holds the nick asynchronously: asked again until it does.
    expect(
      await retry(
        () => a.server.kickAnywhere("bob", "too noisy"),
        (nick) => nick !== null,
      ),
    ).toBe("Bob");
    await bob.waitFor(/^!!! CHAT_ERR_KICKED: .*too noisy/);
    await bob.closed;
    expect(await a.server.kickAnywhere("nobody-here", "x")).toBeNull();
  });

  it("an operator account's /kick on node A reaches a member on node B", async () => {
    await using a = await startNode("kicks2");
    await using b = await startNode("kicks2");
    const alice = await operatorOn(a);
    const bob = await jsonMember(b.port, "bob", "lobby");
    expect(
      await retry(
        () => alice.ask("/kick bob enough", /kicked bob|^!!! /),
        (answer) => !answer.includes("CHAT_ERR_NO_SUCH_NICK"),
      ),
    ).toBe("*** kicked bob (on another node)");
    await bob.waitFor(/"code":"CHAT_ERR_KICKED".*kicked by alice: enough/);
    await bob.closed;
    expect(await alice.ask("/kick bob again", /^!!! /)).toMatch(/^!!! CHAT_ERR_NO_SUCH_NICK: /);
  });
});

describe("/ban --kick across nodes", () => {
  /** A member in `room` on `port`, connected from `address`. */
  async function memberFrom(port: number, address: string, nick: string): Promise<LineClient> {
    const client = await LineClient.open(port, address);
    open.push(client);
    client.send(JSON.stringify({ type: "hello", proto: 1, nick, room: "lobby" }));
    await client.waitFor(/"type":"welcome"/);
    return client;
  }

  it("an operator account's /ban on node A disconnects the banned address's members on node B too", async () => {
    await using a = await startNode("bankick1");
    await using b = await startNode("bankick1");
    const alice = await operatorOn(a);
    const nearA = await memberFrom(a.port, "127.0.0.2", "mallory");
    const nearB = await memberFrom(b.port, "127.0.0.2", "trudy");
    const bystander = await memberFrom(b.port, "127.0.0.4", "carol");
    // B counts as a node for A once A has read its heartbeat.
    await until(() => a.server.cluster!.knownNodes().length === 2, "A to see node B");
    expect(await alice.ask("/ban 127.0.0.2 15m spam", /^\*\*\* banned|^!!! /)).toBe(
      "*** banned 127.0.0.2 for 15m; disconnected 2 (1 on other nodes)",
    );
    await nearA.waitFor(/"code":"CHAT_ERR_KICKED".*banned by alice: spam/);
    await nearB.waitFor(/"code":"CHAT_ERR_KICKED".*banned by alice: spam/);
    await nearB.closed;
    const nicksOn = (node: typeof b) => node.server.sessions().map((s) => s.nick);
    await until(() => nicksOn(b).join() === "carol", "B to drop trudy's session");
    expect(bystander.lines.some((l) => l.includes("CHAT_ERR_KICKED"))).toBe(false);
  });

  it("an operator account's /ban NICK on node A bans the address of a nick held on node B", async () => {
    await using a = await startNode("bankick3");
    await using b = await startNode("bankick3");
    const alice = await operatorOn(a);
    const trudy = await memberFrom(b.port, "127.0.0.2", "Trudy");
    // Node A learns that B holds the nick asynchronously: asked again until it does.
    expect(
      await retry(
        () => alice.ask("/ban trudy 1h", /^\*\*\* banned|^!!! /),
        (answer) => !answer.startsWith("!!! "),
      ),
    ).toBe("*** banned 127.0.0.2 (Trudy) for 1h; disconnected 1 (1 on other nodes)");
    await trudy.waitFor(/"code":"CHAT_ERR_KICKED".*banned by alice/);
    await until(() => b.policy.isBanned("127.0.0.2") !== undefined, "B to hear the ban");
    expect(a.policy.isBanned("127.0.0.2")?.reason).toBe("banned by alice");
    // Gone everywhere: now it is neither a nick nor an address.
    expect(await alice.ask("/ban trudy", /^\*\*\* banned|^!!! /)).toMatch(
      /^!!! CHAT_ERR_BAD_ARGUMENT: Nobody called trudy is connected/,
    );
  });

  it("the console's ban with --kick on node A disconnects covered members on every other node", async () => {
    await using a = await startNode("bankick2");
    await using b = await startNode("bankick2");
    await using c = await startNode("bankick2");
    const onB = await memberFrom(b.port, "127.0.0.5", "eve");
    const onC = await memberFrom(c.port, "127.0.0.6", "oscar");
    const outside = await memberFrom(c.port, "127.0.0.9", "peggy");
    await until(() => a.server.cluster!.knownNodes().length === 3, "A to see nodes B and C");
    expect(await a.server.disconnectCoveredElsewhere("127.0.0.4/30", "block of spammers")).toBe(2);
    await onB.waitFor(/"code":"CHAT_ERR_BANNED".*block of spammers/);
    await onC.waitFor(/"code":"CHAT_ERR_BANNED".*block of spammers/);
    const nicksOn = (node: typeof c) => node.server.sessions().map((s) => s.nick);
    await until(() => nicksOn(c).join() === "peggy", "C to drop oscar's session");
    expect(outside.lines.some((l) => l.includes("CHAT_ERR_BANNED"))).toBe(false);
  });
});
