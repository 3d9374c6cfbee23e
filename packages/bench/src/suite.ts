import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { abuseScale } from "./abuse/scale.js";
import { type BenchOptions, type ScenarioName, TRANSPORT_SCENARIOS } from "./args.js";
import { chooseGenerator, startGenerator } from "./load/choose-generator.js";
import type { GeneratorKind } from "./load/generator.js";
import { LOAD_TRANSPORTS, type LoadTransport } from "./load/transport-kind.js";
import { type MachineInfo, machineInfo } from "./machine.js";
import { affinityOf, type CpuPinning, pinProcess, planPinning } from "./pinning.js";
import { Progress } from "./progress.js";
import type { TargetCheck } from "./report/targets.js";
import { type AbuseFigures, runAbuseScenario } from "./scenarios/abuse.js";
import { type BroadcastScenarioFigures, runBroadcastScenario } from "./scenarios/broadcast.js";
import {
  type BroadcastHistoryFigures,
  runBroadcastHistoryScenario,
} from "./scenarios/broadcast-history.js";
import { type ClusterScenarioFigures, runClusterScenario } from "./scenarios/cluster.js";
import {
  type ConnectScenarioFigures,
  type IdleFigures,
  runConnectIdle,
} from "./scenarios/connect-idle.js";
import type { ScenarioContext, ServerUnderTest } from "./scenarios/context.js";
import { type EchoFigures, runEchoScenario } from "./scenarios/echo.js";
import { runSlowReaderScenario, type SlowReaderFigures } from "./scenarios/slow-reader.js";
import { runSweepPoint, type SweepPoint } from "./scenarios/sweep.js";
import { SERVER_KINDS, type ServerKind } from "./servers/child-protocol.js";
import { pinServerChildren, startServerChild } from "./servers/server-handle.js";
import { makeRunCertificate, type RunCertificate } from "./tls-cert.js";

/** Greeting prefix of tcpchat and of the naive relay. */
export const TCPCHAT_GREETING = "*** tcpchat/";

/**
 * ChatServerOptions for throughput runs. The per-session rate limits (messages 20/s, burst 40;
 * work 50 lines/s, burst 100) would otherwise throttle the senders, and a throughput run may queue more than the default
 * 1 MiB to a receiver for a moment; the slow-reader scenario keeps the default queue limit.
 */
export const THROUGHPUT_SERVER_OPTIONS = {
  messageRate: 1_000_000,
  messageBurst: 1_000_000,
  requestRate: 1_000_000,
  requestBurst: 1_000_000,
  sendQueueBytes: 64 * 1024 * 1024,
} as const;
/** ChatServerOptions for the slow-reader scenario: no rate limit, default send queue (1 MiB). */
export const SLOW_READER_SERVER_OPTIONS = {
  messageRate: 1_000_000,
  messageBurst: 1_000_000,
  requestRate: 1_000_000,
  requestBurst: 1_000_000,
} as const;

/** Figures of every scenario, by server label. */
export interface ScenarioResults {
  connect?: Record<string, ConnectScenarioFigures>;
  idle?: Record<string, IdleFigures>;
  broadcast?: Record<string, BroadcastScenarioFigures>;
  echo?: Record<string, EchoFigures>;
  "slow-reader"?: Record<string, SlowReaderFigures>;
  /** tcpchat only: broadcast with history off and on, alternated. */
  "broadcast-history"?: BroadcastHistoryFigures;
  /** tcpchat only: each attack beside a baseline run. */
  abuse?: AbuseFigures;
  /** With `--nodes`: a single node beside N nodes joined by Redis. */
  cluster?: ClusterScenarioFigures;
}

/** Everything a run measured: what `--json` writes. */
export interface BenchResults {
  tool: "tcpchat-bench";
  startedAt: string;
  durationMs: number;
  machine: MachineInfo;
  /** 1, 5 and 15 minute load averages when the run ended (the machine's at start is in `machine`). */
  loadAverageAtEnd: number[];
  options: BenchOptions;
  /** Server labels, the measured one first (`tcpchat` or `target`), then the baseline. */
  servers: string[];
  loadGeneratorWorkers: number;
  /** Which load generator ran (absent in results from before it could be chosen: js). */
  generator?: GeneratorKind;
  /** Why the native generator did not run, when it was passed over. */
  generatorNotice?: string;
  serverOptions: { throughput: Record<string, unknown>; slowReader: Record<string, unknown> };
  scenarios: ScenarioResults;
  /** With `--sweep`: broadcast and idle figures at each room size (not the naive relay). */
  sweep?: SweepPoint[];
  warnings: string[];
  /** Scenario runs that failed with an error, with the message. */
  errors: string[];
  /** With `--tls`: the certificate the TLS handshakes used. */
  tlsCertificate?: string;
  /** With `--pin`: the CPUs the servers and the load generator ran on. */
  pinning?: CpuPinning;
  /** Every target and whether this run met it (filled in when the report is written). */
  targets?: TargetCheck[];
}

