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

/** How one run of the broadcast room sends: closed loop (as fast as the window lets) or open. */
export type RoomRunMode = { mode: "closed" } | { mode: "open"; ratePerSender: number };

/**
 * The broadcast room of `ctx`'s options connected to `server`: `run` sends one closed- or
 * open-loop run in it (the same senders, parsers, size and window each time). The clients are
 * closed when `body` settles.
 */
export async function inBroadcastRoom<T>(
  ctx: ScenarioContext,
  server: ServerUnderTest,
  scenario: string,
  body: (
    run: (label: string, how: RoomRunMode) => Promise<BroadcastFigures>,
    senders: readonly number[],
  ) => Promise<T>,
): Promise<T> {
  const { options } = ctx;
  const connected = await connectClients(ctx, server, options.clients);
  if (connected.failed > 0) {
    ctx.warn(`${server.label} ${scenario}: ${connected.failed} clients failed to connect`);
  }
  try {
    const { senders, parsers } = pickRoles(options.clients, options.senders);
    return await body(
      (label, how) =>
        runBroadcast(ctx, {
          server,
          label,
          clients: connected.ready,
          senders,
          parsers,
          paused: [],
          request: {
            mode: how.mode,
            size: options.size,
            selfEcho: options.selfEcho,
            window: options.window,
            ratePerSender: how.mode === "open" ? how.ratePerSender : 0,
            durationMs: options.durationMs,
            maxMessagesPerSender: 10_000_000,
          },
        }),
      senders,
    );
  } finally {
    await closeClients(ctx);
  }
}

/** Runs the broadcast scenario against one server: N clients in the default room, S senders. */
export async function runBroadcastScenario(
  ctx: ScenarioContext,
  server: ServerUnderTest,
): Promise<BroadcastScenarioFigures> {
  return inBroadcastRoom(ctx, server, "broadcast", async (run, senders) => {
    const closed = await run(`${server.label} broadcast closed loop`, { mode: "closed" });
    let open: BroadcastFigures | undefined;
    // The sustained maximum is what reached every receiver, drain included: the send-window
    // rate alone would overstate a server that buffers (the naive relay queues without limit).
    const sustained = closed.receivers > 0 ? closed.deliveriesPerSec / closed.receivers : 0;
    const rate = (sustained * ctx.options.openLoopFraction) / senders.length;
    if (rate > 0) {
      open = await run(`${server.label} broadcast open loop`, {
        mode: "open",
        ratePerSender: rate,
      });
    }
    return { closed, open };
  });
}
