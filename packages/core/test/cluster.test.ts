import { RedisServer, until } from "@tcpchat/testing/redis-server";
import { createClient } from "redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PUBLISH_BATCH } from "../src/cluster/scripts.js";
import { type ChatServerOptions, createServer } from "../src/index.js";
import { LineClient } from "./helpers.js";
import { JsonWebSocket } from "./ws-peers.js";

/**
 * Servers joined by a real redis-server on loopback: rooms, presence, nicks and DMs span them.
 * Every node is a real ChatServer with real sockets; only the process is shared.
 */

let redis: RedisServer;
beforeAll(async () => {
  redis = await RedisServer.start();
});
afterAll(async () => {
  await redis?.[Symbol.asyncDispose]();
});

/** A node of the cluster on 127.0.0.1 port 0, with a prefix of its own (tests share a Redis). */
async function startNode(prefix: string, options: ChatServerOptions = {}) {
  const server = createServer({
    webSocket: true,
    modeSettleMs: 50,
    redis: { url: redis.url, prefix, heartbeatMs: 200, nodeTtlMs: 1000 },
    ...options,
  });
  const { port } = await server.listen(0, "127.0.0.1");
  return {
    server,
    port,
    async [Symbol.asyncDispose]() {
      await server.close({ graceMs: 500 });
    },
  };
}

const hello = (nick: string, room?: string) => ({
  type: "hello",
  proto: 1,
  nick,
  ...(room ? { room } : {}),
});

async function jsonClient(port: number, nick: string): Promise<LineClient> {
  const client = await LineClient.open(port);
  client.send(JSON.stringify(hello(nick)));
  await client.waitFor(/"type":"welcome"/);
  return client;
}

async function textClient(port: number, nick: string): Promise<LineClient> {
  const client = await LineClient.greeted(port);
  client.send(`/nick ${nick}`);
  await client.waitFor(new RegExp(`-> ${nick}|is now ${nick}|${nick}`));
  return client;
}

async function wsClient(port: number, nick: string): Promise<JsonWebSocket> {
  const client = new JsonWebSocket(`ws://127.0.0.1:${port}/ws`);
  await client.opened;
  client.send(hello(nick));
  await client.waitFor((frame) => frame.type === "welcome");
  return client;
}

/** The texts of `from`'s messages a line client got, in order (text or JSON lines). */
function linesFrom(client: LineClient, from: string): string[] {
  const texts: string[] = [];
  for (const line of client.lines) {
    if (line.startsWith("{")) {
      const frame = JSON.parse(line) as { type: string; from?: string; text?: string };
      if (frame.type === "message" && frame.from === from) texts.push(frame.text!);
    } else {
      const match = /^#lobby <([^>]+)> (.*)$/.exec(line);
      if (match?.[1] === from) texts.push(match[2]!);
    }
  }
  return texts;
}

function framesFrom(client: JsonWebSocket, from: string): string[] {
  return client.frames
    .filter((frame) => frame.type === "message" && frame.from === from)
    .map((frame) => frame.text as string);
}

