import { connect, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createNaiveRelay, type NaiveRelay } from "../src/servers/naive-relay.js";

/** A client that collects lines and can wait for one matching a pattern. */
function lineClient(
  port: number,
): Promise<{ socket: Socket; lines: string[]; waitFor(re: RegExp): Promise<string> }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port });
    const lines: string[] = [];
    const waiters: Array<{ re: RegExp; resolve: (line: string) => void }> = [];
    let partial = "";
    socket.setEncoding("utf8");
    socket.on("data", (text: string) => {
      const parts = (partial + text).split("\n");
      partial = parts.pop() ?? "";
      for (const line of parts) {
        lines.push(line);
        for (const w of [...waiters]) {
          if (w.re.test(line)) {
            waiters.splice(waiters.indexOf(w), 1);
            w.resolve(line);
          }
        }
      }
    });
    socket.once("error", reject);
    socket.once("connect", () =>
      resolve({
        socket,
        lines,
        waitFor: (re) => {
          const seen = lines.find((l) => re.test(l));
          if (seen) return Promise.resolve(seen);
          return new Promise((res) => waiters.push({ re, resolve: res }));
        },
      }),
    );
  });
}

describe("naive relay", () => {
  let relay: NaiveRelay | undefined;
  const sockets: Socket[] = [];
  afterEach(async () => {
    for (const s of sockets.splice(0)) s.destroy();
    await relay?.close();
    relay = undefined;
  });

  it("greets like tcpchat and broadcasts each line to the whole room, sender included", async () => {
    relay = createNaiveRelay();
    const { port } = await relay.listen(0, "127.0.0.1");
    const alice = await lineClient(port);
    const bob = await lineClient(port);
    sockets.push(alice.socket, bob.socket);
    expect(await alice.waitFor(/^\*\*\* tcpchat\/1 /)).toMatch(/you are guest-\d+ in #lobby/);
    await bob.waitFor(/^\*\*\* tcpchat\/1 /);
    alice.socket.write("hello~\n");
    expect(await bob.waitFor(/hello~/)).toMatch(/^#lobby <guest-\d+> hello~$/);
    expect(await alice.waitFor(/hello~/)).toMatch(/^#lobby <guest-\d+> hello~$/);
    expect(relay.stats()).toMatchObject({ connections: 2, messagesIn: 1, deliveries: 2 });
  });

  it("moves a client to another room with /join", async () => {
    relay = createNaiveRelay();
    const { port } = await relay.listen(0, "127.0.0.1");
    const [a, b, c] = await Promise.all([lineClient(port), lineClient(port), lineClient(port)]);
    sockets.push(a.socket, b.socket, c.socket);
    for (const client of [a, b, c]) await client.waitFor(/^\*\*\* tcpchat/);
    a.socket.write("/join pair1\n");
    b.socket.write("/join #pair1\n");
    // Each one's own line coming back proves the relay has moved it.
    a.socket.write("a-in~\n");
    await a.waitFor(/^#pair1 .* a-in~$/);
    b.socket.write("b-in~\n");
    await b.waitFor(/^#pair1 .* b-in~$/);
    c.socket.write("lobby-only~\n");
    await c.waitFor(/lobby-only~/);
    a.socket.write("to-pair~\n");
    expect(await b.waitFor(/to-pair~/)).toMatch(/^#pair1 /);
    expect(c.lines.some((l) => l.includes("to-pair~"))).toBe(false);
    expect(a.lines.some((l) => l.includes("lobby-only~"))).toBe(false);
  });

  it("coalesced: a turn's lines reach every member in order, and a move keeps them apart", async () => {
    relay = createNaiveRelay({ coalesce: true });
    const { port } = await relay.listen(0, "127.0.0.1");
    const [a, b, c] = await Promise.all([lineClient(port), lineClient(port), lineClient(port)]);
    sockets.push(a.socket, b.socket, c.socket);
    for (const client of [a, b, c]) await client.waitFor(/^\*\*\* tcpchat/);
    // Three lines in one chunk: one turn, one batch for the room.
    a.socket.write("one~\ntwo~\nthree~\n");
    await b.waitFor(/three~/);
    await c.waitFor(/three~/);
    for (const client of [a, b, c]) {
      expect(client.lines.filter((l) => l.endsWith("~")).map((l) => l.split(" ").pop())).toEqual([
        "one~",
        "two~",
        "three~",
      ]);
    }
    expect(relay.stats()).toMatchObject({ messagesIn: 3, deliveries: 9 });
    // A line sent in the turn a member leaves goes to the room it had when it was sent.
    b.socket.write("bye~\n/join elsewhere\nafter~\n");
    await b.waitFor(/after~/);
    await c.waitFor(/bye~/);
    expect(c.lines.some((l) => l.includes("after~"))).toBe(false);
  });
});
