import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { until } from "@tcpchat/testing/redis-server";
import { describe, expect, it } from "vitest";
import { type ChatStore, createServer, openDataDirectory, openSqliteStore } from "../src/index.js";
import { clusterFixture } from "./cluster-fixture.js";
import { LineClient } from "./helpers.js";

/**
 * History across the nodes of a cluster on a real redis-server, each node with a store of its
 * own: a joiner on one node reads what was said on the other, pages it by id and searches it;
 * a room that reopens on a node, or a node restarted on its data directory, fetches what it
 * missed from the room's log exactly once.
 */

const cluster = clusterFixture();
const open = cluster.open;

type Frame = Record<string, unknown>;

/** A store in memory (`--data :memory:`) or in a data directory of its own. */
type StoreKind = "memory" | "disk";

function makeStore(kind: StoreKind, dir?: string): { store: ChatStore; dir: string | undefined } {
  if (kind === "memory") return { store: openSqliteStore(":memory:"), dir: undefined };
  const where = dir ?? mkdtempSync(join(tmpdir(), "tcpchat-cluster-history-"));
  return { store: openDataDirectory(where), dir: where };
}

/** Waits until a node's batches are all in Redis (its outbox is empty): in the room's stream. */
async function published(node: { server: { stats(): { cluster?: { outbox: number } } } }) {
  await until(() => node.server.stats().cluster?.outbox === 0, "the node's outbox to empty");
}

