import { describe, expect, it } from "vitest";
import { clusterFixture } from "./cluster-fixture.js";
import { LineClient } from "./helpers.js";

/** `/rooms` in a cluster on a real redis-server: every node's rooms, with every node's members. */

const cluster = clusterFixture();
const open = cluster.open;

function startNode(prefix: string) {
  return cluster.startNode(prefix);
}

async function member(port: number, nick: string, room: string): Promise<LineClient> {
  const client = await LineClient.open(port);
  open.push(client);
  client.send(JSON.stringify({ type: "hello", proto: 1, nick, room }));
  await client.waitFor(/"type":"welcome"/);
  return client;
}

type RoomsFrame = { type: "rooms"; ref?: string; rooms: Array<{ name: string; members: number }> };

/** Asks for the room list and returns the answer to this request (matched by its ref). */
async function roomsOf(client: LineClient, ref: string): Promise<RoomsFrame["rooms"]> {
  const from = client.lines.length;
  client.send(JSON.stringify({ type: "rooms", ref }));
  await client.waitFor(/"type":"rooms"/, 5000, from);
  const line = client.lines.slice(from).find((l) => l.includes('"type":"rooms"'))!;
  return (JSON.parse(line) as RoomsFrame).rooms;
}

/** Asks again until `done` holds for the answer (joins and parts reach Redis asynchronously). */
async function roomsUntil(
  client: LineClient,
  done: (rooms: RoomsFrame["rooms"]) => boolean,
  what: string,
): Promise<RoomsFrame["rooms"]> {
  const deadline = Date.now() + 5000;
  for (let asked = 1; ; asked++) {
    const rooms = await roomsOf(client, `r${asked}`);
    if (done(rooms)) return rooms;
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}: ${JSON.stringify(rooms)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("/rooms in a cluster", () => {
  it("lists the rooms of every node with their members on every node, and drops rooms emptied everywhere", async () => {
    await using a = await startNode("rooms1");
    await using b = await startNode("rooms1");
    const alice = await member(a.port, "alice", "alpha");
    await member(a.port, "ann", "shared");
    const bob = await member(b.port, "bob", "beta");
    await member(b.port, "ben", "shared");
    const seen = await roomsUntil(
      bob,
      (rooms) => rooms.length === 3 && rooms.find((r) => r.name === "shared")?.members === 2,
      "every room in bob's list",
    );
    expect(seen).toEqual([
      { name: "alpha", members: 1 },
      { name: "beta", members: 1 },
      { name: "shared", members: 2 },
    ]);
    // The node's own list (the console's) stays local.
    expect(
      b.server
        .rooms()
        .map((r) => r.name)
        .sort(),
    ).toEqual(["beta", "shared"]);

    alice.close();
    const after = await roomsUntil(bob, (rooms) => rooms.length === 2, "alpha to leave bob's list");
    expect(after.map((r) => r.name)).toEqual(["beta", "shared"]);
  });
});
