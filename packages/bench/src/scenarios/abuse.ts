import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ATTACK_DEFINITIONS } from "../abuse/attacks.js";
import { seedRoom } from "../abuse/cost-attacks.js";
import type { AttackOutcome } from "../abuse/group.js";
import type { AbuseScale, AttackName } from "../abuse/scale.js";
import type { LatencySummary } from "../latency.js";
import type { ServerMeasure } from "../servers/child-protocol.js";
import { type ServerHandle, startServerChild } from "../servers/server-handle.js";
import { makeRunCertificate, type RunCertificate } from "../tls-cert.js";
import {
  type BroadcastFigures,
  closeClients,
  connectClients,
  runBroadcast,
  type ScenarioContext,
  type ServerUnderTest,
} from "./context.js";

/** The chatters' figures in one phase. */
export interface ChatterPhase {
  sent: number;
  expected: number;
  delivered: number;
  deliveriesPerSec: number;
  latency: LatencySummary;
  /** Server peak RSS during the phase, bytes. */
  peakRss: number | undefined;
  serverLoopDelayP99Ms: number | undefined;
}

/** One attack's run: the same chatters without and with the attack, and how it was handled. */
export interface AttackFigures {
  attack: AttackName;
  title: string;
  chatters: number;
  /** Server RSS after setup (chatters and helpers connected), before the baseline, bytes. */
  idleRss: number | undefined;
  baseline: ChatterPhase | undefined;
  attacked: ChatterPhase | undefined;
  outcome: AttackOutcome | undefined;
  /** Server counters that moved during the attack (tcpchat `stats()`), by name. */
  serverCounters: Record<string, number>;
  /** Set when the run failed. */
  error?: string;
}

/** The abuse scenario's figures. */
export interface AbuseFigures {
  scale: AbuseScale;
  attacks: AttackFigures[];
}

/** Counters that move with any traffic; the others say how the server defended itself. */
const TRAFFIC_COUNTERS = new Set([
  "sessionsOpened",
  "peakConnections",
  "requestsIn",
  "messagesIn",
  "deliveries",
  "bytesIn",
  "bytesOut",
  "connections",
  "rooms",
  "startedAt",
  "maxQueuedBytes",
]);

/** Numeric server counters that went up between two measures (traffic counters left out). */
export function movedCounters(
  before: Record<string, unknown>,
  after: Record<string, unknown>,
): Record<string, number> {
  const moved: Record<string, number> = {};
  for (const [name, value] of Object.entries(after)) {
    if (TRAFFIC_COUNTERS.has(name) || typeof value !== "number") continue;
    const was = before[name];
    const delta = value - (typeof was === "number" ? was : 0);
    if (delta > 0) moved[name] = delta;
  }
  return moved;
}

function phase(figures: BroadcastFigures): ChatterPhase {
  return {
    sent: figures.sent,
    expected: figures.expected,
    delivered: figures.delivered,
    deliveriesPerSec: figures.deliveriesPerSec,
    latency: figures.latency,
    peakRss: figures.server?.peakRss,
    serverLoopDelayP99Ms: figures.server?.after.loopDelay.p99Ms,
  };
}

/** Options of {@link runAbuseScenario}. */
export interface AbuseRunOptions {
  attacks: readonly AttackName[];
  scale: AbuseScale;
  serverChildUrl?: URL;
  nodeFlags: string[];
}

/**
 * Runs each attack against a fresh tcpchat server with default options (the rate limit and send
 * queue a deployment has): chatters connect, the attack's setup runs, then a baseline phase of
 * chatter traffic, then the same phase with the attack.
 */
export async function runAbuseScenario(
  ctx: ScenarioContext,
  run: AbuseRunOptions,
): Promise<AbuseFigures> {
  const results: AbuseFigures = { scale: run.scale, attacks: [] };
  const certificate = run.attacks.some((name) => ATTACK_DEFINITIONS[name].needsTls)
    ? await makeRunCertificate()
    : undefined;
  for (const name of run.attacks) {
    results.attacks.push(await runAttack(ctx, run, name, certificate));
  }
  return results;
}

async function runAttack(
  ctx: ScenarioContext,
  run: AbuseRunOptions,
  name: AttackName,
  certificate: RunCertificate | undefined,
): Promise<AttackFigures> {
  const { scale } = run;
  const definition = ATTACK_DEFINITIONS[name];
  const figures: AttackFigures = {
    attack: name,
    title: definition.title(scale),
    chatters: scale.chatters,
    idleRss: undefined,
    baseline: undefined,
    attacked: undefined,
    outcome: undefined,
    serverCounters: {},
  };
  let handle: ServerHandle | undefined;
  let attack: ReturnType<typeof definition.create> | undefined;
  const seeded = definition.storeMessages?.(scale);
  const dataDir =
    seeded === undefined ? undefined : mkdtempSync(join(tmpdir(), "tcpchat-bench-abuse-"));
  try {
    if (dataDir !== undefined && seeded !== undefined && seeded > 0) seedRoom(dataDir, seeded);
    handle = await startServerChild({
      ...(dataDir === undefined ? {} : { dataDir }),
      kind: "tcpchat",
      options:
        definition.serverOptions?.(
          certificate && { cert: certificate.cert, key: certificate.key },
        ) ?? {},
      policy: definition.policy?.(scale),
      nodeFlags: run.nodeFlags,
      scriptUrl: run.serverChildUrl,
    });
    const server: ServerUnderTest = {
      label: "tcpchat",
      host: handle.host,
      port: handle.port,
      handle,
      greeting: "*** tcpchat/",
    };
    const connected = await connectClients(ctx, server, scale.chatters);
    if (connected.failed > 0)
      ctx.warn(`abuse/${name}: ${connected.failed} chatters failed to connect`);
    const chatters = Array.from({ length: scale.chatters }, (_, i) => i);
    attack = definition.create(
      {
        host: handle.host,
        port: handle.port,
        tlsCa: certificate?.cert,
        localAddress: definition.attackerAddress,
      },
      scale,
    );
    await attack.setup();
    figures.idleRss = (await handle.measure()).rss;
    const phaseRun = (label: string, durationMs: number, beforeStart?: () => Promise<void>) =>
      runBroadcast(ctx, {
        server,
        label,
        beforeStart,
        clients: connected.ready,
        senders: chatters,
        parsers: chatters,
        paused: [],
        request: {
          mode: "open",
          size: ctx.options.size,
          selfEcho: true,
          window: 32,
          ratePerSender: 1000 / scale.chatIntervalMs,
          durationMs,
          maxMessagesPerSender: 10_000_000,
        },
      });
    const phaseMs = definition.phaseMs(scale);
    figures.baseline = phase(await phaseRun(`abuse/${name} baseline`, phaseMs));
    const before: ServerMeasure = await handle.peek();
    const started = attack;
    figures.attacked = phase(
      await phaseRun(`abuse/${name} under attack`, phaseMs, () => started.start()),
    );
    figures.outcome = await attack.stop();
    figures.serverCounters = movedCounters(before.stats, (await handle.peek()).stats);
  } catch (err) {
    figures.error = err instanceof Error ? err.message : String(err);
    ctx.warn(`abuse/${name}: ${figures.error}`);
  } finally {
    attack?.close();
    await closeClients(ctx).catch(() => undefined);
    await handle?.close();
    if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
  }
  return figures;
}
