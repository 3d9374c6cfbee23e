import { type AddressInfo, createServer, type Server, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { waitFor } from "../src/abuse/attacker.js";
import { AttackGroup } from "../src/abuse/group.js";
import { HANDLING } from "../src/abuse/handling.js";

/**
 * A real TCP server whose first connection (the canary) is always read, and whose later
 * connections get `treat` once their first bytes arrive: the server's defence, as seen from the
 * attacker's side.
 */
async function defendingServer(
  treat: (socket: Socket) => void,
): Promise<{ server: Server; port: number }> {
  let connections = 0;
  const server = createServer((socket) => {
    socket.on("error", () => {});
    if (connections++ === 0) {
      socket.resume();
      return;
    }
    socket.once("data", () => treat(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

const CHUNK = Buffer.from("/help\n".repeat(10_000));
let cleanup: Array<() => void> = [];

afterEach(() => {
  for (const fn of cleanup) fn();
  cleanup = [];
});

async function attack(treat: (socket: Socket) => void, reads: boolean) {
  const { server, port } = await defendingServer(treat);
  const group = new AttackGroup({ host: "127.0.0.1", port });
  cleanup.push(
    () => group.close(),
    () => server.close(),
  );
  await group.openCanary();
  group.begin();
  const [attacker] = await group.open(1, reads);
  const flood = attacker!.flood(CHUNK, 64 * 1024 * 1024, group.startMs + 15_000);
  return { group, attacker: attacker!, flood };
}

describe("attack handling seen from the attacker's side", () => {
  it("sees a server that stops reading one connection while it reads the canary", async () => {
    const { group, attacker } = await attack((socket) => socket.pause(), false);
    // The sampler needs the kernel's socket table; without it there is nothing to see.
    expect(await waitFor(() => attacker.signs.pausedAtMs !== undefined, 15_000)).toBe(true);
    attacker.destroy();
    const outcome = await group.end();
    expect(outcome.socketTable).toBe(true);
    expect(outcome.handling.byHandling[HANDLING.paused]).toBe(1);
    expect(outcome.handling.allHandledMs).toBe(attacker.signs.pausedAtMs);
  });

  it("sees a cut-off and the code of the last line, on a connection that reads", async () => {
    const { group, attacker, flood } = await attack((socket) => {
      socket.end("!!! CHAT_ERR_SEND_QUEUE_FULL: You stopped reading.\n");
    }, true);
    await flood;
    expect(await waitFor(() => attacker.signs.closedAtMs !== undefined, 10_000)).toBe(true);
    const outcome = await group.end();
    expect(outcome.handling.byHandling[HANDLING.cutOff]).toBe(1);
    expect(outcome.handling.closeCodes).toEqual({ CHAT_ERR_SEND_QUEUE_FULL: 1 });
  });

  it("sees a reset of a connection that never reads", async () => {
    const { group, attacker, flood } = await attack((socket) => socket.resetAndDestroy(), false);
    await flood;
    expect(await waitFor(() => attacker.signs.closedAtMs !== undefined, 10_000)).toBe(true);
    const outcome = await group.end();
    expect(outcome.handling.byHandling[HANDLING.cutOff]).toBe(1);
    expect(outcome.handling.closeCodes).toEqual({ "no error line last": 1 });
  });

  it("sees a close whose FIN is stuck behind data the attacker never read", async () => {
    const { server, port } = await defendingServer((socket) => {
      socket.write(Buffer.alloc(32 * 1024 * 1024, 0x61));
      socket.end();
      setTimeout(() => socket.destroy(), 200);
    });
    const group = new AttackGroup({ host: "127.0.0.1", port });
    cleanup.push(
      () => group.close(),
      () => server.close(),
    );
    await group.openCanary();
    group.begin();
    const [reader] = await group.open(1, false);
    reader!.send("hello\n");
    expect(await waitFor(() => reader!.signs.closedAtMs !== undefined, 10_000)).toBe(true);
    expect(reader!.ended).toBe(false);
  });

  it("calls a connection whose bytes the server keeps taking not handled", async () => {
    const { group, attacker, flood } = await attack((socket) => socket.resume(), false);
    await Promise.race([flood, new Promise((resolve) => setTimeout(resolve, 1500))]);
    attacker.destroy();
    const outcome = await group.end();
    expect(outcome.handling.byHandling[HANDLING.none]).toBe(1);
    expect(outcome.bytesSent).toBeGreaterThan(CHUNK.length);
  });
});
