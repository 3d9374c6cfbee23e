import { runBroadcastScenario } from "./broadcast.js";
import { runConnectIdle } from "./connect-idle.js";
import type { ScenarioContext, ServerUnderTest } from "./context.js";

/** One server at one room size of a sweep. */
export interface SweepFigures {
  clients: number;
  /** Connections greeted for the idle measure. */
  ready: number;
  /** Idle memory per connection after a forced GC (see the idle scenario). */
  rssPerConnection: number | undefined;
  heapPerConnection: number | undefined;
  /** Closed loop: the most deliveries/s the room sustained, and its p99 latency. */
  closedDeliveriesPerSec: number;
  closedP99Ms: number;
  /** Open loop at the bench's open-rate share of that maximum. */
  openDeliveriesPerSec: number | undefined;
  openP99Ms: number | undefined;
  /** Highest server RSS during the closed-loop run. */
  peakRss: number | undefined;
  /** Busiest load-generator worker during the closed-loop run, 0..1 (1: no headroom left). */
  loadGeneratorBusiest: number;
}

/** A sweep's figures: one entry per room size, each by server label. */
export interface SweepPoint {
  clients: number;
  servers: Record<string, SweepFigures>;
}

/**
 * Runs the idle measure and the broadcast scenario (closed, then open loop) against one server
 * at `clients` connections, everything else as configured: how cost grows with the room.
 */
export async function runSweepPoint(
  ctx: ScenarioContext,
  server: ServerUnderTest,
  clients: number,
): Promise<SweepFigures> {
  const options = {
    ...ctx.options,
    clients,
    senders: Math.min(ctx.options.senders, clients),
  };
  const sized: ScenarioContext = { ...ctx, options };
  // The size in the label: progress lines and warnings then say which step they are about.
  const labelled = { ...server, label: `${server.label} (${clients} clients)` };
  const { idle } = await runConnectIdle(sized, labelled, { connect: false, idle: true });
  const broadcast = await runBroadcastScenario(sized, labelled);
  const closed = broadcast.closed;
  return {
    clients,
    ready: idle?.ready ?? closed.receivers,
    rssPerConnection: idle?.rssPerConnection,
    heapPerConnection: idle?.heapPerConnection,
    closedDeliveriesPerSec: closed.deliveriesPerSec,
    closedP99Ms: closed.latency.p99Ms,
    openDeliveriesPerSec: broadcast.open?.deliveriesPerSec,
    openP99Ms: broadcast.open?.latency.p99Ms,
    peakRss: closed.server?.peakRss,
    loadGeneratorBusiest: Math.max(...closed.loadGenerator.workerUtilization),
  };
}