async function startNode(prefix: string, kind: StoreKind, options: { dir?: string } = {}) {
  const { store, dir } = makeStore(kind, options.dir);
  const server = createServer({
    store,
    history: { joinLimit: 3 },
    modeSettleMs: 50,
    redis: cluster.nodeRedis(prefix),
  });
  const paused: unknown[] = [];
  server.on("history-paused", (error: unknown) => paused.push(error));
  const { port } = await server.listen(0, "127.0.0.1");
  return {
    server,
    port,
    dir,
    paused,
    /**
     * Waits until the history writer has committed what it was given, and checks that no write
     * failed: a message stored twice (the same id) fails its whole batch.
     */
    async committedCleanly(written: number) {
      const stats = () => server.stats().history!;
      await until(
        () => (stats().queued === 0 && stats().written >= written) || stats().failures > 0,
        "the history writer to commit",
      );
      expect(stats()).toMatchObject({ failures: 0, paused: false, dropped: 0 });
      expect(stats().written).toBe(written);
      expect(paused).toEqual([]);
    },
    /** Closes the node and its store; keeps the data directory unless `remove`. */
    async stop(remove = true) {
      await server.close({ graceMs: 200 });
      await store.close();
      if (remove && dir !== undefined) rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function jsonMember(port: number, nick: string, room: string): Promise<LineClient> {
  const client = await LineClient.open(port);
  open.push(client);
  client.send(JSON.stringify({ type: "hello", proto: 1, nick, room }));
  await client.waitFor(/"type":"welcome"/);
  return client;
}

const framesOf = (client: LineClient, from = 0): Frame[] =>
  client.lines
    .slice(from)
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Frame);

/** Sends messages and returns their ids, from the acks. */
async function say(client: LineClient, texts: readonly string[]): Promise<string[]> {
  const from = client.lines.length;
  texts.forEach((text, i) => {
    client.send(JSON.stringify({ type: "send", text, ref: `s-${text}-${i}` }));
  });
  const lastRef = `s-${texts.at(-1)}-${texts.length - 1}`;
  await client.waitFor(new RegExp(`"ref":"${lastRef}"`), 5000, from);
  // Its own copy comes from the room's flush, which hands the batch to the cluster first.
  await client.waitFor(new RegExp(`"type":"message".*"text":"${texts.at(-1)}"`), 5000, from);
  const acks = framesOf(client, from).filter((f) => f.type === "ack");
  return texts.map((text, i) => acks.find((f) => f.ref === `s-${text}-${i}`)?.id as string);
}

/** A history or search request; returns the message frames of its answer. */
async function ask(client: LineClient, request: Frame, ref: string): Promise<Frame[]> {
  const from = client.lines.length;
  client.send(JSON.stringify({ ...request, ref }));
  await client.waitFor(new RegExp(`"ref":"${ref}"`), 5000, from);
  return framesOf(client, from).filter((f) => f.type === "message");
}

const texts = (frames: readonly Frame[]) => frames.map((f) => f.text);

describe.each(["memory", "disk"] as const)("history across nodes, stores %s", (kind) => {
  it("a joiner on node B reads what was said on node A, pages it by id and searches it", async () => {
    const a = await startNode(`hist1${kind}`, kind);
    const b = await startNode(`hist1${kind}`, kind);
    try {
      const alice = await jsonMember(a.port, "alice", "dev");
      const ids = await say(alice, ["m1", "m2 zebra", "m3", "m4", "m5", "m6"]);
      // Ids are base-36 integers that grow (spec 4.4), not node-prefixed.
      for (const id of ids) expect(id).toMatch(/^[0-9a-z]+$/);
      const values = ids.map((id) => Number.parseInt(id, 36));
      expect([...values].sort((x, y) => x - y)).toEqual(values);

      // B has never had a member in #dev: the join fetches the room's past from its log.
      await published(a);
      const bob = await jsonMember(b.port, "bob", "dev");
      await bob.waitFor(/"text":"m6"/);
      const joinHistory = framesOf(bob).filter((f) => f.history === true);
      expect(texts(joinHistory)).toEqual(["m4", "m5", "m6"]);
      expect(joinHistory.map((f) => f.id)).toEqual(ids.slice(3));
      expect(joinHistory.every((f) => f.from === "alice" && f.room === "dev")).toBe(true);

      // Live talk both ways, then the whole history from either node.
      const [b1] = await say(bob, ["b1 giraffe"]);
      await alice.waitFor(/"text":"b1 giraffe"/);
      const [m7] = await say(alice, ["m7"]);
      await bob.waitFor(/"text":"m7"/);
      const all = ["m1", "m2 zebra", "m3", "m4", "m5", "m6", "b1 giraffe", "m7"];
      const allIds = [...ids, b1, m7];
      for (const [client, name] of [
        [bob, "b"],
        [alice, "a"],
      ] as const) {
        const latest = await ask(client, { type: "history", limit: 50 }, `${name}-latest`);
        expect(texts(latest)).toEqual(all);
        expect(latest.map((f) => f.id)).toEqual(allIds);
      }
      expect(
        texts(await ask(bob, { type: "history", dir: "before", id: ids[3], limit: 2 }, "before")),
      ).toEqual(["m2 zebra", "m3"]);
      expect(
        texts(await ask(bob, { type: "history", dir: "after", id: ids[5], limit: 5 }, "after")),
      ).toEqual(["b1 giraffe", "m7"]);
      // Search finds a message said on the other node, on both nodes.
      expect(texts(await ask(bob, { type: "search", text: "zebra" }, "s-b"))).toEqual(["m2 zebra"]);
      expect(texts(await ask(alice, { type: "search", text: "giraffe" }, "s-a"))).toEqual([
        "b1 giraffe",
      ]);

      // A text client joining on B sees the last lines of both nodes, marked as history.
      const carol = await LineClient.greeted(b.port);
      open.push(carol);
      carol.send("/join #dev");
      await carol.waitFor(/\[history .*\] <alice> m7$/);
      const lines = carol.lines.filter((l) => l.startsWith("#dev [history "));
      expect(lines.map((l) => l.replace(/^#dev \[history [^\]]+\] /, ""))).toEqual([
        "<alice> m6",
        "<bob> b1 giraffe",
        "<alice> m7",
      ]);
      await a.committedCleanly(all.length);
      await b.committedCleanly(all.length);
    } finally {
      await b.stop();
      await a.stop();
    }
  });

  it("a room reopened on a node gets what was said while it had no member there, once", async () => {
    const a = await startNode(`hist2${kind}`, kind);
    const b = await startNode(`hist2${kind}`, kind);
    try {
      const alice = await jsonMember(a.port, "alice", "ops");
      const early = await say(alice, ["e1", "e2"]);
      await published(a);
      const bob = await jsonMember(b.port, "bob", "ops");
      await bob.waitFor(/"text":"e2"/);
      const [heard] = await say(alice, ["live"]);
      await bob.waitFor(/"text":"live"/);
      // Bob leaves: #ops closes on B, and what follows is said while B has no member in it.
      bob.send(JSON.stringify({ type: "part", room: "ops", ref: "left" }));
      await bob.waitFor(/"ref":"left"/);
      const missed = await say(alice, ["x1", "x2", "x3"]);
      await published(a);
      const dave = await jsonMember(b.port, "dave", "ops");
      await dave.waitFor(/"text":"x3"/);
      expect(texts(framesOf(dave).filter((f) => f.history === true))).toEqual(["x1", "x2", "x3"]);
      const latest = await ask(dave, { type: "history", limit: 50 }, "all");
      expect(texts(latest)).toEqual(["e1", "e2", "live", "x1", "x2", "x3"]);
      expect(latest.map((f) => f.id)).toEqual([...early, heard, ...missed]);
      await b.committedCleanly(6);
    } finally {
      await b.stop();
      await a.stop();
    }
  });
});

describe("history across nodes, both nodes talking at once", () => {
  it("every message is stored once on both nodes, and both list the same ids in the same order", async () => {
    const a = await startNode("hist4", "disk");
    const b = await startNode("hist4", "memory");
    try {
      const alice = await jsonMember(a.port, "alice", "busy");
      const bob = await jsonMember(b.port, "bob", "busy");
      // B publishes bob's join once it hears the room, and A heard it: both are subscribed.
      await alice.waitFor(/"type":"join".*"nick":"bob"/);
      const texts = (who: string) => Array.from({ length: 40 }, (_, i) => `${who}${i}`);
      const [fromA, fromB] = await Promise.all([say(alice, texts("a")), say(bob, texts("b"))]);
      await alice.waitFor(/"text":"b39"/);
      await bob.waitFor(/"text":"a39"/);
      const sent = new Set([...fromA, ...fromB]);
      expect(sent.size).toBe(80);
      const onA = await ask(alice, { type: "history", limit: 100 }, "all-a");
      const onB = await ask(bob, { type: "history", limit: 100 }, "all-b");
      const idsA = onA.map((f) => f.id as string);
      expect(new Set(idsA)).toEqual(sent);
      expect(idsA).toHaveLength(80);
      expect(onB.map((f) => f.id)).toEqual(idsA);
      const values = idsA.map((id) => Number.parseInt(id, 36));
      expect([...values].sort((x, y) => x - y)).toEqual(values);
      // Each sender's messages in the order sent.
      const order = (prefix: string) =>
        onA.map((f) => f.text as string).filter((t) => t.startsWith(prefix));
      expect(order("a")).toEqual(texts("a"));
      expect(order("b")).toEqual(texts("b"));
      await a.committedCleanly(80);
      await b.committedCleanly(80);
    } finally {
      await b.stop();
      await a.stop();
    }
  });
});

describe("history across nodes, a node restarted on its data directory", () => {
  it("fetches what was said while it was down, and stores nothing twice", async () => {
    const a = await startNode("hist3", "disk");
    let b = await startNode("hist3", "disk");
    try {
      const alice = await jsonMember(a.port, "alice", "dev");
      const before = await say(alice, ["p1", "p2"]);
      await published(a);
      const bob = await jsonMember(b.port, "bob", "dev");
      await bob.waitFor(/"text":"p2"/);
      const [own] = await say(bob, ["from b"]);
      await alice.waitFor(/"text":"from b"/);
      const dir = b.dir!;
      await b.stop(false);
      const during = await say(alice, ["d1", "d2"]);
      await published(a);
      b = await startNode("hist3", "disk", { dir });
      const erin = await jsonMember(b.port, "erin", "dev");
      await erin.waitFor(/"text":"d2"/);
      const latest = await ask(erin, { type: "history", limit: 50 }, "all");
      expect(texts(latest)).toEqual(["p1", "p2", "from b", "d1", "d2"]);
      expect(latest.map((f) => f.id)).toEqual([...before, own, ...during]);
      // Only what it lacked: the two said while it was down (the rest was on disk).
      await b.committedCleanly(2);
    } finally {
      await b.stop();
      await a.stop();
    }
  });
});
