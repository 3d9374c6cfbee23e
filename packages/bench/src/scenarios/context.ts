import { cpus } from "node:os";
import type { BenchOptions } from "../args.js";
import { formatCount } from "../format.js";
import { startMachineCpu } from "../kernel-counters.js";
import { type LatencySummary, mergeHistograms, summarizeLatency } from "../latency.js";
import type { LoadGenerator, LoadGeneratorUsage } from "../load/generator.js";
import type {
  BroadcastRequest,
  BroadcastResult,
  ConnectResult,
  CountsResult,
  ProbeResult,
} from "../load/protocol.js";
import type { LoadTransport } from "../load/transport-kind.js";
import type { Progress } from "../progress.js";
import type { ServerMeasure } from "../servers/child-protocol.js";
import type { ServerHandle } from "../servers/server-handle.js";

/** A server being measured: one started by the bench, or an external `--target`. */
export interface ServerUnderTest {
  /** Label in the report: `tcpchat`, `naive relay` or `target`. */
  label: string;
  host: string;
  port: number;
  /** The child process, when the bench started the server (absent for `--target`). */
  handle: ServerHandle | undefined;
  /** First-line prefix that means "greeted"; undefined: ready when TCP connects. */
  greeting: string | undefined;
  /** How the clients connect (default `tcp`). */
  transport?: LoadTransport;
  /** With `tls`: the PEM certificate the clients trust. */
  tlsCa?: string;
}

/** Starts (or names) a server for one scenario, with the ChatServerOptions it needs. */
export type ServerFactory = (options: Record<string, unknown>) => Promise<ServerUnderTest>;

/** What every scenario gets. */
export interface ScenarioContext {
  options: BenchOptions;
  pool: LoadGenerator;
  progress: Progress;
  /** Problems worth a line under the table (saturated load generator, lost messages...). */
  warn(text: string): void;
}

/** Aggregated result of opening `clients` connections. */
export interface ConnectFigures {
  clients: number;
  ready: number;
  failed: number;
  failures: Record<string, number>;
  /** From the first connect call until the last client was greeted, ms. */
  timeToAllReadyMs: number;
  connectionsPerSec: number;
  /** Per-client time from the start of the phase until it was greeted. */
  readyLatency: LatencySummary;
  /**
   * TLS clients: full handshakes completed per second, from the first connect call until the
   * last handshake finished (the greeting may come later: see the protocol's sniffing rules).
   */
  tlsHandshakesPerSec?: number;
}

/**
 * Opens clients 0..n-1 (or firstId...) across the workers and waits until each is greeted (or
 * fails); with `pause`, each stops reading once greeted. A server with no greeting is then
 * probed (see {@link probeRoom}) before the clients count as ready, unless they are paused.
 */
export async function connectClients(
  ctx: ScenarioContext,
  server: ServerUnderTest,
  clients: number,
  more: {
    firstId?: number;
    pause?: boolean;
    /** Deadline of the readiness probe, ms (default: 10 s plus 2 ms a client). */
    probeDeadlineMs?: number;
  } = {},
): Promise<ConnectFigures> {
  const first = more.firstId ?? 0;
  const parts = ctx.pool.split(Array.from({ length: clients }, (_, i) => first + i));
  const timeoutMs = 15_000 + clients * 2;
  const results = await ctx.pool.all<ConnectResult>((w) => ({
    op: "connect",
    host: server.host,
    port: server.port,
    clients: parts[w]!,
    readyOn: server.greeting === undefined ? "connect" : "greeting",
    greetingPrefix: server.greeting ?? "",
    timeoutMs,
    pause: more.pause,
    transport: server.transport,
    tlsCa: server.tlsCa,
    // The window is the run's; each worker takes its share of it.
    window: Math.ceil(ctx.options.connectWindow / ctx.pool.size),
  }));
  const failures: Record<string, number> = {};
  for (const r of results) {
    for (const [reason, n] of Object.entries(r.failures))
      failures[reason] = (failures[reason] ?? 0) + n;
  }
  const startUs = Math.min(...results.map((r) => r.startUs));
  const lastUs = Math.max(...results.map((r) => r.lastReadyUs));
  const ready = results.reduce((n, r) => n + r.ready, 0);
  const timeToAllReadyMs = ready > 0 ? (lastUs - startUs) / 1000 : 0;
  if (server.greeting === undefined && !more.pause) {
    const ids = Array.from({ length: clients }, (_, i) => first + i);
    await probeRoom(ctx, ids, more.probeDeadlineMs);
  }
  const handshakes = results.reduce((n, r) => n + (r.handshakes ?? 0), 0);
  const lastHandshakeUs = Math.max(...results.map((r) => r.lastHandshakeUs ?? 0));
  const handshakeSeconds = (lastHandshakeUs - startUs) / 1e6;
  return {
    ...(server.transport === "tls" && handshakes > 0 && handshakeSeconds > 0
      ? { tlsHandshakesPerSec: handshakes / handshakeSeconds }
      : {}),
    clients,
    ready,
    failed: results.reduce((n, r) => n + r.failed, 0),
    failures,
    timeToAllReadyMs,
    connectionsPerSec: timeToAllReadyMs > 0 ? ready / (timeToAllReadyMs / 1000) : 0,
    readyLatency: summarizeLatency(mergeHistograms(results.map((r) => r.histogram))),
  };
}

