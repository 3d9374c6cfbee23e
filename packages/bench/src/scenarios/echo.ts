import { formatCount } from "../format.js";
import { type LatencySummary, mergeHistograms, summarizeLatency } from "../latency.js";
import type { LoadGeneratorUsage } from "../load/pool.js";
import type { EchoResult, JoinPairsResult } from "../load/protocol.js";
import {
  checkLoadGenerator,
  closeClients,
  connectClients,
  type ScenarioContext,
  type ServerSpan,
  type ServerUnderTest,
  startServerSpan,
} from "./context.js";

/** Echo scenario: clients in 1:1 pairs, each pair in a room of its own, one message in flight. */
export interface EchoFigures {
  pairs: number;
  joined: number;
  roundTrips: number;
  seconds: number;
  roundTripsPerSec: number;
  latency: LatencySummary;
  unfinishedPairs: number;
  loadGenerator: LoadGeneratorUsage;
  server: ServerSpan | undefined;
}

/**
 * Runs the echo scenario: the tutorial's case. In each pair, A sends, B answers when A's message
 * arrives, A sends the next when B's answer arrives; a round trip is A's send to B's answer.
 */
export async function runEchoScenario(
  ctx: ScenarioContext,
  server: ServerUnderTest,
): Promise<EchoFigures> {
  const { options, pool } = ctx;
  const connected = await connectClients(ctx, server, options.clients);
  try {
    // A pair lives in one worker so that the two ends coordinate without crossing threads.
    const pairsByWorker = pool
      .split(Array.from({ length: connected.clients }, (_, i) => i))
      .map((ids) => {
        const pairs: Array<{ a: number; b: number; room: string }> = [];
        for (let i = 0; i + 1 < ids.length; i += 2) {
          pairs.push({ a: ids[i]!, b: ids[i + 1]!, room: `pair${ids[i]}` });
        }
        return pairs;
      });
    const pairs = pairsByWorker.reduce((n, p) => n + p.length, 0);
    ctx.progress.phase(`${server.label} echo: joining ${pairs} pair rooms`);
    const joinedResults = await pool.all<JoinPairsResult>((w) => ({
      op: "join-pairs",
      pairs: pairsByWorker[w]!,
      timeoutMs: 15_000,
    }));
    const joined = joinedResults.reduce((n, r) => n + r.joined, 0);
    ctx.progress.done(`${joined}/${pairs} pairs joined`);
    if (joined < pairs)
      ctx.warn(`${server.label} echo: ${pairs - joined} pairs could not join their room`);
    const span = await startServerSpan(server);
    const usage = pool.startUsage();
    const label = `${server.label} echo`;
    ctx.progress.phase(label, () => `round trips ${formatCount(pool.progress().roundTrips)}`);
    const results = await pool.all<EchoResult>(() => ({
      op: "echo",
      size: options.size,
      durationMs: options.durationMs,
      maxRoundTripsPerPair: 10_000_000,
    }));
    const loadGenerator = usage.stop();
    const serverSpan = await span.stop();
    const roundTrips = results.reduce((n, r) => n + r.roundTrips, 0);
    const seconds =
      (Math.max(...results.map((r) => r.endUs)) - Math.min(...results.map((r) => r.startUs))) / 1e6;
    const figures: EchoFigures = {
      pairs,
      joined,
      roundTrips,
      seconds,
      roundTripsPerSec: seconds > 0 ? roundTrips / seconds : 0,
      latency: summarizeLatency(mergeHistograms(results.map((r) => r.histogram))),
      unfinishedPairs: results.reduce((n, r) => n + r.unfinishedPairs, 0),
      loadGenerator,
      server: serverSpan,
    };
    ctx.progress.done(`${formatCount(figures.roundTripsPerSec)} round trips/s`);
    checkLoadGenerator(ctx, label, loadGenerator);
    if (figures.unfinishedPairs > 0) {
      ctx.warn(`${label}: ${figures.unfinishedPairs} pairs had a round trip that never completed`);
    }
    return figures;
  } finally {
    await closeClients(ctx);
  }
}
