/**
 * A server under test, alone in its process so that its memory is measured alone. Started by
 * the bench with `--expose-gc`; reports its port, then answers measure requests over IPC.
 */
import { writeFileSync } from "node:fs";
import { monitorEventLoopDelay } from "node:perf_hooks";
import type {
  ChildMessage,
  ChildRequest,
  HistoryLag,
  ServerChildConfig,
  ServerMeasure,
} from "./servers/child-protocol.js";
import { createNaiveRelay } from "./servers/naive-relay.js";

interface RunningServer {
  port: number;
  address: string;
  stats(): Record<string, unknown>;
  close(): Promise<void>;
}

/**
 * One sample per committed history batch since the last reset-peak: how long its oldest message
 * waited for the commit, ms.
 */
const lags: number[] = [];
const config = JSON.parse(process.argv[2] ?? "{}") as ServerChildConfig;
const send = (message: ChildMessage): void => {
  process.send?.(message);
};

async function start(): Promise<RunningServer> {
  if (config.kind === "naive" || config.kind === "coalescing") {
    const relay = createNaiveRelay({ coalesce: config.kind === "coalescing" });
    const address = await relay.listen(0, config.host);
    return { ...address, stats: () => ({ ...relay.stats() }), close: () => relay.close() };
  }
  const { createAcceptPolicy, createServer, openDataDirectory } = await import("@tcpchat/core");
  const store = config.dataDir === undefined ? undefined : openDataDirectory(config.dataDir);
  const server = createServer({
    ...config.options,
    ...(config.policy === undefined ? {} : { policy: createAcceptPolicy(config.policy) }),
    ...(store === undefined ? {} : { store }),
  });
  if (store !== undefined)
    server.on("history-written", (_count: number, lagMs: number) => lags.push(lagMs));
  const address = await server.listen(0, config.host);
  return {
    port: address.port,
    address: address.address,
    stats: () => ({
      ...server.stats(),
      // The fullest send queue right now: what a slow reader has made the server hold.
      maxQueuedBytes: server.sessions().reduce((max, s) => Math.max(max, s.queuedBytes), 0),
      // Members of the fullest room, other nodes' included: a cluster run waits until every
      // node counts every client before it sends.
      largestRoomMembers: server.rooms().reduce((max, r) => Math.max(max, r.members), 0),
      ...(store === undefined ? {} : { historyLag: lagSummary(lags) }),
    }),
    close: async () => {
      await server.close({ graceMs: 0 });
      await store?.close();
    },
  };
}

/** Commit lags of the history batches so far, ms (nearest-rank percentiles). */
function lagSummary(lags: readonly number[]): HistoryLag {
  const sorted = [...lags].sort((a, b) => a - b);
  const at = (q: number) =>
    sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? 0;
  return { batches: sorted.length, p50Ms: at(0.5), p99Ms: at(0.99), maxMs: sorted.at(-1) ?? 0 };
}

/**
 * Peak RSS comes from the kernel's high-water mark (VmHWM, via getrusage), which costs nothing
 * to keep; sampling `memoryUsage.rss()` every few ms took several percent of the server's CPU.
 * Linux resets the mark when 5 is written to /proc/self/clear_refs.
 */
function peakRss(): number {
  return process.resourceUsage().maxRSS * 1024;
}

function resetPeak(): boolean {
  try {
    writeFileSync("/proc/self/clear_refs", "5");
    return true;
  } catch {
    return false;
  }
}

const loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();

function measure(server: RunningServer, collect = true): ServerMeasure {
  const gc = collect ? (globalThis as { gc?: () => void }).gc : undefined;
  // Twice: the first pass may only queue finalizers whose memory the second one frees.
  gc?.();
  gc?.();
  const memory = process.memoryUsage();
  const cpu = process.cpuUsage();
  return {
    rss: memory.rss,
    heapUsed: memory.heapUsed,
    heapTotal: memory.heapTotal,
    external: memory.external,
    arrayBuffers: memory.arrayBuffers,
    peakRss: Math.max(peakRss(), memory.rss),
    loopDelay: {
      p50Ms: loopDelay.percentile(50) / 1e6,
      p99Ms: loopDelay.percentile(99) / 1e6,
      maxMs: loopDelay.max / 1e6,
    },
    cpuUserUs: cpu.user,
    cpuSystemUs: cpu.system,
    stats: server.stats(),
  };
}

start().then(
  (server) => {
    process.on("message", (req: ChildRequest) => {
      if (req.op === "measure") send({ type: "reply", id: req.id, measure: measure(server) });
      else if (req.op === "peek")
        send({ type: "reply", id: req.id, measure: measure(server, false) });
      else if (req.op === "reset-peak") {
        loopDelay.reset();
        lags.length = 0;
        send({ type: "reply", id: req.id, peakReset: resetPeak() });
      } else if (req.op === "close") {
        server.close().finally(() => {
          send({ type: "reply", id: req.id });
          process.disconnect?.();
          // Sockets of a naive relay mid-write may hold the loop open; the run is over anyway.
          setTimeout(() => process.exit(0), 200).unref();
        });
      }
    });
    // The bench going away (crash, Ctrl+C) closes the channel: do not outlive it.
    process.on("disconnect", () => process.exit(0));
    send({ type: "listening", address: server.address, port: server.port });
  },
  (err: unknown) => {
    send({
      type: "failed",
      error: err instanceof Error ? (err.stack ?? err.message) : String(err),
    });
    process.exit(1);
  },
);
