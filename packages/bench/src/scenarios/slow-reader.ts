import { pickRoles } from "./broadcast.js";
import {
  type BroadcastFigures,
  closeClients,
  connectClients,
  runBroadcast,
  type ScenarioContext,
  type ServerUnderTest,
} from "./context.js";

/** Slow-reader scenario: a normal broadcast run, then the same with one client that never reads. */
export interface SlowReaderFigures {
  normal: BroadcastFigures;
  slow: BroadcastFigures;
  /** Deliveries/s of the other clients with the slow reader, as a share of the normal run's. */
  throughputKept: number;
  /** Whether the server cut the slow client off (tcpchat's sendQueueCutoffs went up). */
  slowClientCutOff: boolean | undefined;
  /** Peak server RSS during each run, bytes. */
  peakRssNormal: number | undefined;
  peakRssSlow: number | undefined;
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
    const roles = pickRoles(connected.ready, options.senders);
    // The slow reader is the last client that does not send; it neither counts nor decodes.
    const senders = roles.senders;
    let slowId = connected.ready - 1;
    while (slowId > 0 && senders.includes(slowId)) slowId--;
    const parsers = roles.parsers.filter((id) => id !== slowId);
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
    const slow = await runBroadcast(ctx, {
      ...base,
      label: `${server.label} slow-reader: one client not reading`,
      paused: [slowId],
    });
    const before = cutoffs(normal);
    const after = cutoffs(slow);
    return {
      normal,
      slow,
      throughputKept:
        normal.deliveriesPerSec > 0 ? slow.deliveriesPerSec / normal.deliveriesPerSec : 0,
      slowClientCutOff: before === undefined || after === undefined ? undefined : after > before,
      peakRssNormal: normal.server?.peakRss,
      peakRssSlow: slow.server?.peakRss,
    };
  } finally {
    await closeClients(ctx);
  }
}