/** Where the built scripts are (tests of the source point these at dist). */
export interface SuiteScripts {
  workerUrl?: URL;
  serverChildUrl?: URL;
}

const LABELS: Record<ServerKind, string> = {
  tcpchat: "tcpchat",
  naive: "naive relay",
  coalescing: "coalescing relay",
};

/** The report's label of tcpchat measured with WebSocket or TLS clients. */
export const TRANSPORT_LABELS: Record<LoadTransport, string> = {
  tcp: "tcpchat",
  json: "tcpchat json",
  ws: "tcpchat ws",
  tls: "tcpchat tls",
};

interface ServerEntry {
  label: string;
  transport: LoadTransport;
  start(options: Record<string, unknown>): Promise<ServerUnderTest & { close(): Promise<void> }>;
}

function serverEntries(
  options: BenchOptions,
  scripts: SuiteScripts,
  certificate: RunCertificate | undefined,
): ServerEntry[] {
  const target = options.target;
  if (target) {
    return [
      {
        label: "target",
        transport: LOAD_TRANSPORTS.tcp,
        start: async () => ({
          label: "target",
          host: target.host,
          port: target.port,
          handle: undefined,
          greeting: options.greeting,
          close: async () => {},
        }),
      },
    ];
  }
  const kinds: ServerKind[] = options.baseline
    ? [SERVER_KINDS.tcpchat, SERVER_KINDS.naive, SERVER_KINDS.coalescing]
    : [SERVER_KINDS.tcpchat];
  const entries: ServerEntry[] = kinds.map((kind) => ({
    label: LABELS[kind],
    transport: LOAD_TRANSPORTS.tcp,
    async start(serverOptions) {
      const handle = await startServerChild({
        kind,
        // --server-option applies to tcpchat only (the relays have no options).
        options:
          kind === SERVER_KINDS.tcpchat
            ? { ...serverOptions, ...options.serverOptions }
            : serverOptions,
        cpuProfDir: options.serverCpuProf,
        nodeFlags: options.serverNodeFlags,
        scriptUrl: scripts.serverChildUrl,
      });
      return {
        label: LABELS[kind],
        host: handle.host,
        port: handle.port,
        handle,
        greeting: TCPCHAT_GREETING,
        close: () => handle.close(),
      };
    },
  }));
  // The same tcpchat, started with what each transport needs, measured with its clients.
  for (const transport of options.transports) {
    if (transport === LOAD_TRANSPORTS.tcp) continue;
    const label = TRANSPORT_LABELS[transport];
    const extra =
      transport === LOAD_TRANSPORTS.ws
        ? { webSocket: true }
        : transport === LOAD_TRANSPORTS.tls
          ? { tls: { cert: certificate?.cert, key: certificate?.key } }
          : {};
    entries.push({
      label,
      transport,
      async start(serverOptions) {
        const handle = await startServerChild({
          kind: SERVER_KINDS.tcpchat,
          options: { ...serverOptions, ...extra },
          cpuProfDir: options.serverCpuProf,
          nodeFlags: options.serverNodeFlags,
          scriptUrl: scripts.serverChildUrl,
        });
        return {
          label,
          host: handle.host,
          port: handle.port,
          handle,
          greeting: TCPCHAT_GREETING,
          transport,
          tlsCa: transport === LOAD_TRANSPORTS.tls ? certificate?.cert : undefined,
          close: () => handle.close(),
        };
      },
    });
  }
  return entries;
}

