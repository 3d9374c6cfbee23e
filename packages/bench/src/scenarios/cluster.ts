import type { ServerMeasure } from "../servers/child-protocol.js";
import { startRedisChild } from "../servers/redis-child.js";
import { type ServerHandle, startServerChild } from "../servers/server-handle.js";
import { type BroadcastScenarioFigures, pickRoles, runBroadcastScenario } from "./broadcast.js";
import {
  type BroadcastFigures,
  closeClients,
  connectClients,
  runBroadcast,
  type ScenarioContext,
  type ServerSpan,
  type ServerUnderTest,
} from "./context.js";

/** What Redis did during one cluster run. */
export interface RedisUse {
  /** CPU time of the redis-server process during the run, seconds (/proc/<pid>/stat). */
  cpuSeconds: number;
  wallSeconds: number;
  /** Cores it kept busy: CPU seconds per second of the run. */
  cores: number;
  /** Batches the nodes published (one script call each: sequence, XADD, PUBLISH). */
  batches: number;
  /** Messages the load generator sent. */
  messages: number;
  /** Redis CPU per published batch, µs. */
  usPerBatch: number | undefined;
  /** Redis CPU per message sent, µs. */
  usPerMessage: number | undefined;
}

/** One run of the nodes, with what the nodes and Redis spent on it. */
export interface ClusterRun {
  run: BroadcastFigures;
  redis: RedisUse | undefined;
  /** CPU cores each node kept busy, in node order. */
  nodeCpuCores: number[];
}

/** The cluster scenario: a single node, then `nodes` nodes on Redis, in the same run. */
export interface ClusterScenarioFigures {
  nodes: number;
  /** Clients per node: ids `i * clientsPerNode` ... are on node i. */
  clientsPerNode: number;
  /** tcpchat alone, without Redis: closed loop, then open loop at the asked fraction of it. */
  single: BroadcastScenarioFigures;
  /** The nodes' closed loop (its latency is cross-node only). */
  closed: ClusterRun;
  /**
   * The nodes' open loop at the single node's sustained closed-loop rate times
   * `--open-rate` (half by default); its latency is cross-node only.
   */
  open: ClusterRun | undefined;
  /** The open loop's rate, messages/s (all senders). */
  openRate: number;
  /** How long every node took to count every client in the room, ms. */
  settleMs: number;
}

/** Server options of the cluster's nodes beside the throughput options (see suite.ts). */
export interface ClusterScenarioOptions {
  serverOptions: Record<string, unknown>;
  serverChildUrl: URL | undefined;
  nodeFlags: string[];
  startSingle: () => Promise<ServerUnderTest & { close(): Promise<void> }>;
}

/** How long the nodes may take to see every client in the room before the run gives up, ms. */
const SETTLE_TIMEOUT_MS = 30_000;

function publishedBatches(measure: ServerMeasure): number {
  const cluster = measure.stats.cluster as { published?: number } | undefined;
  return cluster?.published ?? 0;
}

/**
 * Measures every node and the redis-server together around a run, so that the run's "other
 * processes" figure does not count them, and keeps Redis's share for the report.
 */
function clusterSpan(
  nodes: ServerHandle[],
  redisCpu: () => number | undefined,
  keep: (redis: RedisUse | undefined, nodeCores: number[]) => void,
) {
  return async (): Promise<{ stop(): Promise<ServerSpan | undefined> }> => {
    for (const node of nodes) await node.resetPeak();
    const before = await Promise.all(nodes.map((n) => n.measure()));
    const redisBefore = redisCpu();
    const start = performance.now();
    return {
      async stop() {
        const after = await Promise.all(nodes.map((n) => n.measure()));
        const redisAfter = redisCpu();
        const wallSeconds = (performance.now() - start) / 1000;
        const nodeCores = after.map((a, i) => {
          const b = before[i]!;
          const us = a.cpuUserUs + a.cpuSystemUs - b.cpuUserUs - b.cpuSystemUs;
          return us / 1e6 / wallSeconds;
        });
        let redis: RedisUse | undefined;
        if (redisBefore !== undefined && redisAfter !== undefined) {
          const cpuSeconds = redisAfter - redisBefore;
          const batches = after.reduce(
            (n, a, i) => n + publishedBatches(a) - publishedBatches(before[i]!),
            0,
          );
          redis = {
            cpuSeconds,
            wallSeconds,
            cores: cpuSeconds / wallSeconds,
            batches,
            // Filled in once the run has counted what it sent.
            messages: 0,
            usPerBatch: batches > 0 ? (cpuSeconds * 1e6) / batches : undefined,
            usPerMessage: undefined,
          };
        }
        keep(redis, nodeCores);
        return {
          cpuCores: nodeCores.reduce((a, b) => a + b, 0) + (redis?.cores ?? 0),
          peakRss: Math.max(...after.map((a) => a.peakRss)),
          before: before[0]!,
          after: after[0]!,
        };
      },
    };
  };
}