/** How long one probe round waits for its setup lines before the next round writes more. */
const PROBE_ROUND_MS = 250;

/**
 * The readiness probe for a server that does not greet (`--target` without `--greeting`): a
 * client is connected once TCP connects, before the server may have accepted it, and the lines
 * sent meanwhile never reach it. So, round after round, one client (two without self-echo, so
 * that each hears the other; other clients each round, in case one is gone) writes a setup
 * line, until every client has heard one through the room: the server relays only to the
 * clients it has accepted. Fails with what is wrong once the deadline passes.
 */
export async function probeRoom(
  ctx: ScenarioContext,
  ids: readonly number[],
  deadlineMs = 10_000 + ids.length * 2,
): Promise<void> {
  const perRound = ctx.options.selfEcho ? 1 : 2;
  if (ids.length < perRound) {
    ctx.warn("readiness probe skipped: one client cannot hear its own line without self-echo");
    return;
  }
  const deadline = performance.now() + deadlineMs;
  let unheard: readonly number[] = ids;
  for (let round = 0; unheard.length > 0; round++) {
    if (performance.now() >= deadline) {
      throw new Error(
        `readiness probe: ${unheard.length} of ${ids.length} clients heard no setup line ` +
          `through the room within ${deadlineMs / 1000} s of connecting; the server has not ` +
          "accepted them, or does not relay every line to every client (a server that greets " +
          "its clients: give --greeting PREFIX)",
      );
    }
    const senders = Array.from(
      { length: perRound },
      (_, i) => ids[(round * perRound + i) % ids.length]!,
    );
    const senderParts = ctx.pool.split(senders);
    const waiting = ctx.pool.split(unheard);
    const results = await ctx.pool.all<ProbeResult>((w) => ({
      op: "probe",
      clients: waiting[w]!,
      senders: senderParts[w]!,
      timeoutMs: PROBE_ROUND_MS,
    }));
    unheard = results.flatMap((r) => r.unheard);
  }
}

/** Closes every client connection, or only those given. */
export async function closeClients(ctx: ScenarioContext, ids?: number[]): Promise<void> {
  const parts = ids ? ctx.pool.split(ids) : undefined;
  await ctx.pool.all((w) => ({ op: "close-all", ids: parts?.[w] }));
}

/** Raw figures of one broadcast run. */
export interface BroadcastFigures {
  mode: "closed" | "open";
  receivers: number;
  senders: number;
  /** Open loop: the rate asked for, messages/s (all senders together). */
  targetRate: number | undefined;
  sent: number;
  sendSeconds: number;
  messagesPerSec: number;
  /** Deliveries expected: messages sent times receivers. */
  expected: number;
  delivered: number;
  deliverySeconds: number;
  deliveriesPerSec: number;
  /** Sequence checks on the parsing receivers. */
  gaps: number;
  duplicates: number;
  mismatchedStreams: number;
  checkedStreams: number;
  /** Receivers whose total differs from the messages sent. */
  receiversShort: number;
  latency: LatencySummary;
  /**
   * Open loop: how late the load generator sent against its schedule. Latency counts from the
   * scheduled time, so a large lag here is load-generator delay inside the latency figures.
   */
  sendLag: LatencySummary | undefined;
  loadGenerator: LoadGeneratorUsage;
  server: ServerSpan | undefined;
  /**
   * Cores kept busy by everything else on the machine during the run (machine-wide busy time,
   * softirq excluded, minus the server child and the load generator); undefined off Linux. Other work competes
   * for the same cores and skews the figures.
   */
  otherCpuCores: number | undefined;
}

