import { formatBytes, formatCount, formatMs } from "../format.js";
import { readTcpExtCounter } from "../kernel-counters.js";
import type { LoadGeneratorUsage } from "../load/pool.js";
import type { ServerMeasure } from "../servers/child-protocol.js";
import {
  type ConnectFigures,
  checkLoadGenerator,
  closeClients,
  connectClients,
  type ScenarioContext,
  type ServerUnderTest,
} from "./context.js";

/** Connect scenario: how fast N clients get connected and greeted. */
export interface ConnectScenarioFigures extends ConnectFigures {
  loadGenerator: LoadGeneratorUsage;
  /**
   * Connection attempts the kernel dropped during the phase because the listen queue was full
   * (TcpExt ListenOverflows, machine-wide; undefined off Linux). Each costs its client a SYN
   * retry one second later.
   */
  listenOverflows: number | undefined;
}

/** Idle scenario: the server's memory per idle connection, after a forced GC. */
export interface IdleFigures {
  clients: number;
  ready: number;
  before: ServerMeasure;
  after: ServerMeasure;
  rssPerConnection: number;
  heapPerConnection: number;
  /**
   * Heap V8 keeps committed (`heapTotal`) per connection: above heapPerConnection when the young
   * generation grew during the connect burst and has not shrunk back; that growth is in RSS too.
   */
  heapTotalPerConnection: number;
  /** Memory outside the JS heap (Buffers and other native objects) per connection. */
  externalPerConnection: number;
}

/** Clients that connect and leave before the measured phase. */
const WARM_UP_CLIENTS = 50;

/**
 * Connect and idle share one phase: N clients connect at once (timed), then, while they sit
 * idle, the server's memory is measured. Either figure may be skipped.
 */
export async function runConnectIdle(
  ctx: ScenarioContext,
  server: ServerUnderTest,
  want: { connect: boolean; idle: boolean },
): Promise<{ connect?: ConnectScenarioFigures; idle?: IdleFigures }> {
  const clients = ctx.options.clients;
  // A few clients come and go first, so that the baseline already holds what the first
  // connections cost once (compiled code, grown pools) and the per-client figures do not.
  if (server.handle) {
    await connectClients(ctx, server, Math.min(WARM_UP_CLIENTS, clients), { firstId: clients });
    await closeClients(ctx);
  }
  const before = want.idle ? await server.handle?.measure() : undefined;
  const overflowsBefore = readTcpExtCounter("ListenOverflows");
  const usage = ctx.pool.startUsage();
  const label = `${server.label} connect ${clients}`;
  ctx.progress.phase(
    label,
    () => `greeted ${formatCount(ctx.pool.progress().ready)}/${formatCount(clients)}`,
  );
  let figures: ConnectFigures;
  try {
    figures = await connectClients(ctx, server, clients);
  } catch (err) {
    ctx.progress.done("failed");
    throw err;
  }
  const loadGenerator = usage.stop();
  const overflowsAfter = readTcpExtCounter("ListenOverflows");
  const listenOverflows =
    overflowsBefore === undefined || overflowsAfter === undefined
      ? undefined
      : overflowsAfter - overflowsBefore;
  ctx.progress.done(
    `greeted ${figures.ready}/${clients} in ${formatMs(figures.timeToAllReadyMs)}` +
      (figures.failed > 0 ? `, ${figures.failed} failed: ${JSON.stringify(figures.failures)}` : ""),
  );
  if (figures.failed > 0) {
    ctx.warn(
      `${label}: ${figures.failed} of ${clients} clients failed: ${JSON.stringify(figures.failures)}`,
    );
  }
  checkLoadGenerator(ctx, label, loadGenerator);
  const result: { connect?: ConnectScenarioFigures; idle?: IdleFigures } = {};
  if (want.connect) result.connect = { ...figures, loadGenerator, listenOverflows };
  if (want.idle && before && server.handle) {
    const after = await server.handle.measure();
    const n = Math.max(1, figures.ready);
    result.idle = {
      clients,
      ready: figures.ready,
      before,
      after,
      rssPerConnection: (after.rss - before.rss) / n,
      heapPerConnection: (after.heapUsed - before.heapUsed) / n,
      heapTotalPerConnection: (after.heapTotal - before.heapTotal) / n,
      externalPerConnection: (after.external - before.external) / n,
    };
    ctx.progress.note(
      `  ${server.label} idle: ${formatBytes(result.idle.rssPerConnection)} RSS, ` +
        `${formatBytes(result.idle.heapPerConnection)} heap per connection`,
    );
  }
  await closeClients(ctx);
  return result;
}