/** Polls the nodes until each counts `members` in its room (every node has heard every join). */
async function settle(nodes: ServerHandle[], members: number): Promise<number> {
  const started = performance.now();
  for (;;) {
    const seen = await Promise.all(
      nodes.map(async (n) => Number((await n.peek()).stats.largestRoomMembers ?? 0)),
    );
    if (seen.every((count) => count === members)) return performance.now() - started;
    if (performance.now() - started > SETTLE_TIMEOUT_MS) {
      throw new Error(
        `the nodes did not all see ${members} members within ${SETTLE_TIMEOUT_MS} ms (they saw ${seen.join(", ")})`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * The cluster scenario (`--nodes N`): tcpchat alone (closed loop, then open loop at
 * `--open-rate` of it), then N tcpchat nodes joined by a redis-server the bench starts, the
 * clients split evenly across them in one room and the senders spread over every node. The
 * nodes' open loop runs at the single node's rate times `--open-rate`; every latency recorded
 * in the nodes' runs is cross-node (sender and receiver on different nodes).
 */
export async function runClusterScenario(
  ctx: ScenarioContext,
  setup: ClusterScenarioOptions,
): Promise<ClusterScenarioFigures> {
  const { options } = ctx;
  const nodeCount = options.nodes ?? 2;
  ctx.progress.note(`cluster: a single node, then ${nodeCount} nodes joined by redis-server`);
  const singleServer = await setup.startSingle();
  let single: BroadcastScenarioFigures;
  try {
    single = await runBroadcastScenario(ctx, { ...singleServer, label: "single node" });
  } finally {
    await singleServer.close();
  }
  const sustained =
    single.closed.receivers > 0 ? single.closed.deliveriesPerSec / single.closed.receivers : 0;
  const openRate = sustained * options.openLoopFraction;

  const redis = await startRedisChild();
  const nodes: ServerHandle[] = [];
  try {
    for (let i = 0; i < nodeCount; i++) {
      nodes.push(
        await startServerChild({
          kind: "tcpchat",
          options: { ...setup.serverOptions, redis: redis.url },
          nodeFlags: setup.nodeFlags,
          scriptUrl: setup.serverChildUrl,
        }),
      );
    }
    const clientsPerNode = Math.ceil(options.clients / nodeCount);
    let ready = 0;
    for (const [i, node] of nodes.entries()) {
      const first = i * clientsPerNode;
      const count = Math.min(clientsPerNode, options.clients - first);
      if (count <= 0) break;
      const server: ServerUnderTest = {
        label: `node ${i + 1}`,
        host: node.host,
        port: node.port,
        handle: node,
        greeting: "*** tcpchat/",
      };
      const connected = await connectClients(ctx, server, count, { firstId: first });
      if (connected.failed > 0) {
        ctx.warn(`cluster node ${i + 1}: ${connected.failed} clients failed to connect`);
      }
      ready += connected.ready;
    }
    const settleMs = await settle(nodes, ready);
    const { senders, parsers } = pickRoles(options.clients, options.senders);
    const first: ServerUnderTest = {
      label: `${nodeCount} nodes`,
      host: nodes[0]!.host,
      port: nodes[0]!.port,
      handle: nodes[0],
      greeting: "*** tcpchat/",
    };
    const measured = async (
      mode: "closed" | "open",
      ratePerSender: number,
    ): Promise<ClusterRun> => {
      let redisUse: RedisUse | undefined;
      let nodeCpuCores: number[] = [];
      const run = await runBroadcast(ctx, {
        server: first,
        label: `${nodeCount} nodes broadcast ${mode} loop`,
        clients: ready,
        senders,
        parsers,
        paused: [],
        span: clusterSpan(
          nodes,
          () => redis.cpuSeconds(),
          (r, cores) => {
            redisUse = r;
            nodeCpuCores = cores;
          },
        ),
        request: {
          mode,
          size: options.size,
          selfEcho: true,
          window: options.window,
          ratePerSender,
          durationMs: options.durationMs,
          maxMessagesPerSender: 10_000_000,
          nodeBlock: clientsPerNode,
        },
      });
      // The span stops inside runBroadcast, before the run's sent count is returned.
      const use = redisUse as RedisUse | undefined;
      if (use !== undefined) {
        use.messages = run.sent;
        use.usPerMessage = run.sent > 0 ? (use.cpuSeconds * 1e6) / run.sent : undefined;
      }
      return { run, redis: redisUse, nodeCpuCores };
    };
    try {
      const closed = await measured("closed", 0);
      const open = openRate > 0 ? await measured("open", openRate / senders.length) : undefined;
      return { nodes: nodeCount, clientsPerNode, single, closed, open, openRate, settleMs };
    } finally {
      await closeClients(ctx);
    }
  } finally {
    for (const node of nodes) await node.close();
    await redis.close();
  }
}
