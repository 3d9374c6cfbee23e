/**
 * `pnpm bench:history`: what keeping history costs. Two parts, in one run:
 *
 * 1. Reads on a big room: a SQLite store seeded with `--messages` messages in one room (1
 *    million by default), then `history LATEST 50`, `BEFORE` an id in the middle, and FTS searches
 *    for a rare and a common word, each timed many times (p50, p99).
 * 2. Broadcast with history off and on: an in-process server with `--members` JSON clients in one
 *    room, `--senders` of them sending `--per-sender` messages each as fast as they are acked;
 *    deliveries/s with no store and with a SQLite store on disk, alternated, and the history
 *    write lag (how long a message waited for its batch's commit), p50/p99/max.
 *
 * Loopback only, bounded by its counts; the store lives in a temporary directory, removed after.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { type ChatStore, createServer, openDataDirectory, type SqliteStore } from "@tcpchat/core";
import { seedRoom } from "./seed-room.js";

const USAGE = `pnpm bench:history [--messages N] [--members N] [--senders N] [--per-sender N] [--rounds N] [--json FILE]

  --messages N    messages seeded in the big room (default 1000000)
  --members N     clients in the broadcast room (default 50)
  --senders N     of them, how many send (default 10)
  --per-sender N  messages each sender sends per round (default 1000)
  --rounds N      rounds of history off and on, alternated (default 2)
  --json FILE     write every figure as JSON
`;

function percentile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

function timeMany(times: number, run: () => unknown): { p50: number; p99: number } {
  const samples: number[] = [];
  for (let i = 0; i < times; i++) {
    const started = performance.now();
    run();
    samples.push(performance.now() - started);
  }
  samples.sort((a, b) => a - b);
  return { p50: percentile(samples, 0.5), p99: percentile(samples, 0.99) };
}

/** Part 1: seeds a room and times the reads the protocol offers. */
function bigRoom(dir: string, count: number) {
  const store = openDataDirectory(join(dir, "big"));
  const seedStarted = performance.now();
  seedRoom(store, { room: "big", count, rare: { word: "zanzibar", every: 100_000 } });
  const seedSeconds = (performance.now() - seedStarted) / 1000;
  const middle = Math.floor(count / 2);
  const figures = {
    messages: count,
    seedSeconds,
    seedPerSecond: count / seedSeconds,
    latest50Ms: timeMany(500, () =>
      store.queryMessages({ kind: "latest", roomKey: "big", limit: 50 }),
    ),
    before50Ms: timeMany(500, () =>
      store.queryMessages({ kind: "before", roomKey: "big", limit: 50, anchor: { id: middle } }),
    ),
    searchRareMs: timeMany(100, () => store.searchMessages("big", ["zanzibar"], 50)),
    searchCommonMs: timeMany(100, () => store.searchMessages("big", ["deploy", "lunch"], 50)),
    searchHangulMs: timeMany(100, () => store.searchMessages("big", ["점심"], 50)),
  };
  store.close();
  return figures;
}

interface Client {
  socket: Socket;
  received: number;
  acks: number;
  waiters: Array<() => void>;
}

function openClient(port: number, nick: string): Promise<Client> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: "127.0.0.1" });
    const client: Client = { socket, received: 0, acks: 0, waiters: [] };
    let buffered = "";
    let welcomed = false;
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      buffered += chunk;
      let nl = buffered.indexOf("\n");
      while (nl !== -1) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        nl = buffered.indexOf("\n");
        if (line.startsWith('{"type":"message"') && !line.includes('"history":true'))
          client.received += 1;
        else if (line.startsWith('{"type":"ack"')) client.acks += 1;
        else if (!welcomed && line.startsWith('{"type":"welcome"')) {
          welcomed = true;
          resolve(client);
        }
      }
      const waiters = client.waiters;
      client.waiters = [];
      for (const wake of waiters) wake();
    });
    socket.once("error", reject);
    socket.write(`${JSON.stringify({ type: "hello", proto: 1, nick, room: "bench" })}\n`);
  });
}

function until(client: Client, done: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const check = () => (done() ? resolve() : client.waiters.push(check));
    check();
  });
}

