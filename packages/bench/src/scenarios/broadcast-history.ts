import type { HistoryLag } from "../servers/child-protocol.js";
import { inBroadcastRoom } from "./broadcast.js";
import type { BroadcastFigures, ScenarioContext, ServerUnderTest } from "./context.js";

/** One closed-loop broadcast run with history off or on (a fresh server each time). */
export interface HistoryRound {
  history: boolean;
  deliveriesPerSec: number;
  /** With history on: the commit lag of the run's batches, and the writer's counters. */
  lag: HistoryLag | undefined;
  written: number | undefined;
  /** Waiting or being written when the run was measured. */
  queued: number | undefined;
  dropped: number | undefined;
  run: BroadcastFigures;
}

/** Broadcast with history on beside history off, in the same run. */
export interface BroadcastHistoryFigures {
  rounds: HistoryRound[];
  /** Mean deliveries/s of the rounds with history off, and on. */
  offDeliveriesPerSec: number;
  onDeliveriesPerSec: number;
  /** on / off: what keeping history costs the chat (target >= 0.9). */
  ratio: number;
  /** The worst round's commit lag percentiles, ms (target p99 < 100). */
  lagP50Ms: number;
  lagP99Ms: number;
  lagMaxMs: number;
}

/** Starts tcpchat with history kept in a fresh data directory (`true`) or with none. */
export type HistoryServerFactory = (
  history: boolean,
) => Promise<ServerUnderTest & { close(): Promise<void> }>;

/**
 * Runs the closed-loop broadcast (the broadcast scenario's room, senders and window) against
 * tcpchat with history off and on, alternated `rounds` times each (off first), so that a change
 * in the machine's load during the run falls on both sides alike.
 */
export async function runBroadcastHistoryScenario(
  ctx: ScenarioContext,
  start: HistoryServerFactory,
  rounds: number,
): Promise<BroadcastHistoryFigures> {
  const results: HistoryRound[] = [];
  for (let round = 0; round < rounds; round++) {
    for (const history of [false, true]) {
      const server = await start(history);
      try {
        results.push(await runRound(ctx, server, history));
      } finally {
        await server.close();
      }
    }
  }
  const mean = (history: boolean) => {
    const picked = results.filter((r) => r.history === history);
    return picked.reduce((sum, r) => sum + r.deliveriesPerSec, 0) / Math.max(1, picked.length);
  };
  const lags = results.flatMap((r) => (r.lag === undefined ? [] : [r.lag]));
  const worst = (key: keyof HistoryLag) => Math.max(0, ...lags.map((lag) => lag[key]));
  const off = mean(false);
  const on = mean(true);
  return {
    rounds: results,
    offDeliveriesPerSec: off,
    onDeliveriesPerSec: on,
    ratio: off > 0 ? on / off : 0,
    lagP50Ms: worst("p50Ms"),
    lagP99Ms: worst("p99Ms"),
    lagMaxMs: worst("maxMs"),
  };
}

async function runRound(
  ctx: ScenarioContext,
  server: ServerUnderTest,
  history: boolean,
): Promise<HistoryRound> {
  const label = `${server.label} broadcast, history ${history ? "on" : "off"}`;
  const run = await inBroadcastRoom(ctx, server, "broadcast-history", (runIn) =>
    runIn(label, { mode: "closed" }),
  );
  const stats = run.server?.after.stats as
    | { historyLag?: HistoryLag; history?: { written: number; queued: number; dropped: number } }
    | undefined;
  const dropped = stats?.history?.dropped ?? 0;
  if (history && dropped > 0) {
    // The writer's bound was reached: the chat went on, and history lost the oldest waiting.
    ctx.warn(
      `${server.label} broadcast-history: history left out ${dropped} messages (the writer fell more than its bound behind)`,
    );
  }
  return {
    history,
    deliveriesPerSec: run.deliveriesPerSec,
    lag: history ? stats?.historyLag : undefined,
    written: history ? stats?.history?.written : undefined,
    queued: history ? stats?.history?.queued : undefined,
    dropped: history ? stats?.history?.dropped : undefined,
    run,
  };
}
