import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ATTACKER_KINDS, type AttackerKind } from "../abuse/attacker.js";
import { ATTACK_DEFINITIONS } from "../abuse/attacks.js";
import { seedStoredRoom } from "../abuse/cost-attacks.js";
import type { AttackOutcome } from "../abuse/group.js";
import { type AbuseScale, type AttackName, attackLabel } from "../abuse/scale.js";
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
  /** What the attackers spoke, for attacks run once per kind of client. */
  kind?: AttackerKind;
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
  /** Attacks run once per kind of attacker run with these kinds only (default: every kind). */
  attackerKinds?: readonly AttackerKind[];
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
  const runs = run.attacks.flatMap((name): Array<{ name: AttackName; kind?: AttackerKind }> => {
    const kinds = ATTACK_DEFINITIONS[name].kinds;
    if (kinds === undefined) return [{ name }];
    return kinds
      .filter((kind) => run.attackerKinds?.includes(kind) ?? true)
      .map((kind) => ({ name, kind }));
  });
  const certificate = runs.some(
    ({ name, kind }) => ATTACK_DEFINITIONS[name].needsTls || kind === ATTACKER_KINDS.tls,
  )
    ? await makeRunCertificate()
    : undefined;
  for (const { name, kind } of runs) {
    results.attacks.push(await runAttack(ctx, run, { name, kind }, certificate));
  }
  return results;
}

/** What the server must speak for attackers of `kind` (beside text, JSON and telnet, always on). */
function serverOptionsFor(
  kind: AttackerKind | undefined,
  tls: { cert: string; key: string } | undefined,
): Record<string, unknown> {
  if (kind === ATTACKER_KINDS.ws) return { webSocket: true };
  if (kind === ATTACKER_KINDS.tls) return { tls };
  return {};
}

async function runAttack(
  ctx: ScenarioContext,
  run: AbuseRunOptions,
  { name, kind }: { name: AttackName; kind?: AttackerKind },
  certificate: RunCertificate | undefined,
): Promise<AttackFigures> {
  const { scale } = run;
  const definition = ATTACK_DEFINITIONS[name];
  const label = attackLabel({ attack: name, kind });
  const figures: AttackFigures = {
    attack: name,
    ...(kind === undefined ? {} : { kind }),
    title: definition.title(scale, kind),
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
    if (dataDir !== undefined && seeded !== undefined && seeded > 0) {
      seedStoredRoom(dataDir, seeded);
    }
    const tls = certificate && { cert: certificate.cert, key: certificate.key };
    handle = await startServerChild({
      ...(dataDir === undefined ? {} : { dataDir }),
      kind: "tcpchat",
      options: { ...definition.serverOptions?.(tls), ...serverOptionsFor(kind, tls) },
      policy: definition.policy?.(scale),
      cpuProfDir: ctx.options.serverCpuProf,
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
      ctx.warn(`abuse/${label}: ${connected.failed} chatters failed to connect`);
    const chatters = Array.from({ length: scale.chatters }, (_, i) => i);
    attack = definition.create(
      {
        host: handle.host,
        port: handle.port,
        ...(kind === undefined ? {} : { kind }),
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
    figures.baseline = phase(await phaseRun(`abuse/${label} baseline`, phaseMs));
    const before: ServerMeasure = await handle.peek();
    const started = attack;
    figures.attacked = phase(
      await phaseRun(`abuse/${label} under attack`, phaseMs, () => started.start()),
    );
    figures.outcome = await attack.stop();
    figures.serverCounters = movedCounters(before.stats, (await handle.peek()).stats);
  } catch (err) {
    figures.error = err instanceof Error ? err.message : String(err);
    ctx.warn(`abuse/${label}: ${figures.error}`);
  } finally {
    attack?.close();
    await closeClients(ctx).catch(() => undefined);
    await handle?.close();
    if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
  }
  return figures;
}
