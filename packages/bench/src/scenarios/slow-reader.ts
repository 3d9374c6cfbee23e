import { pickRoles } from "./broadcast.js";
import {
  type BroadcastFigures,
  closeClients,
  connectClients,
  runBroadcast,
  type ScenarioContext,
  type ServerUnderTest,
} from "./context.js";

/**
 * Slow-reader scenario: a normal broadcast run, the same with one more client that never
 * reads, and a normal run again once that client is gone.
 */
export interface SlowReaderFigures {
  normal: BroadcastFigures;
  slow: BroadcastFigures;
  normalAfter: BroadcastFigures;
  /**
   * Deliveries/s of the other clients with the slow reader, as a share of the mean of the two
   * normal runs around it (which evens out a machine whose load changes during the scenario).
   */
  throughputKept: number;
  /** Whether the server cut the slow client off (tcpchat's sendQueueCutoffs went up). */
  slowClientCutOff: boolean | undefined;
  /** Peak server RSS during each run, bytes. */
  peakRssNormal: number | undefined;
  peakRssSlow: number | undefined;
}

async function currentCutoffs(server: ServerUnderTest): Promise<number | undefined> {
  const value = (await server.handle?.peek())?.stats["sendQueueCutoffs"];
  return typeof value === "number" ? value : undefined;
}

function cutoffs(figures: BroadcastFigures): number | undefined {
  const value = figures.server?.after.stats["sendQueueCutoffs"];
  return typeof value === "number" ? value : undefined;
}

/** Runs the slow-reader scenario against one server. */
export async function runSlowReaderScenario(
  ctx: ScenarioContext,
  server: ServerUnderTest,
): Promise<SlowReaderFigures> {
  const { options } = ctx;
  const connected = await connectClients(ctx, server, options.clients);
  try {
    const { senders, parsers } = pickRoles(connected.ready, options.senders);
    const request = {
      mode: "closed" as const,
      size: options.size,
      selfEcho: options.selfEcho,
      window: options.window,
      ratePerSender: 0,
      durationMs: options.durationMs,
      maxMessagesPerSender: 10_000_000,
    };
    const base = { server, clients: connected.ready, senders, parsers, request };
    const normal = await runBroadcast(ctx, {
      ...base,
      label: `${server.label} slow-reader: normal run`,
      paused: [],
    });
    // The slow reader joins now and never reads past its greeting. A client that has been
    // reading has let the kernel grow its receive buffer (up to tcp_rmem's maximum, 32 MiB
    // here), which would hold megabytes before the server had to queue anything.
    const slowId = options.clients;
    const slowClient = await connectClients(ctx, server, 1, { firstId: slowId, pause: true });
    if (slowClient.ready !== 1) throw new Error("the slow client could not connect");
    // The slow run lasts until the server has cut the slow client off and half a run more
    // (so the others' throughput after the cut counts too), at most three runs long. How soon
    // the cut comes depends on throughput: the kernel's socket buffers fill first.
    const cutoffsBefore = await currentCutoffs(server);
    let cutAt: number | undefined;
    const started = performance.now();
    const slow = await runBroadcast(ctx, {
      ...base,
      request: { ...request, durationMs: request.durationMs * 3 },
      stopWhen: async () => {
        const now = performance.now();
        if (cutoffsBefore === undefined) return now - started >= request.durationMs;
        if (cutAt === undefined && ((await currentCutoffs(server)) ?? 0) > cutoffsBefore)
          cutAt = now;
        return cutAt !== undefined && now - cutAt >= request.durationMs / 2;
      },
      clients: connected.ready + 1,
      label: `${server.label} slow-reader: one client not reading`,
      paused: [slowId],
    });
    await closeClients(ctx, [slowId]);
    const normalAfter = await runBroadcast(ctx, {
      ...base,
      label: `${server.label} slow-reader: normal run again`,
      paused: [],
    });
    const before = cutoffs(normal);
    const after = cutoffs(slow);
    const reference = (normal.deliveriesPerSec + normalAfter.deliveriesPerSec) / 2;
    return {
      normal,
      slow,
      normalAfter,
      throughputKept: reference > 0 ? slow.deliveriesPerSec / reference : 0,
      slowClientCutOff: before === undefined || after === undefined ? undefined : after > before,
      peakRssNormal: normal.server?.peakRss,
      peakRssSlow: slow.server?.peakRss,
    };
  } finally {
    await closeClients(ctx);
  }
}