/** Runs the selected scenarios against each server, scenario by scenario, and collects figures. */
export async function runSuite(
  options: BenchOptions,
  scripts: SuiteScripts = {},
  progress = new Progress(),
): Promise<BenchResults> {
  const started = performance.now();
  const results: BenchResults = {
    tool: "tcpchat-bench",
    startedAt: new Date().toISOString(),
    durationMs: 0,
    machine: machineInfo(),
    loadAverageAtEnd: [],
    options,
    servers: [],
    loadGeneratorWorkers: 0,
    serverOptions: {
      throughput: { ...THROUGHPUT_SERVER_OPTIONS },
      slowReader: { ...SLOW_READER_SERVER_OPTIONS },
    },
    scenarios: {},
    warnings: [],
    errors: [],
  };
  const restoreAffinity = options.pin ? pinRun(results, progress) : undefined;
  const choice = chooseGenerator(options);
  if (choice.notice) progress.note(choice.notice);
  const pool = startGenerator(choice.kind, options.workers, scripts.workerUrl);
  results.loadGeneratorWorkers = pool.size;
  results.generator = choice.kind;
  results.generatorNotice = choice.notice;
  const ctx: ScenarioContext = {
    options,
    pool,
    progress,
    warn(text) {
      results.warnings.push(text);
      progress.note(`  warning: ${text}`);
    },
  };
  const certificate = options.transports.includes(LOAD_TRANSPORTS.tls)
    ? await makeRunCertificate()
    : undefined;
  results.tlsCertificate = certificate?.description;
  const servers = serverEntries(options, scripts, certificate);
  results.servers = servers.map((s) => s.label);
  const selected = new Set<ScenarioName>(options.scenarios);
  const store = <
    K extends Exclude<keyof ScenarioResults, "abuse" | "cluster" | "broadcast-history">,
  >(
    name: K,
    label: string,
    value: NonNullable<ScenarioResults[K]>[string],
  ) => {
    const byServer = (results.scenarios[name] ?? {}) as Record<string, typeof value>;
    byServer[label] = value;
    results.scenarios[name] = byServer as ScenarioResults[K];
  };

  async function each(
    name: string,
    serverOptions: Record<string, unknown>,
    body: (s: ServerUnderTest) => Promise<void>,
    only: (label: string) => boolean = () => true,
  ) {
    const scenario = name.split("/")[0] as ScenarioName;
    for (const entry of servers.filter((s) => only(s.label))) {
      if (entry.transport !== LOAD_TRANSPORTS.tcp && !TRANSPORT_SCENARIOS.includes(scenario)) {
        continue;
      }
      let server: (ServerUnderTest & { close(): Promise<void> }) | undefined;
      try {
        server = await entry.start(serverOptions);
        await body(server);
      } catch (err) {
        const message = `${entry.label} ${name}: ${err instanceof Error ? err.message : String(err)}`;
        results.errors.push(message);
        progress.note(`  error: ${message}`);
        await pool.all(() => ({ op: "close-all" })).catch(() => undefined);
      } finally {
        await server?.close();
      }
    }
  }

  try {
    if (selected.has("connect") || selected.has("idle")) {
      await each("connect/idle", {}, async (server) => {
        const figures = await runConnectIdle(ctx, server, {
          connect: selected.has("connect"),
          idle: selected.has("idle"),
        });
        if (figures.connect) store("connect", server.label, figures.connect);
        if (figures.idle) store("idle", server.label, figures.idle);
      });
    }
    if (selected.has("broadcast")) {
      await each("broadcast", THROUGHPUT_SERVER_OPTIONS, async (server) => {
        store("broadcast", server.label, await runBroadcastScenario(ctx, server));
      });
    }
    if (selected.has("broadcast-history") && !options.target) {
      try {
        results.scenarios["broadcast-history"] = await runBroadcastHistoryScenario(
          ctx,
          (history) => startHistoryServer(options, scripts, history),
          options.quick ? 1 : 2,
        );
      } catch (err) {
        const message = `tcpchat broadcast-history: ${err instanceof Error ? err.message : String(err)}`;
        results.errors.push(message);
        progress.note(`  error: ${message}`);
        await pool.all(() => ({ op: "close-all" })).catch(() => undefined);
      }
    }
    if (selected.has("echo")) {
      await each("echo", THROUGHPUT_SERVER_OPTIONS, async (server) => {
        store("echo", server.label, await runEchoScenario(ctx, server));
      });
    }
    if (selected.has("slow-reader")) {
      await each("slow-reader", SLOW_READER_SERVER_OPTIONS, async (server) => {
        store("slow-reader", server.label, await runSlowReaderScenario(ctx, server));
      });
    }
    if (options.sweep) {
      results.sweep = [];
      for (const clients of options.sweep) {
        const point: SweepPoint = { clients, servers: {} };
        results.sweep.push(point);
        // The naive relay is left out: at thousands of receivers its one write per message per
        // receiver takes minutes to drain, and the coalescing relay is the baseline that matters.
        await each(
          `sweep ${clients}`,
          THROUGHPUT_SERVER_OPTIONS,
          async (server) => {
            point.servers[server.label] = await runSweepPoint(ctx, server, clients);
          },
          (label) => label !== LABELS.naive,
        );
      }
    }
    if (options.nodes !== undefined) {
      try {
        results.scenarios.cluster = await runClusterScenario(ctx, {
          serverOptions: { ...THROUGHPUT_SERVER_OPTIONS, ...options.serverOptions },
          serverChildUrl: scripts.serverChildUrl,
          nodeFlags: options.serverNodeFlags,
          startSingle: async () => {
            const handle = await startServerChild({
              kind: SERVER_KINDS.tcpchat,
              options: { ...THROUGHPUT_SERVER_OPTIONS, ...options.serverOptions },
              nodeFlags: options.serverNodeFlags,
              scriptUrl: scripts.serverChildUrl,
            });
            return {
              label: "single node",
              host: handle.host,
              port: handle.port,
              handle,
              greeting: TCPCHAT_GREETING,
              close: () => handle.close(),
            };
          },
        });
      } catch (err) {
        const message = `cluster: ${err instanceof Error ? err.message : String(err)}`;
        results.errors.push(message);
        progress.note(`  error: ${message}`);
        await pool.all(() => ({ op: "close-all" })).catch(() => undefined);
      }
    }
    // Attacks are about tcpchat's defences: the naive relay has none to measure.
    if (selected.has("abuse") && !options.target) {
      progress.note("abuse: each attack against a fresh tcpchat server with default limits");
      results.scenarios.abuse = await runAbuseScenario(ctx, {
        attacks: options.attacks,
        attackerKinds: options.attackerKinds,
        scale: abuseScale(options.quick),
        serverChildUrl: scripts.serverChildUrl,
        nodeFlags: options.serverNodeFlags,
      });
    }
  } finally {
    await pool.close();
    restoreAffinity?.();
  }
  results.durationMs = performance.now() - started;
  results.loadAverageAtEnd = loadavg();
  return results;
}