/** Part 2: one round of broadcast, with or without a store; deliveries/s and write lags. */
async function broadcastRound(
  store: ChatStore | undefined,
  options: { members: number; senders: number; perSender: number },
) {
  const lags: number[] = [];
  let measured: ChatStore | undefined;
  if (store !== undefined) {
    // The lag of a message: from its server timestamp to the end of its batch's commit.
    measured = Object.create(store) as ChatStore;
    measured.appendMessages = (batch) => {
      const result = store.appendMessages(batch);
      const done = Date.now();
      for (const message of batch) lags.push(done - message.ts);
      return result;
    };
  }
  const server = createServer({
    messageRate: 1e6,
    messageBurst: 1e6,
    requestRate: 1e6,
    requestBurst: 1e6,
    announceRoomSize: 10,
    ...(measured === undefined ? {} : { store: measured, history: { joinLimit: 0 } }),
  });
  const { port } = await server.listen(0, "127.0.0.1");
  const clients: Client[] = [];
  for (let i = 0; i < options.members; i++) clients.push(await openClient(port, `m${i}`));
  const total = options.senders * options.perSender;
  const started = performance.now();
  // Closed loop: each sender keeps up to 16 messages unacknowledged.
  await Promise.all(
    clients.slice(0, options.senders).map(async (sender, s) => {
      let sent = 0;
      while (sent < options.perSender) {
        const window = Math.min(16, options.perSender - sent);
        let lines = "";
        for (let k = 0; k < window; k++) {
          lines += `${JSON.stringify({ type: "send", ref: `${s}.${sent + k}`, text: `m ${s} ${sent + k}` })}\n`;
        }
        sent += window;
        sender.socket.write(lines);
        const target = sent;
        await until(sender, () => sender.acks >= target);
      }
    }),
  );
  await Promise.all(clients.map((client) => until(client, () => client.received >= total)));
  const seconds = (performance.now() - started) / 1000;
  for (const client of clients) client.socket.destroy();
  await server.close({ graceMs: 100 });
  lags.sort((a, b) => a - b);
  return {
    history: store !== undefined,
    deliveriesPerSecond: (total * options.members) / seconds,
    messagesPerSecond: total / seconds,
    writeLagMs:
      lags.length === 0
        ? undefined
        : {
            p50: percentile(lags, 0.5),
            p99: percentile(lags, 0.99),
            max: lags.at(-1)!,
            written: lags.length,
          },
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: process.argv.slice(2).filter((arg) => arg !== "--"),
    options: {
      messages: { type: "string" },
      members: { type: "string" },
      senders: { type: "string" },
      "per-sender": { type: "string" },
      rounds: { type: "string" },
      json: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  const count = Number(values.messages ?? 1_000_000);
  const options = {
    members: Number(values.members ?? 50),
    senders: Number(values.senders ?? 10),
    perSender: Number(values["per-sender"] ?? 1000),
  };
  const rounds = Number(values.rounds ?? 2);
  const dir = mkdtempSync(join(tmpdir(), "tcpchat-bench-history-"));
  try {
    process.stderr.write(`seeding ${count} messages...\n`);
    const reads = bigRoom(dir, count);
    process.stdout.write(
      `big room: ${count} messages seeded in ${reads.seedSeconds.toFixed(1)} s (${Math.round(reads.seedPerSecond)}/s)\n` +
        `  history LATEST 50:   p50 ${reads.latest50Ms.p50.toFixed(3)} ms, p99 ${reads.latest50Ms.p99.toFixed(3)} ms\n` +
        `  history BEFORE 50:   p50 ${reads.before50Ms.p50.toFixed(3)} ms, p99 ${reads.before50Ms.p99.toFixed(3)} ms\n` +
        `  search rare word:    p50 ${reads.searchRareMs.p50.toFixed(3)} ms, p99 ${reads.searchRareMs.p99.toFixed(3)} ms\n` +
        `  search two common:   p50 ${reads.searchCommonMs.p50.toFixed(3)} ms, p99 ${reads.searchCommonMs.p99.toFixed(3)} ms\n` +
        `  search Hangul word:  p50 ${reads.searchHangulMs.p50.toFixed(3)} ms, p99 ${reads.searchHangulMs.p99.toFixed(3)} ms\n`,
    );
    const results: Awaited<ReturnType<typeof broadcastRound>>[] = [];
    for (let round = 0; round < rounds; round++) {
      for (const on of [false, true]) {
        let store: SqliteStore | undefined;
        if (on) store = openDataDirectory(join(dir, `broadcast-${round}`));
        const result = await broadcastRound(store, options);
        store?.close();
        results.push(result);
        const lag = result.writeLagMs;
        process.stdout.write(
          `broadcast, history ${on ? "on " : "off"}: ${Math.round(result.deliveriesPerSecond)} deliveries/s` +
            (lag === undefined
              ? "\n"
              : `, write lag p50 ${lag.p50} ms, p99 ${lag.p99} ms, max ${lag.max} ms\n`),
        );
      }
    }
    const best = (on: boolean) =>
      Math.max(...results.filter((r) => r.history === on).map((r) => r.deliveriesPerSecond));
    const ratio = best(true) / best(false);
    process.stdout.write(`history on / off (best of ${rounds}): ${ratio.toFixed(3)}\n`);
    if (values.json !== undefined) {
      await writeFile(
        values.json,
        `${JSON.stringify({ reads, broadcast: results, ratio, options }, null, 2)}\n`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