describe("a cluster of two nodes on Redis", () => {
  it("relays every message to every member on both nodes once, in order, in every mode", async () => {
    await using a = await startNode("t1");
    await using b = await startNode("t1");
    const textA = await textClient(a.port, "tina");
    const jsonB = await jsonClient(b.port, "jack");
    const webA = await wsClient(a.port, "wanda");
    const webB = await wsClient(b.port, "walt");
    // Everyone is in #lobby on one node or the other: each sees all four in /who.
    await until(
      () => a.server.rooms()[0]?.members === 4 && b.server.rooms()[0]?.members === 4,
      "4 members on both nodes",
    );

    const perSender = 30;
    const senders: Array<[string, (text: string) => void]> = [
      ["tina", (text) => textA.send(text)],
      ["jack", (text) => jsonB.send(JSON.stringify({ type: "send", text }))],
      ["wanda", (text) => webA.send({ type: "send", text })],
      ["walt", (text) => webB.send({ type: "send", text })],
    ];
    for (let i = 0; i < perSender; i++) {
      for (const [nick, send] of senders) send(`${nick} ${i}`);
    }
    const expected = (nick: string) => Array.from({ length: perSender }, (_, i) => `${nick} ${i}`);
    for (const [nick] of senders) {
      await until(
        () =>
          linesFrom(textA, nick).length >= perSender &&
          linesFrom(jsonB, nick).length >= perSender &&
          framesFrom(webA, nick).length >= perSender &&
          framesFrom(webB, nick).length >= perSender,
        `every member hears ${nick}`,
      );
    }
    for (const [nick] of senders) {
      expect(linesFrom(textA, nick)).toEqual(expected(nick));
      expect(linesFrom(jsonB, nick)).toEqual(expected(nick));
      expect(framesFrom(webA, nick)).toEqual(expected(nick));
      expect(framesFrom(webB, nick)).toEqual(expected(nick));
    }
    // Message ids are unique across the cluster.
    const ids = webA.frames.filter((f) => f.type === "message").map((f) => f.id);
    expect(new Set(ids).size).toBe(ids.length);
    // Each batch was published once by its node and received once by the other.
    const statsA = a.server.stats().cluster!;
    const statsB = b.server.stats().cluster!;
    expect(statsA.received).toBeGreaterThan(0);
    expect(statsA.published).toBeGreaterThan(0);
    expect(statsB.received).toBeGreaterThan(0);
    // /metrics of each node carries its own figures, labelled with its node id.
    const metrics = await (await fetch(`http://127.0.0.1:${a.port}/metrics`)).text();
    const nodeA = a.server.cluster!.nodeId;
    expect(metrics).toContain(
      `tcpchat_cluster_batches_received_total{node="${nodeA}"} ${a.server.stats().cluster!.received}`,
    );
    expect(metrics).toMatch(
      new RegExp(`tcpchat_cluster_batches_published_total\\{node="${nodeA}"\\} [1-9]`),
    );
    for (const client of [textA, jsonB]) client.close();
    for (const client of [webA, webB]) client.close();
  });

  it("sends a DM only to the node that holds its target", async () => {
    await using a = await startNode("t2");
    await using b = await startNode("t2");
    await using c = await startNode("t2");
    const amy = await jsonClient(a.port, "amy");
    const bob = await textClient(b.port, "bob");
    const cat = await jsonClient(c.port, "cat");
    await until(() => a.server.cluster!.remoteNick("bob") === "bob", "node a knows bob");
    amy.send(JSON.stringify({ type: "dm", to: "BOB", text: "psst", ref: "d1" }));
    await amy.waitFor(/"type":"ack","ref":"d1"/);
    await bob.waitFor(/^\*dm\* <amy> psst$|amy.*psst/);
    // Only bob's node wrote it: the third node delivered nothing.
    await until(() => b.server.stats().deliveries > 0, "b delivered");
    expect(b.server.stats().cluster!.dmsReceived).toBe(1);
    expect(c.server.stats().cluster!.dmsReceived).toBe(0);
    expect(a.server.stats().cluster!.dmsReceived).toBe(0);
    expect(cat.lines.some((line) => line.includes("psst"))).toBe(false);
    // A nick nobody holds is still an error.
    amy.send(JSON.stringify({ type: "dm", to: "nobody", text: "hi", ref: "d2" }));
    await amy.waitFor(/CHAT_ERR_NO_SUCH_NICK/);
    for (const client of [amy, bob, cat]) client.close();
  });

  it("keeps nicks unique across nodes, and frees them when their holder leaves", async () => {
    await using a = await startNode("t3");
    await using b = await startNode("t3");
    const first = await jsonClient(a.port, "alice");
    await until(() => b.server.cluster!.remoteNick("alice") === "alice", "node b knows alice");
    const second = await LineClient.open(b.port);
    second.send(JSON.stringify(hello("guest")));
    await second.waitFor(/"type":"welcome"/);
    second.send(JSON.stringify({ type: "nick", nick: "ALICE", ref: "n1" }));
    const refused = await second.waitFor(/"ref":"n1"/);
    expect(JSON.parse(refused)).toMatchObject({ type: "error", code: "CHAT_ERR_NICK_IN_USE" });
    first.send(JSON.stringify({ type: "quit" }));
    await until(() => b.server.cluster!.remoteNick("alice") === undefined, "alice freed on b");
    second.send(JSON.stringify({ type: "nick", nick: "alice", ref: "n2" }));
    await second.waitFor(/"type":"ack","ref":"n2"/);
    first.close();
    second.close();
  });

  it("refuses a nick that looks like one held on another node, and allows it once that one is free", async () => {
    await using a = await startNode("t3look");
    await using b = await startNode("t3look");
    const first = await jsonClient(a.port, "alice");
    await until(() => b.server.cluster!.remoteNick("alice") === "alice", "node b knows alice");
    const second = await jsonClient(b.port, "guesty");
    // A Cyrillic "а" (U+0430) first: the same TR39 skeleton as "alice", another key.
    second.send(JSON.stringify({ type: "nick", nick: "\u0430lice", ref: "n1" }));
    const refused = JSON.parse(await second.waitFor(/"ref":"n1"/));
    expect(refused).toMatchObject({
      type: "error",
      code: "CHAT_ERR_NAME_CONFUSABLE",
      message: "The nick \u0430lice looks like alice, who is connected.",
    });
    first.send(JSON.stringify({ type: "quit" }));
    await until(() => b.server.cluster!.remoteNick("alice") === undefined, "alice freed on b");
    second.send(JSON.stringify({ type: "nick", nick: "\u0430lice", ref: "n2" }));
    await second.waitFor(/"type":"ack","ref":"n2"/);
    // And the other way round: node a now refuses the Latin spelling.
    await until(() => a.server.cluster!.remoteNick("\u0430lice") !== undefined, "node a knows it");
    const third = await jsonClient(a.port, "other");
    third.send(JSON.stringify({ type: "nick", nick: "alice", ref: "n3" }));
    expect(JSON.parse(await third.waitFor(/"ref":"n3"/))).toMatchObject({
      code: "CHAT_ERR_NAME_CONFUSABLE",
    });
    for (const client of [first, second, third]) client.close();
  });

  it("hears a room again on a node where it emptied and filled again", async () => {
    await using a = await startNode("t9");
    await using b = await startNode("t9");
    const red = await jsonClient(a.port, "red");
    const pink = await jsonClient(b.port, "pink");
    await red.waitFor(/"type":"join".*"nick":"pink"/);
    pink.send(JSON.stringify({ type: "quit" }));
    await red.waitFor(/"type":"part".*"nick":"pink"/);
    const teal = await jsonClient(b.port, "teal");
    await red.waitFor(/"type":"join".*"nick":"teal"/);
    red.send(JSON.stringify({ type: "send", text: "hi teal" }));
    await teal.waitFor(/"text":"hi teal"/);
    for (const client of [red, pink, teal]) client.close();
  });

  it("when two nodes give out one nick at once, the node whose claim Redis did not keep takes it back", async () => {
    await using a = await startNode("t8");
    await using b = await startNode("t8");
    // Node a claims "zed" in Redis without telling the others (what a claim racing b's looks like).
    const raw = createClient({ url: redis.url });
    await raw.connect();
    await raw.hSet("t8:nicks", "zed", `${a.server.cluster!.nodeId} zed`);
    raw.destroy();
    const zed = await LineClient.open(b.port);
    zed.send(JSON.stringify(hello("zoe")));
    await zed.waitFor(/"type":"welcome"/);
    zed.send(JSON.stringify({ type: "nick", nick: "zed", ref: "z1" }));
    await zed.waitFor(/"type":"ack","ref":"z1"/);
    const lost = JSON.parse(await zed.waitFor(/CHAT_ERR_NICK_IN_USE/)) as { message: string };
    expect(lost.message).toMatch(
      /^The nick zed was taken on another server of this cluster at the same moment; you are guest-[0-9a-f]{6} now\.$/,
    );
    await zed.waitFor(/"type":"nick".*"old":"zed","new":"guest-/);
    expect(b.server.sessions()[0]!.nick).toMatch(/^guest-/);
    zed.close();
  });

  it("shows members of every node in who, and tells each node of joins and parts", async () => {
    await using a = await startNode("t4");
    await using b = await startNode("t4");
    const ann = await jsonClient(a.port, "ann");
    const ben = await textClient(b.port, "ben");
    await ann.waitFor(/"type":"join".*"nick":"ben"/);
    ann.send(JSON.stringify({ type: "who", ref: "w1" }));
    const who = JSON.parse(await ann.waitFor(/"type":"presence".*"count":2/)) as {
      nicks: string[];
    };
    expect(who.nicks.sort()).toEqual(["ann", "ben"]);
    // A nick change is heard once on the other node, however many rooms it shares.
    ann.send(JSON.stringify({ type: "join", room: "second", ref: "j1" }));
    await ann.waitFor(/"type":"ack","ref":"j1"/);
    ben.send("/join second");
    await ann.waitFor(/"type":"join","ts":\d+,"room":"second","nick":"ben"/);
    ben.send("/nick benny");
    await ann.waitFor(/"type":"nick".*"old":"ben","new":"benny"/);
    ann.send(JSON.stringify({ type: "who", room: "lobby", ref: "w2" }));
    await ann.waitFor(/"type":"ack","ref":"w2"/);
    expect(
      ann.lines.filter((line) => line.includes('"old":"ben"')),
      ann.lines.join("\n"),
    ).toHaveLength(1);
    expect(ann.lines.some((line) => /"type":"presence".*"benny"/.test(line))).toBe(true);
    ben.send("/quit bye");
    await ann.waitFor(/"type":"part".*"nick":"benny"/);
    await until(
      () => a.server.rooms().every((room) => room.members === 1),
      "ben gone from a's rooms",
    );
    ann.close();
  });

  it("loses and duplicates nothing when redis-server restarts empty mid-chat", async () => {
    // A Redis of its own: it is killed and restarted (without persistence its data is lost).
    await using own = await RedisServer.start();
    const options = {
      messageRate: 1000,
      messageBurst: 1000,
      redis: { url: own.url, heartbeatMs: 200, nodeTtlMs: 1000 },
    };
    await using a = await startNode("t5", options);
    await using b = await startNode("t5", options);
    const ada = await jsonClient(a.port, "ada");
    const bea = await jsonClient(b.port, "bea");
    await ada.waitFor(/"type":"join".*"nick":"bea"/);
    const total = 200;
    let restarted: Promise<void> | undefined;
    for (let i = 0; i < total; i++) {
      ada.send(JSON.stringify({ type: "send", text: `a${i}` }));
      bea.send(JSON.stringify({ type: "send", text: `b${i}` }));
      if (i === total / 4) restarted = own.restart();
      await new Promise((resolve) => setImmediate(resolve));
      if (i === total / 2) await restarted;
    }
    const expected = (prefix: string) => Array.from({ length: total }, (_, i) => `${prefix}${i}`);
    await until(
      () => linesFrom(ada, "bea").length >= total && linesFrom(bea, "ada").length >= total,
      "every message on both nodes",
      15_000,
    );
    expect(linesFrom(ada, "bea")).toEqual(expected("b"));
    expect(linesFrom(bea, "ada")).toEqual(expected("a"));
    expect(linesFrom(ada, "ada")).toEqual(expected("a"));
    expect(linesFrom(bea, "bea")).toEqual(expected("b"));
    expect(a.server.stats().cluster!.reconnects).toBeGreaterThan(0);
    ada.close();
    bea.close();
  });

  /**
   * Batches that reach the room's log but not its channel (a publish the node never heard) are
   * written straight into Redis here; the next batch on the channel shows the gap.
   */
  async function injectUnheard(prefix: string, room: string, texts: string[], maxLen: number) {
    const raw = createClient({ url: redis.url });
    await raw.connect();
    try {
      const meta = `${prefix}:room:${room}:meta`;
      const epoch = (await raw.hGet(meta, "epoch"))!;
      const envelope = (batch: number, text: string) =>
        JSON.stringify({
          origin: "ghost",
          batch,
          frames: [{ type: "message", id: `g${batch}`, ts: 1, room, from: "ghost", text }],
        });
      for (const [i, text] of texts.slice(0, -1).entries()) {
        const seq = await raw.hIncrBy(meta, "seq", 1);
        await raw.xAdd(
          `${prefix}:room:${room}:log`,
          `${seq}-0`,
          { e: epoch, m: envelope(i + 1, text) },
          {
            TRIM: { strategy: "MAXLEN", strategyModifier: "~", threshold: maxLen },
          },
        );
      }
      await raw.eval(PUBLISH_BATCH, {
        keys: [meta, `${prefix}:room:${room}:log`, `${prefix}:room:${room}:channel`],
        arguments: [envelope(texts.length, texts.at(-1)!), String(maxLen), "unused"],
      });
    } finally {
      raw.destroy();
    }
  }

  it("fills a gap in a room's sequence from its stream, in order", async () => {
    await using a = await startNode("t6");
    const ada = await jsonClient(a.port, "ada");
    await until(() => a.server.stats().cluster!.published > 0, "ada's join published");
    const texts = ["g1", "g2", "g3", "g4", "g5", "g6"];
    await injectUnheard("t6", "lobby", texts, 10_000);
    await until(() => linesFrom(ada, "ghost").length >= texts.length, "every ghost message");
    expect(linesFrom(ada, "ghost")).toEqual(texts);
    expect(a.server.stats().cluster!.recovered).toBe(texts.length - 1);
    expect(a.server.stats().cluster!.lost).toBe(0);
    ada.close();
  });

  it("past the stream's cap, members are told how many batches were lost, then get the rest in order", async () => {
    const raw = createClient({ url: redis.url });
    await raw.connect();
    // Small stream nodes, so that MAXLEN ~ trims close to the cap.
    const before = (await raw.configGet("stream-node-max-entries"))["stream-node-max-entries"]!;
    await raw.configSet("stream-node-max-entries", "2");
    try {
      await using a = await startNode("t7", {
        redis: { url: redis.url, prefix: "t7", streamMaxLen: 4 },
      });
      const ada = await jsonClient(a.port, "ada");
      await until(() => a.server.stats().cluster!.published > 0, "ada's join published");
      const texts = Array.from({ length: 30 }, (_, i) => `g${i + 1}`);
      await injectUnheard("t7", "lobby", texts, 4);
      await ada.waitFor(/"type":"notice".*could not be recovered/);
      await until(() => linesFrom(ada, "ghost").at(-1) === "g30", "the last ghost message");
      const heard = linesFrom(ada, "ghost");
      const lost = a.server.stats().cluster!.lost;
      expect(lost).toBeGreaterThan(0);
      // What arrived is the tail of what was sent, in order, and the notice says how much is missing.
      expect(heard).toEqual(texts.slice(texts.length - heard.length));
      const notice = JSON.parse(ada.lines.find((line) => line.includes('"notice"'))!) as {
        text: string;
      };
      expect(notice.text).toBe(
        `${lost} batches of messages in #lobby could not be recovered (the cluster's log no longer has them).`,
      );
      expect(heard.length + lost).toBe(texts.length);
      // The notice comes before the first recovered message.
      const noticeAt = ada.lines.findIndex((line) => line.includes('"notice"'));
      const firstAt = ada.lines.findIndex((line) => line.includes('"from":"ghost"'));
      expect(noticeAt).toBeLessThan(firstAt);
      ada.close();
    } finally {
      await raw.configSet("stream-node-max-entries", before);
      raw.destroy();
    }
  });
});