/** The server child's CPU use and peak memory during a span. */
export interface ServerSpan {
  cpuCores: number;
  peakRss: number;
  before: ServerMeasure;
  after: ServerMeasure;
}

/** Starts a server-side measurement span (CPU, peak RSS); stop() after the run. */
export async function startServerSpan(
  server: ServerUnderTest,
): Promise<{ stop(): Promise<ServerSpan | undefined> }> {
  const handle = server.handle;
  if (!handle) return { stop: async () => undefined };
  await handle.resetPeak();
  const before = await handle.measure();
  const start = performance.now();
  return {
    async stop() {
      const after = await handle.measure();
      const wallMs = performance.now() - start;
      const cpuUs = after.cpuUserUs + after.cpuSystemUs - before.cpuUserUs - before.cpuSystemUs;
      return { cpuCores: cpuUs / 1000 / wallMs, peakRss: after.peakRss, before, after };
    },
  };
}

/** Options of {@link runBroadcast} beyond the worker request. */
export interface BroadcastRunOptions {
  server: ServerUnderTest;
  label: string;
  clients: number;
  request: Omit<BroadcastRequest, "op" | "senders" | "parsers" | "paused">;
  senders: number[];
  parsers: number[];
  paused: number[];
  /** Polled every 250 ms while the senders run; true ends the run early. */
  stopWhen?: () => Promise<boolean>;
  /**
   * Runs after the server span has begun and the workers are ready, just before the senders
   * start (the abuse scenario starts its attack here, so that both begin together and the
   * span's first measure is not stuck behind an attack already under way).
   */
  beforeStart?: () => Promise<void>;
  /**
   * Measures the server side instead of {@link startServerSpan} (a cluster: every node and its
   * Redis together, so that their CPU is not counted as other processes' load).
   */
  span?: (server: ServerUnderTest) => Promise<{ stop(): Promise<ServerSpan | undefined> }>;
}

/**
 * One broadcast run: starts the senders in every worker, waits until they stop, then until every
 * receiver has counted what was sent (or deliveries stop arriving), and checks sequences.
 */
export async function runBroadcast(
  ctx: ScenarioContext,
  run: BroadcastRunOptions,
): Promise<BroadcastFigures> {
  const { pool } = ctx;
  const senders = pool.split(run.senders);
  const parsers = pool.split(run.parsers);
  const paused = pool.split(run.paused);
  const span = await (run.span ?? startServerSpan)(run.server);
  const usage = pool.startUsage();
  const machine = startMachineCpu(cpus().length);
  pool.resetProgress();
  ctx.progress.phase(run.label, () => {
    const now = pool.progress();
    return `sent ${formatCount(now.sent)}  delivered ${formatCount(now.delivered)}`;
  });
  await pool.all((w) => ({
    op: "broadcast",
    ...run.request,
    senders: senders[w]!,
    parsers: parsers[w]!,
    paused: paused[w]!,
  }));
  await run.beforeStart?.();
  const running = pool.all<BroadcastResult>(() => ({ op: "broadcast-start" }));
  if (run.stopWhen) {
    let done = false;
    running.then(
      () => {
        done = true;
      },
      () => {
        done = true;
      },
    );
    while (!done) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      if (!done && (await run.stopWhen())) {
        await pool.all(() => ({ op: "broadcast-stop" }));
        break;
      }
    }
  }
  const results = await running;
  const sentPerSender: Record<number, number> = {};
  let sent = 0;
  for (const r of results) {
    for (const [id, n] of Object.entries(r.sent)) {
      sentPerSender[Number(id)] = n;
      sent += n;
    }
  }
  const receivers = run.clients - run.paused.length;
  // Without self-echo a sender receives everyone's messages but its own.
  const expected = sent * receivers - (run.request.selfEcho ? 0 : sent);
  const counts = await waitForDeliveries(ctx, expected, sentPerSender, sent);
  const loadGenerator = usage.stop();
  const machineCores = machine.stop();
  const server = await span.stop();
  const otherCpuCores =
    machineCores === undefined
      ? undefined
      : Math.max(0, machineCores - loadGenerator.cpuCores - (server?.cpuCores ?? 0));
  const startUs = Math.min(...results.map((r) => r.startUs));
  const endUs = Math.max(...results.map((r) => r.endUs));
  const lastDeliveryUs = Math.max(...counts.map((c) => c.lastDeliveryUs));
  const delivered = counts.reduce((n, c) => n + c.delivered, 0);
  const sendSeconds = (endUs - startUs) / 1e6;
  const deliverySeconds = Math.max(0, (lastDeliveryUs - startUs) / 1e6);
  const figures: BroadcastFigures = {
    mode: run.request.mode,
    receivers,
    senders: run.senders.length,
    targetRate:
      run.request.mode === "open" ? run.request.ratePerSender * run.senders.length : undefined,
    sent,
    sendSeconds,
    messagesPerSec: sendSeconds > 0 ? sent / sendSeconds : 0,
    expected,
    delivered,
    deliverySeconds,
    deliveriesPerSec: deliverySeconds > 0 ? delivered / deliverySeconds : 0,
    gaps: counts.reduce((n, c) => n + c.gaps, 0),
    duplicates: counts.reduce((n, c) => n + c.duplicates, 0),
    mismatchedStreams: counts.reduce((n, c) => n + c.mismatched, 0),
    checkedStreams: counts.reduce((n, c) => n + c.checkedStreams, 0),
    receiversShort: counts.reduce((n, c) => n + c.receiversOff, 0),
    latency: summarizeLatency(mergeHistograms(counts.map((c) => c.histogram))),
    sendLag:
      run.request.mode === "open"
        ? summarizeLatency(mergeHistograms(results.map((r) => r.sendLag)))
        : undefined,
    loadGenerator,
    server,
    otherCpuCores,
  };
  ctx.progress.done(
    `sent ${formatCount(sent)}  delivered ${formatCount(delivered)}/${formatCount(expected)}  ` +
      `${formatCount(figures.deliveriesPerSec)} deliveries/s`,
  );
  checkLoadGenerator(ctx, run.label, loadGenerator);
  if (otherCpuCores !== undefined && otherCpuCores > BUSY_MACHINE_CORES) {
    ctx.warn(
      `${run.label}: other processes kept ${otherCpuCores.toFixed(2)} cores busy during the run; ` +
        "its figures are lower than on an idle machine",
    );
  }
  if (
    delivered !== expected ||
    figures.gaps > 0 ||
    figures.duplicates > 0 ||
    figures.mismatchedStreams > 0
  ) {
    ctx.warn(
      `${run.label}: delivered ${delivered} of ${expected} expected; ` +
        `${figures.gaps} lost and ${figures.duplicates} duplicated in sequence checks, ` +
        `${figures.mismatchedStreams} of ${figures.checkedStreams} sender streams incomplete`,
    );
  }
  return figures;
}

