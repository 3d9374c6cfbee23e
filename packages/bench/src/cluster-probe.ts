import { connect, type Socket } from "node:net";
import { performance } from "node:perf_hooks";
import { startRedisChild } from "./servers/redis-child.js";
import { type ServerHandle, startServerChild } from "./servers/server-handle.js";
import { THROUGHPUT_SERVER_OPTIONS } from "./suite.js";

/**
 * `pnpm --filter @tcpchat/bench probe`: where the time of one cross-node message goes. Starts a
 * redis-server and two tcpchat nodes (child processes, as `pnpm bench --nodes 2` does), and in
 * this process: a JSON sender on node A, a receiver on node A, a receiver on node B, and a raw
 * RESP subscriber on the room's Redis channel. Every timestamp is taken on this process's one
 * clock, so the path splits into:
 *
 *   send -> A's echo to its own receiver   (A reads, handles and flushes the message)
 *   send -> the room's channel in Redis    (A's flush, the publish script, Redis)
 *   channel -> B's receiver                (B's subscriber parse, delivery, flush, write)
 *
 * Messages go one at a time (quiet) at `--gap MS` apart, then `--burst N` per gap (a little load).
 * Prints p50/p99 of each segment. Loopback only; bounded by `--count`.
 */

interface Options {
  count: number;
  gapMs: number;
  burst: number;
  /** More members of the room on each node, reading everything (load on the flush). */
  members: number;
}

function parseOptions(argv: readonly string[]): Options {
  const options: Options = { count: 400, gapMs: 5, burst: 1, members: 0 };
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i];
    if (name === "--") continue;
    const value = Number(argv[++i]);
    if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} needs a positive number`);
    if (name === "--count") options.count = Math.min(value, 100_000);
    else if (name === "--gap") options.gapMs = value;
    else if (name === "--burst") options.burst = value;
    else if (name === "--members") options.members = Math.min(value, 2000);
    else throw new Error(`unknown option ${name} (--count N, --gap MS, --burst N, --members N)`);
  }
  return options;
}

/** Lines from a socket, each with the time its chunk arrived. */
function onLines(socket: Socket, each: (line: string, at: number) => void): void {
  let buffered = "";
  socket.setEncoding("utf8");
  socket.on("data", (chunk: string) => {
    const at = performance.now();
    buffered += chunk;
    let nl = buffered.indexOf("\n");
    while (nl !== -1) {
      each(buffered.slice(0, nl).replace(/\r$/, ""), at);
      buffered = buffered.slice(nl + 1);
      nl = buffered.indexOf("\n");
    }
  });
}

async function jsonClient(port: number, nick: string, room: string): Promise<Socket> {
  const socket = connect({ port, host: "127.0.0.1", noDelay: true });
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  socket.write(`${JSON.stringify({ type: "hello", proto: 1, nick, room })}\n`);
  return socket;
}

/** The probe's marker in a message text: its number. */
const MARK = /"text":"probe (\d+)"/;

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return (
    sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN
  );
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const redis = await startRedisChild();
  const nodes: ServerHandle[] = [];
  const sockets: Socket[] = [];
  try {
    // Rate limits off, as in the bench: the probe measures the path, not the token buckets.
    const clusterOptions = {
      ...THROUGHPUT_SERVER_OPTIONS,
      redis: { url: redis.url, prefix: "probe" },
    };
    nodes.push(await startServerChild({ kind: "tcpchat", options: clusterOptions }));
    nodes.push(await startServerChild({ kind: "tcpchat", options: clusterOptions }));
    const [a, b] = nodes as [ServerHandle, ServerHandle];
    const sentAt = new Map<number, number>();
    const echoAt = new Map<number, number>();
    const channelAt = new Map<number, number>();
    const remoteAt = new Map<number, number>();

    // The room's channel, subscribed raw (RESP), so that its timestamps cost what a socket read does.
    const url = new URL(redis.url);
    const subscriber = connect({ port: Number(url.port), host: url.hostname, noDelay: true });
    sockets.push(subscriber);
    subscriber.write("SUBSCRIBE probe:room:probe:channel\r\n");
    subscriber.setEncoding("utf8");
    subscriber.on("data", (chunk: string) => {
      const at = performance.now();
      for (const match of chunk.matchAll(/"text":"probe (\d+)"/g)) {
        const n = Number(match[1]);
        if (!channelAt.has(n)) channelAt.set(n, at);
      }
    });

    for (let i = 0; i < options.members; i++) {
      for (const [node, side] of [
        [a, "a"],
        [b, "b"],
      ] as const) {
        const member = await jsonClient(node.port, `m${side}${i}`, "probe");
        member.resume();
        sockets.push(member);
      }
    }
    const receiverB = await jsonClient(b.port, "far", "probe");
    const receiverA = await jsonClient(a.port, "near", "probe");
    const sender = await jsonClient(a.port, "sender", "probe");
    sockets.push(receiverA, receiverB, sender);
    const record = (into: Map<number, number>) => (line: string, at: number) => {
      const match = MARK.exec(line);
      if (match !== null && !line.includes('"history"')) into.set(Number(match[1]), at);
    };
    onLines(receiverA, record(echoAt));
    onLines(receiverB, record(remoteAt));
    onLines(sender, () => {});
    // Both nodes count every member (presence crosses Redis asynchronously).
    await new Promise((resolve) => setTimeout(resolve, 1000));

    for (let n = 0; n < options.count; ) {
      for (let i = 0; i < options.burst && n < options.count; i++, n++) {
        sentAt.set(n, performance.now());
        sender.write(`${JSON.stringify({ type: "send", text: `probe ${n}` })}\n`);
      }
      await new Promise((resolve) => setTimeout(resolve, options.gapMs));
    }
    const deadline = Date.now() + 5000;
    while (remoteAt.size < options.count && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }

    const segments: Record<string, number[]> = {
      "send -> A's own receiver": [],
      "send -> Redis channel": [],
      "A's own receiver -> Redis channel": [],
      "Redis channel -> B's receiver": [],
      "send -> B's receiver": [],
    };
    for (const [n, sent] of sentAt) {
      const echo = echoAt.get(n);
      const channel = channelAt.get(n);
      const remote = remoteAt.get(n);
      if (echo !== undefined) segments["send -> A's own receiver"]!.push(echo - sent);
      if (channel !== undefined) segments["send -> Redis channel"]!.push(channel - sent);
      if (channel !== undefined && echo !== undefined)
        segments["A's own receiver -> Redis channel"]!.push(channel - echo);
      if (channel !== undefined && remote !== undefined)
        segments["Redis channel -> B's receiver"]!.push(remote - channel);
      if (remote !== undefined) segments["send -> B's receiver"]!.push(remote - sent);
    }
    if (process.env.PROBE_TRACE === "1") {
      for (const [n, sent] of sentAt) {
        const echo = echoAt.get(n);
        console.log(
          `${n} ${sent.toFixed(1)} ${echo === undefined ? "-" : (echo - sent).toFixed(2)}`,
        );
      }
    }
    console.log(
      `cluster probe: ${options.count} messages, ${options.burst} every ${options.gapMs} ms, ${options.members} more members per node; ${remoteAt.size} reached node B`,
    );
    for (const [name, values] of Object.entries(segments)) {
      console.log(
        `  ${name.padEnd(36)} p50 ${percentile(values, 50).toFixed(2).padStart(7)} ms   p99 ${percentile(values, 99).toFixed(2).padStart(7)} ms   (${values.length})`,
      );
    }
  } finally {
    for (const socket of sockets) socket.destroy();
    for (const node of nodes) await node.close();
    await redis.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
