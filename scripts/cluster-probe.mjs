// Cross-node figures of a tcpchat cluster on a real redis-server, beside a single node in the
// same run: deliveries/s, cross-node latency p50/p99, Redis CPU per published batch.
// Usage: pnpm --filter @tcpchat/core build && node scripts/cluster-probe.mjs [rate/s] [seconds]
// Bounded: it sends `rate` messages/s for `seconds` and stops by itself; loopback only.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { connect, createServer as createProbe } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer } from "../packages/core/dist/index.js";

const RATE = Number(process.argv[2] ?? 2000);
const SECONDS = Number(process.argv[3] ?? 5);
const RECEIVERS_PER_NODE = 10;

const freePort = () =>
  new Promise((resolve) => {
    const probe = createProbe().listen(0, "127.0.0.1", () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });

async function startRedis() {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "tcpchat-probe-"));
  const child = spawn("redis-server", [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--dir",
    dir,
    "--save",
    "",
    "--appendonly",
    "no",
  ]);
  await new Promise((resolve) =>
    child.stdout.on("data", (d) => d.toString().includes("Ready to accept") && resolve()),
  );
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    stop: () => {
      child.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function redisInfoCpu(port) {
  return new Promise((resolve) => {
    const socket = connect({ port, host: "127.0.0.1" });
    let text = "";
    socket.on("data", (d) => {
      text += d.toString();
      const user = /used_cpu_user:([\d.]+)/.exec(text);
      const sys = /used_cpu_sys:([\d.]+)/.exec(text);
      if (user && sys && text.includes("used_cpu_user_children")) {
        socket.destroy();
        resolve(Number(user[1]) + Number(sys[1]));
      }
    });
    socket.write("INFO cpu\r\n");
  });
}

/** A JSON-line client; calls onMessage(frame) for each message frame. */
async function client(port, nick, onMessage) {
  const socket = connect({ port, host: "127.0.0.1" });
  await new Promise((r) => socket.once("connect", r));
  let buffered = "";
  let welcomed;
  const welcome = new Promise((r) => (welcomed = r));
  socket.setEncoding("utf8");
  socket.on("data", (text) => {
    buffered += text;
    let nl = buffered.indexOf("\n");
    while (nl !== -1) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      nl = buffered.indexOf("\n");
      if (line.includes('"welcome"')) welcomed();
      else if (line.includes('"message"')) onMessage(JSON.parse(line));
    }
  });
  socket.write(`${JSON.stringify({ type: "hello", proto: 1, nick })}\n`);
  await welcome;
  return socket;
}

function percentile(sorted, p) {
  return sorted.length === 0
    ? NaN
    : sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

async function run(label, nodes) {
  const latencies = [];
  let deliveries = 0;
  const receivers = [];
  for (const [i, node] of nodes.entries()) {
    for (let r = 0; r < RECEIVERS_PER_NODE; r++) {
      receivers.push(
        await client(node.port, `r${i}x${r}`, (frame) => {
          deliveries += 1;
          const [origin, sent] = frame.text.split(" ");
          // Cross-node latency: a receiver on another node than the sender's.
          if (Number(origin) !== i || nodes.length === 1)
            latencies.push(performance.now() - Number(sent));
        }),
      );
    }
  }
  const senders = [];
  for (const [i, node] of nodes.entries())
    senders.push({ i, socket: await client(node.port, `s${i}`, () => {}) });
  // Wait until every node sees every member (the cluster's presence has settled).
  const members = RECEIVERS_PER_NODE * nodes.length + nodes.length;
  while (nodes.some((n) => n.server.rooms()[0]?.members !== members))
    await new Promise((r) => setTimeout(r, 20));
  const cpuBefore = nodes[0].redisPort ? await redisInfoCpu(nodes[0].redisPort) : 0;
  const started = performance.now();
  const total = RATE * SECONDS;
  let sent = 0;
  await new Promise((resolve) => {
    const tick = setInterval(() => {
      const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * RATE));
      while (sent < due) {
        const s = senders[sent % senders.length];
        s.socket.write(
          `${JSON.stringify({ type: "send", text: `${s.i} ${performance.now()}` })}\n`,
        );
        sent += 1;
      }
      if (sent >= total) {
        clearInterval(tick);
        resolve();
      }
    }, 5);
  });
  const expected = total * receivers.length;
  const deadline = performance.now() + 20_000;
  while (deliveries < expected && performance.now() < deadline)
    await new Promise((r) => setTimeout(r, 20));
  const wall = (performance.now() - started) / 1000;
  const cpuAfter = nodes[0].redisPort ? await redisInfoCpu(nodes[0].redisPort) : 0;
  latencies.sort((a, b) => a - b);
  const published = nodes.reduce((sum, n) => sum + (n.server.stats().cluster?.published ?? 0), 0);
  const redisCpu = cpuAfter - cpuBefore;
  console.log(
    `${label}: ${sent} messages to ${members} members in ${wall.toFixed(2)} s; deliveries ${deliveries}/${expected} (${Math.round(deliveries / wall)}/s); ` +
      `${nodes.length > 1 ? "cross-node " : ""}latency p50 ${percentile(latencies, 0.5).toFixed(2)} ms p90 ${percentile(latencies, 0.9).toFixed(2)} ms p99 ${percentile(latencies, 0.99).toFixed(2)} ms max ${latencies.at(-1)?.toFixed(1)} ms` +
      (published > 0
        ? `; batches published ${published}; Redis CPU ${redisCpu.toFixed(2)} s (${((redisCpu / wall) * 100).toFixed(0)}% of a core, ${((redisCpu * 1e6) / published).toFixed(1)} µs per batch)`
        : ""),
  );
  for (const socket of [...receivers, ...senders.map((s) => s.socket)]) socket.destroy();
}

const redis = await startRedis();
try {
  const single = createServer({
    messageRate: 1e6,
    messageBurst: 1e6,
    requestRate: 1e6,
    requestBurst: 1e6,
  });
  const singlePort = (await single.listen(0, "127.0.0.1")).port;
  await run("single node", [{ server: single, port: singlePort }]);
  await single.close({ graceMs: 200 });

  const nodes = [];
  for (let i = 0; i < 2; i++) {
    const server = createServer({
      messageRate: 1e6,
      messageBurst: 1e6,
      requestRate: 1e6,
      requestBurst: 1e6,
      redis: redis.url,
    });
    nodes.push({ server, port: (await server.listen(0, "127.0.0.1")).port, redisPort: redis.port });
  }
  await run("two nodes", nodes);
  for (const node of nodes) await node.server.close({ graceMs: 200 });
} finally {
  redis.stop();
}