/**
 * How long deliveries may stop arriving before the rest counts as lost. Generous: on a busy
 * machine a load-generator thread can go unscheduled for a second or more.
 */
const STALL_MS = 5000;

/** Cores of other work during a run above which the bench says the machine was busy. */
const BUSY_MACHINE_CORES = 0.25;

/** Polls the workers' counts until `expected` deliveries are in, or they stop coming. */
async function waitForDeliveries(
  ctx: ScenarioContext,
  expected: number,
  expectedPerSender: Record<number, number>,
  expectedPerReceiver: number,
): Promise<CountsResult[]> {
  const deadline = performance.now() + 30_000;
  let last = -1;
  let lastChange = performance.now();
  for (;;) {
    const counts = await ctx.pool.all<CountsResult>(() => ({ op: "counts" }));
    const delivered = counts.reduce((n, c) => n + c.delivered, 0);
    const now = performance.now();
    if (delivered !== last) {
      last = delivered;
      lastChange = now;
    }
    if (delivered >= expected || now - lastChange > STALL_MS || now > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return ctx.pool.all<CountsResult>(() => ({
    op: "counts",
    expectedPerSender,
    expectedPerReceiver,
  }));
}

/**
 * Warns when a generator worker's event loop (or a native process's CPU) was busy most of the
 * time: then it, not the server, limited.
 */
export function checkLoadGenerator(
  ctx: ScenarioContext,
  label: string,
  usage: LoadGeneratorUsage,
): void {
  const busiest = Math.max(...usage.workerUtilization);
  if (busiest > 0.9) {
    const unit = usage.generator === "native" ? "process" : "worker";
    ctx.warn(
      `${label}: a load-generator ${unit} was busy ${(busiest * 100).toFixed(0)}% of the time; ` +
        "it may have limited this figure (try --workers or fewer clients)",
    );
  }
}

/** Client ids spread evenly over 0..clients-1 (for senders and sampled receivers). */
export function spread(count: number, clients: number, offset = 0): number[] {
  const ids = new Set<number>();
  const n = Math.min(count, clients);
  for (let i = 0; i < n; i++) ids.add((offset + Math.floor((i * clients) / n)) % clients);
  return [...ids];
}
