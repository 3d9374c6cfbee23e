import {
  type BroadcastFigures,
  closeClients,
  connectClients,
  runBroadcast,
  type ScenarioContext,
  type ServerUnderTest,
  spread,
} from "./context.js";

/** Broadcast scenario: a closed-loop run for the maximum, then an open-loop run for latency. */
export interface BroadcastScenarioFigures {
  closed: BroadcastFigures;
  open: BroadcastFigures | undefined;
}

/** Receivers (besides the senders) that decode every message for latency and sequence checks. */
const EXTRA_PARSERS = 8;

/** Senders and parsing receivers for a room of `clients`. */
export function pickRoles(
  clients: number,
  senderCount: number,
): { senders: number[]; parsers: number[] } {
  const senders = spread(senderCount, clients);
  const parsers = [...new Set([...senders, ...spread(EXTRA_PARSERS, clients, 1)])];
  return { senders, parsers };
}

/** Runs the broadcast scenario against one server: N clients in the default room, S senders. */
export async function runBroadcastScenario(
  ctx: ScenarioContext,
  server: ServerUnderTest,
): Promise<BroadcastScenarioFigures> {
  const { options } = ctx;
  const connected = await connectClients(ctx, server, options.clients);
  if (connected.failed > 0) {
    ctx.warn(`${server.label} broadcast: ${connected.failed} clients failed to connect`);
  }
  try {
    const { senders, parsers } = pickRoles(options.clients, options.senders);
    const maxMessagesPerSender = 10_000_000;
    const closed = await runBroadcast(ctx, {
      server,
      label: `${server.label} broadcast closed loop`,
      clients: connected.ready,
      senders,
      parsers,
      paused: [],
      request: {
        mode: "closed",
        size: options.size,
        selfEcho: options.selfEcho,
        window: options.window,
        ratePerSender: 0,
        durationMs: options.durationMs,
        maxMessagesPerSender,
      },
    });
    let open: BroadcastFigures | undefined;
    // The sustained maximum is what reached every receiver, drain included: the send-window
    // rate alone would overstate a server that buffers (the naive relay queues without limit).
    const sustained = closed.receivers > 0 ? closed.deliveriesPerSec / closed.receivers : 0;
    const rate = (sustained * options.openLoopFraction) / senders.length;
    if (rate > 0) {
      open = await runBroadcast(ctx, {
        server,
        label: `${server.label} broadcast open loop`,
        clients: connected.ready,
        senders,
        parsers,
        paused: [],
        request: {
          mode: "open",
          size: options.size,
          selfEcho: options.selfEcho,
          window: options.window,
          ratePerSender: rate,
          durationMs: options.durationMs,
          maxMessagesPerSender,
        },
      });
    }
    return { closed, open };
  } finally {
    await closeClients(ctx);
  }
}