/**
 * `--pin`: this process (and so the load generator's threads and processes, started after) on
 * the generator's CPUs, server children on the server's. Returns what puts this process back
 * where it could run before (a test runner's process outlives the run).
 */
function pinRun(results: BenchResults, progress: Progress): (() => void) | undefined {
  const plan = planPinning();
  const before = affinityOf(process.pid);
  const why =
    plan === undefined ? "one CPU has nothing to split" : pinProcess(process.pid, plan.generator);
  if (plan === undefined || why !== undefined || before === undefined) {
    const text = `--pin: not pinned (${why ?? "no CPU affinity here"})`;
    results.warnings.push(text);
    progress.note(`  warning: ${text}`);
    return undefined;
  }
  results.pinning = plan;
  pinServerChildren(plan.server);
  return () => {
    pinServerChildren(undefined);
    pinProcess(process.pid, before);
  };
}

/**
 * tcpchat for the broadcast-history scenario: the throughput options and --server-option, with
 * history kept in SQLite in a temporary data directory (removed when the server closes) or none.
 */
async function startHistoryServer(
  options: BenchOptions,
  scripts: SuiteScripts,
  history: boolean,
): Promise<ServerUnderTest & { close(): Promise<void> }> {
  const dataDir = history ? mkdtempSync(join(tmpdir(), "tcpchat-bench-history-")) : undefined;
  const handle = await startServerChild({
    kind: SERVER_KINDS.tcpchat,
    options: { ...THROUGHPUT_SERVER_OPTIONS, ...options.serverOptions },
    ...(dataDir === undefined ? {} : { dataDir }),
    cpuProfDir: options.serverCpuProf,
    nodeFlags: options.serverNodeFlags,
    scriptUrl: scripts.serverChildUrl,
  }).catch((err: unknown) => {
    if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
    throw err;
  });
  return {
    label: `tcpchat history ${history ? "on" : "off"}`,
    host: handle.host,
    port: handle.port,
    handle,
    greeting: TCPCHAT_GREETING,
    async close() {
      await handle.close();
      if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
