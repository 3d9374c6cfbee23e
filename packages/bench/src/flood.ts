/**
 * `pnpm bench:flood`: a connect flood from a denied address against a tcpchat server with an
 * accept policy, while two accepted clients keep chatting. It answers "does a refusal flood
 * hurt anyone?": chat latency before and during the flood, server memory before, at its peak
 * and after, and whether every refused connection got its reason line.
 *
 * Loopback only: the flood binds 127.0.0.2 (another loopback address) to act as another peer.
 * Bounded: `--seconds` of flood at most, at most `MAX_IN_FLIGHT` sockets open at once.
 */
import { writeFile } from "node:fs/promises";
import { connect, type Socket } from "node:net";
import { parseArgs } from "node:util";
import { SERVER_NODE_FLAGS } from "@tcpchat/core";
import { type ServerHandle, startServerChild } from "./servers/server-handle.js";

const MAX_IN_FLIGHT = 4000;
const CHAT_INTERVAL_MS = 100;
const TICK_MS = 10;

const USAGE = `pnpm bench:flood [--rate N] [--seconds S] [--from ADDRESS] [--json FILE]

  --rate N        connection attempts per second from the denied address (default 5000)
  --seconds S     how long the flood lasts (default 5, at most 60)
  --from ADDRESS  the denied loopback address the flood comes from (default 127.0.0.2)
  --json FILE     write every figure as JSON
`;

function percentile(sorted: number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/** Two accepted clients: one says a numbered line every 100 ms, the other times its arrival. */
async function startChat(port: number) {
  const open = () =>
    new Promise<Socket>((resolve, reject) => {
      const socket = connect({ port, host: "127.0.0.1" });
      socket.once("data", () => resolve(socket));
      socket.once("error", reject);
    });
  const speaker = await open();
  const listener = await open();
  const sentAt = new Map<number, number>();
  const latencies: Array<{ at: number; ms: number }> = [];
  let seq = 0;
  let pending = "";
  listener.setEncoding("utf8");
  listener.on("data", (chunk: string) => {
    pending += chunk;
    for (let nl = pending.indexOf("\n"); nl !== -1; nl = pending.indexOf("\n")) {
      const match = / flood-check (\d+)$/.exec(pending.slice(0, nl));
      pending = pending.slice(nl + 1);
      const sent = match ? sentAt.get(Number(match[1])) : undefined;
      if (sent !== undefined) latencies.push({ at: sent, ms: performance.now() - sent });
    }
  });
  const timer = setInterval(() => {
    seq += 1;
    sentAt.set(seq, performance.now());
    speaker.write(`flood-check ${seq}\n`);
  }, CHAT_INTERVAL_MS);
  return {
    latencies,
    sent: () => seq,
    stop() {
      clearInterval(timer);
      speaker.end();
      listener.end();
    },
  };
}

interface FloodCounts {
  attempts: number;
  refusalLines: number;
  otherFirstLines: number;
  errors: number;
  closed: number;
  skippedInFlightCap: number;
}

function flood(port: number, from: string, rate: number, seconds: number, counts: FloodCounts) {
  const perTick = Math.max(1, Math.round((rate * TICK_MS) / 1000));
  const endsAt = performance.now() + seconds * 1000;
  return new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      if (performance.now() >= endsAt) {
        clearInterval(timer);
        resolve();
        return;
      }
      for (let i = 0; i < perTick; i++) {
        if (counts.attempts - counts.closed >= MAX_IN_FLIGHT) {
          counts.skippedInFlightCap += 1;
          continue;
        }
        counts.attempts += 1;
        const socket = connect({ port, host: "127.0.0.1", localAddress: from });
        socket.once("data", (first: Buffer) => {
          if (first.toString("utf8").startsWith("!!! CHAT_ERR_REFUSED_DENIED")) {
            counts.refusalLines += 1;
          } else counts.otherFirstLines += 1;
        });
        socket.on("error", () => {
          counts.errors += 1;
        });
        socket.on("close", () => {
          counts.closed += 1;
        });
      }
    }, TICK_MS);
  });
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const { values } = parseArgs({
    args: argv[0] === "--" ? argv.slice(1) : argv,
    options: {
      rate: { type: "string", default: "5000" },
      seconds: { type: "string", default: "5" },
      from: { type: "string", default: "127.0.0.2" },
      json: { type: "string" },
      help: { type: "boolean" },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  const rate = Number(values.rate);
  const seconds = Number(values.seconds);
  if (!(rate > 0) || !(seconds > 0 && seconds <= 60)) {
    process.stderr.write(`bad --rate or --seconds\n\n${USAGE}`);
    process.exit(2);
  }
  const from = values.from;
  const server: ServerHandle = await startServerChild({
    kind: "tcpchat",
    policy: { deny: [from] },
    nodeFlags: [...SERVER_NODE_FLAGS],
  });
  try {
    const chat = await startChat(server.port);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const before = await server.measure();
    await server.resetPeak();
    const counts: FloodCounts = {
      attempts: 0,
      refusalLines: 0,
      otherFirstLines: 0,
      errors: 0,
      closed: 0,
      skippedInFlightCap: 0,
    };
    const floodStart = performance.now();
    const cpuStart = process.cpuUsage();
    process.stderr.write(`flood: ${rate}/s from ${from} for ${seconds}s ...\n`);
    await flood(server.port, from, rate, seconds, counts);
    const floodMs = performance.now() - floodStart;
    const cpu = process.cpuUsage(cpuStart);
    const during = await server.peek();
    // Every flood socket ends (the server closes refused ones within its linger time).
    const settleBy = performance.now() + 10_000;
    while (counts.closed < counts.attempts && performance.now() < settleBy) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const after = await server.measure();
    chat.stop();
    const split = (inFlood: boolean) =>
      chat.latencies
        .filter((l) => (l.at >= floodStart && l.at < floodStart + floodMs) === inFlood)
        .map((l) => l.ms)
        .sort((a, b) => a - b);
    const quiet = split(false);
    const loud = split(true);
    const mib = (bytes: number) => Math.round((bytes / 2 ** 20) * 10) / 10;
    const report = {
      flood: {
        targetRatePerSec: rate,
        achievedRatePerSec: Math.round(counts.attempts / (floodMs / 1000)),
        ...counts,
        loadGeneratorCores: Math.round(((cpu.user + cpu.system) / 1000 / floodMs) * 100) / 100,
      },
      server: {
        refused: after.stats["refused"],
        refusedByCode: after.stats["refusedByCode"],
        sessionsOpen: after.stats["connections"],
        rssMiB: { before: mib(before.rss), peak: mib(during.peakRss), after: mib(after.rss) },
        heapMiB: { before: mib(before.heapUsed), after: mib(after.heapUsed) },
        eventLoopDelayDuringMs: during.loopDelay,
      },
      chat: {
        sent: chat.sent(),
        received: chat.latencies.length,
        latencyMsOutsideFlood: { p50: percentile(quiet, 0.5), p99: percentile(quiet, 0.99) },
        latencyMsDuringFlood: {
          p50: percentile(loud, 0.5),
          p99: percentile(loud, 0.99),
          max: loud.at(-1) ?? Number.NaN,
        },
      },
    };
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    if (values.json) await writeFile(values.json, `${JSON.stringify(report, null, 2)}\n`);
    const lost = chat.sent() - chat.latencies.length;
    if (counts.otherFirstLines > 0 || lost > 1) {
      process.stderr.write("flood: a refused client got no reason line, or chat lines were lost\n");
      process.exitCode = 1;
    }
  } finally {
    await server.close();
  }
}

await main();
