import { SERVER_NODE_FLAGS } from "@tcpchat/core";
import { ATTACKER_KIND_LIST, type AttackerKind } from "./abuse/attacker.js";
import { ATTACKS, type AttackName } from "./abuse/scale.js";
import { GENERATOR_KINDS, type GeneratorKind } from "./load/generator.js";
import { LOAD_TRANSPORT_LIST, LOAD_TRANSPORTS, type LoadTransport } from "./load/transport-kind.js";
import { MIN_MESSAGE_BYTES } from "./message.js";

/** The scenarios, in the order they run. */
export const SCENARIOS = [
  "connect",
  "idle",
  "broadcast",
  "broadcast-history",
  "echo",
  "slow-reader",
  "abuse",
] as const;
/** One scenario name. */
export type ScenarioName = (typeof SCENARIOS)[number];
/** What runs without `--scenario`: all but abuse, which is asked for by name (`pnpm bench:abuse`). */
export const DEFAULT_SCENARIOS: readonly ScenarioName[] = SCENARIOS.filter((s) => s !== "abuse");
/** Scenarios that need no server-side measurement, so they can run against `--target`. */
export const LINE_SCENARIOS: readonly ScenarioName[] = ["connect", "broadcast", "echo"];
/**
 * Clients connecting at once by default: half the listen backlog of tcpchat and the relays
 * (4096, also this machine's somaxconn), so the accept queue never overflows. With every
 * client at once, 10,000 SYNs meet a queue of 4096: the kernel drops the rest, and the last
 * clients are greeted only after their SYN's second retransmit (3 s later), whatever the server.
 */
export const DEFAULT_CONNECT_WINDOW = 2048;

/** Scenarios that run over every transport asked for; the rest run over TCP only. */
export const TRANSPORT_SCENARIOS: readonly ScenarioName[] = [
  "connect",
  "idle",
  "broadcast",
  "echo",
];

/** Everything a bench run is configured with. */
export interface BenchOptions {
  /** Concurrent clients per scenario. */
  clients: number;
  scenarios: ScenarioName[];
  /** The abuse scenario's attacks (default: all). */
  attacks: AttackName[];
  /**
   * The kinds of attacker that attacks run once per kind (the cost attacks) run with (default:
   * every kind the server speaks).
   */
  attackerKinds: AttackerKind[];
  /**
   * How tcpchat's clients connect, in the order measured. TCP always comes first: it is the
   * figure the WebSocket and TLS targets are judged against, in the same run.
   */
  transports: LoadTransport[];
  /** Broadcast senders. */
  senders: number;
  /** Message text size in bytes, without the line ending. */
  size: number;
  /** Length of each measured run (closed loop, open loop, echo, slow reader), ms. */
  durationMs: number;
  /** Closed loop: messages each sender keeps in flight. */
  window: number;
  /**
   * Most clients connecting at once (connected, not yet greeted), over all generator workers;
   * 0: all at once. See {@link DEFAULT_CONNECT_WINDOW}.
   */
  connectWindow: number;
  /** Open loop rate as a fraction of the closed loop's measured maximum. */
  openLoopFraction: number;
  /** Load-generator worker threads (js) or processes (native). */
  workers: number | undefined;
  /**
   * `--generator`: which load generator drives the clients; undefined: native when it is built
   * and speaks every transport asked for, else js (the run says why).
   */
  generator: GeneratorKind | undefined;
  json: string | undefined;
  markdown: boolean;
  /** `host:port` of another line-based server to measure instead of starting servers. */
  target: { host: string; port: number } | undefined;
  /** First-line prefix that means "greeted"; with `--target`, unset means "ready on connect". */
  greeting: string | undefined;
  baseline: boolean;
  /** Whether the server sends a sender its own room messages (`--no-self-echo` for ncat --chat). */
  selfEcho: boolean;
  quick: boolean;
  serverCpuProf: string | undefined;
  /** Extra Node/V8 flags for both server children (same flags for both, so ratios stay fair). */
  serverNodeFlags: string[];
  /** ChatServerOptions for tcpchat given with `--server-option`, over the bench's own. */
  serverOptions: Record<string, number | boolean | string | Record<string, unknown>>;
  /** `--sweep clients=...`: room sizes to run the broadcast and idle scenarios at, in order. */
  sweep: number[] | undefined;
  /**
   * `--nodes N`: the cluster run: N tcpchat nodes joined by a redis-server the bench starts,
   * clients spread across them in one room, beside a single node. Undefined: no cluster run.
   */
  nodes: number | undefined;
  /**
   * `--pin`: the server under test on CPUs of its own, the load generator on the others (see
   * pinning.ts), so that neither preempts the other.
   */
  pin: boolean;
  help: boolean;
}

/** The usage text of `pnpm bench --help`. */
export const USAGE = `Usage: pnpm bench [options]

Measures tcpchat against a naive relay started in the same run, side by side.

Options:
  --clients N           concurrent clients (default 500)
  --scenario LIST       comma-separated: ${SCENARIOS.join(", ")}
                        (default: all but abuse)
  --attack LIST         abuse: comma-separated: ${ATTACKS.join(", ")} (default: all)
  --attacker LIST       abuse: the kinds of attacker that search-flood, history-flood,
                        register-flood and login-flood run with, one run each:
                        ${ATTACKER_KIND_LIST.join(", ")} (default: all)
  --transport LIST      comma-separated: ${LOAD_TRANSPORT_LIST.join(", ")} (default tcp); json, ws
                        and tls measure tcpchat again with JSON-line, WebSocket or TLS
                        clients, beside TCP text clients (scenarios
                        ${TRANSPORT_SCENARIOS.join(", ")})
  --tls                 the same as adding tls to --transport
  --senders N           broadcast senders (default 10)
  --size BYTES          message size in bytes (default 64, at least ${MIN_MESSAGE_BYTES})
  --duration SECONDS    length of each measured run (default 4)
  --window N            closed loop: messages in flight per sender (default 32)
  --connect-window N    most clients connecting at once, not yet greeted (default
                        ${DEFAULT_CONNECT_WINDOW}; 0: all at once, a SYN flood that a full listen
                        queue turns into the kernel's SYN retransmit schedule)
  --open-rate FRACTION  open-loop rate as a share of the closed-loop maximum (default 0.5)
  --workers N           load-generator threads or processes (default: one per core)
  --generator KIND      native (the C load generator built with the bench; tcp, json, ws)
                        or js (worker threads; every transport). Default: native when it
                        is built and speaks the transports asked for, else js
  --json FILE           write every raw figure and the machine info to FILE
  --markdown            print the results as a Markdown table
  --target HOST:PORT    measure another line-based chat server (connect, broadcast, echo)
  --protocol text       the protocol of --target (only "text")
  --greeting PREFIX     with --target: a client is ready when its first line starts with PREFIX
                        (without it: once a probe line has reached it through the room)
  --no-self-echo        with --target: the server does not send senders their own lines
                        (ncat --chat); the echo scenario then cannot run
  --pin                 run each server on CPUs of its own (the first half) and the load
                        generator on the rest (taskset), so that neither preempts the
                        other; the report says which
  --no-baseline         skip the naive relay
  --server-cpu-prof DIR write a V8 CPU profile of each server child into DIR
  --server-node-flags "FLAGS"
                        extra Node/V8 flags for both server children, after the ones
                        tcpchat serve runs with (--max-semi-space-size=4); a later
                        --max-semi-space-size=16 restores V8's default
  --server-option KEY=VALUE
                        a ChatServerOptions field for tcpchat (repeatable), e.g.
                        flushAtOnceWrites=0 to compare a setting within one run;
                        a nested one as JSON: history='{"writeThread":false}'
  --sweep clients=LIST  after the scenarios, broadcast and idle memory at each room size
                        (e.g. clients=100,500,1000,5000), tcpchat beside the coalescing relay
  --nodes N             the cluster run (N >= 2): a redis-server on loopback, N tcpchat
                        nodes joined by it, the clients spread across them in one room,
                        beside a single node; cross-node latency at half the single
                        node's closed-loop rate. Alone unless --scenario is given too.
                        Needs redis-server on PATH
  --quick               tiny, fast run (CI smoke test); figures that need a full run
                        are named, not shown
  --help                this text
`;

/** A command-line mistake, reported with the usage text. */
export class UsageError extends Error {}

function splitPair(name: string, raw: string | undefined): [string, string] {
  const eq = raw?.indexOf("=") ?? -1;
  if (raw === undefined || eq < 1 || eq === raw.length - 1) {
    throw new UsageError(`${name} needs KEY=VALUE, got ${raw ?? "nothing"}`);
  }
  return [raw.slice(0, eq), raw.slice(eq + 1)];
}

function parseOptionValue(raw: string): number | boolean | string | Record<string, unknown> {
  if (raw === "true" || raw === "false") return raw === "true";
  // A nested option as JSON: history={"writeThread":false}.
  if (raw.startsWith("{")) {
    try {
      return JSON.parse(raw) as Record<string, unknown>;
    } catch {
      throw new UsageError(`--server-option: ${raw} is not valid JSON`);
    }
  }
  const n = Number(raw);
  return Number.isFinite(n) ? n : raw;
}

function nonNegativeInt(name: string, raw: string | undefined): number {
  const value = Number(raw);
  if (raw === undefined || !Number.isInteger(value) || value < 0) {
    throw new UsageError(`${name} needs a whole number of 0 or more, got ${raw ?? "nothing"}`);
  }
  return value;
}

function positiveInt(name: string, raw: string | undefined): number {
  const value = Number(raw);
  if (raw === undefined || !Number.isInteger(value) || value < 1) {
    throw new UsageError(`${name} needs a positive whole number, got ${raw ?? "nothing"}`);
  }
  return value;
}

function positiveNumber(name: string, raw: string | undefined): number {
  const value = Number(raw);
  if (raw === undefined || !Number.isFinite(value) || value <= 0) {
    throw new UsageError(`${name} needs a positive number, got ${raw ?? "nothing"}`);
  }
  return value;
}

function parseTarget(raw: string | undefined): { host: string; port: number } {
  const match = raw?.match(/^\[?([^\]]+?)\]?:(\d+)$/);
  const port = Number(match?.[2]);
  if (!match || port < 1 || port > 65535) {
    throw new UsageError(`--target needs HOST:PORT, got ${raw ?? "nothing"}`);
  }
  return { host: match[1]!, port };
}

/**
 * A comma-separated list of names from `known`, in `known`'s order; an empty list or an unknown
 * name is a usage error naming the option (`--attack needs a list of attacks`).
 */
function parseChoices<T extends string>(
  raw: string | undefined,
  known: readonly T[],
  words: { option: string; items: string; item: string },
): T[] {
  const names = (raw ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  if (names.length === 0) throw new UsageError(`${words.option} needs a list of ${words.items}`);
  for (const name of names) {
    if (!(known as readonly string[]).includes(name)) {
      throw new UsageError(`unknown ${words.item} "${name}"; choose from ${known.join(", ")}`);
    }
  }
  return known.filter((k) => names.includes(k));
}

const parseScenarios = (raw: string | undefined): ScenarioName[] =>
  parseChoices(raw, SCENARIOS, { option: "--scenario", items: "scenarios", item: "scenario" });

const parseTransports = (raw: string | undefined): LoadTransport[] =>
  parseChoices(raw, LOAD_TRANSPORT_LIST, {
    option: "--transport",
    items: "transports",
    item: "transport",
  });

const parseAttackerKinds = (raw: string | undefined): AttackerKind[] =>
  parseChoices(raw, ATTACKER_KIND_LIST, {
    option: "--attacker",
    items: "kinds",
    item: "kind of attacker",
  });

const parseAttacks = (raw: string | undefined): AttackName[] =>
  parseChoices(raw, ATTACKS, { option: "--attack", items: "attacks", item: "attack" });

/** Parses the bench's argv (a leading `--`, which pnpm passes through, is dropped). */
export function parseArgs(argv: readonly string[]): BenchOptions {
  const args = argv[0] === "--" ? argv.slice(1) : [...argv];
  const quick = args.includes("--quick");
  const options: BenchOptions = {
    clients: quick ? 20 : 500,
    scenarios: [...DEFAULT_SCENARIOS],
    attacks: [...ATTACKS],
    attackerKinds: [...ATTACKER_KIND_LIST],
    transports: [LOAD_TRANSPORTS.tcp],
    senders: quick ? 4 : 10,
    size: 64,
    durationMs: quick ? 300 : 4000,
    window: 32,
    connectWindow: DEFAULT_CONNECT_WINDOW,
    openLoopFraction: 0.5,
    workers: undefined,
    generator: undefined,
    json: undefined,
    markdown: false,
    target: undefined,
    greeting: undefined,
    baseline: true,
    selfEcho: true,
    quick,
    serverCpuProf: undefined,
    serverNodeFlags: [...SERVER_NODE_FLAGS],
    serverOptions: {},
    sweep: undefined,
    nodes: undefined,
    pin: false,
    help: false,
  };
  let scenariosGiven = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const eq = arg.indexOf("=");
    const name = arg.startsWith("--") && eq > 0 ? arg.slice(0, eq) : arg;
    const value = (): string | undefined =>
      eq > 0 && arg.startsWith("--") ? arg.slice(eq + 1) : args[++i];
    switch (name) {
      case "--clients":
        options.clients = positiveInt(name, value());
        break;
      case "--scenario":
      case "--scenarios":
        options.scenarios = parseScenarios(value());
        scenariosGiven = true;
        break;
      case "--attack":
      case "--attacks":
        options.attacks = parseAttacks(value());
        break;
      case "--attacker":
      case "--attackers":
        options.attackerKinds = parseAttackerKinds(value());
        break;
      case "--transport":
      case "--transports":
        options.transports = parseTransports(value());
        break;
      case "--tls":
        options.transports = [...new Set([...options.transports, LOAD_TRANSPORTS.tls])];
        break;
      case "--connect-window":
        options.connectWindow = nonNegativeInt(name, value());
        break;
      case "--senders":
        options.senders = positiveInt(name, value());
        break;
      case "--size":
        options.size = positiveInt(name, value());
        if (options.size < MIN_MESSAGE_BYTES) {
          throw new UsageError(`--size must be at least ${MIN_MESSAGE_BYTES} bytes`);
        }
        break;
      case "--duration":
        options.durationMs = Math.round(positiveNumber(name, value()) * 1000);
        break;
      case "--window":
        options.window = positiveInt(name, value());
        break;
      case "--open-rate":
        options.openLoopFraction = positiveNumber(name, value());
        break;
      case "--workers":
        options.workers = positiveInt(name, value());
        break;
      case "--generator": {
        const kind = value();
        if (kind !== GENERATOR_KINDS.js && kind !== GENERATOR_KINDS.native) {
          throw new UsageError(`--generator takes native or js, not ${kind ?? "nothing"}`);
        }
        options.generator = kind;
        break;
      }
      case "--json":
        options.json = value();
        if (!options.json) throw new UsageError("--json needs a file name");
        break;
      case "--markdown":
        options.markdown = true;
        break;
      case "--target":
        options.target = parseTarget(value());
        break;
      case "--protocol": {
        const protocol = value();
        if (protocol !== "text")
          throw new UsageError(`--protocol supports only "text", got ${protocol}`);
        break;
      }
      case "--greeting":
        options.greeting = value();
        break;
      case "--no-self-echo":
        options.selfEcho = false;
        break;
      case "--pin":
        options.pin = true;
        break;
      case "--no-baseline":
        options.baseline = false;
        break;
      case "--server-cpu-prof":
        options.serverCpuProf = value();
        if (!options.serverCpuProf) throw new UsageError("--server-cpu-prof needs a directory");
        break;
      case "--server-node-flags": {
        const flags = value();
        if (!flags)
          throw new UsageError("--server-node-flags needs flags, e.g. --max-semi-space-size=1");
        options.serverNodeFlags.push(...flags.split(/\s+/).filter(Boolean));
        break;
      }
      case "--server-option": {
        const [key, raw] = splitPair(name, value());
        options.serverOptions[key] = parseOptionValue(raw);
        break;
      }
      case "--sweep": {
        const [key, raw] = splitPair(name, value());
        if (key !== "clients")
          throw new UsageError(`--sweep supports only clients=..., got ${key}`);
        options.sweep = raw.split(",").map((n) => positiveInt("--sweep clients", n.trim()));
        break;
      }
      case "--nodes":
        options.nodes = positiveInt(name, value());
        if (options.nodes < 2) {
          throw new UsageError(
            "--nodes needs 2 or more (the single node is measured beside them in every cluster run)",
          );
        }
        break;
      case "--quick":
        break;
      case "--help":
      case "-h":
        options.help = true;
        break;
      default:
        throw new UsageError(`unknown option ${arg}`);
    }
  }
  // TCP is the reference the other transports are judged against, in the same run.
  options.transports = LOAD_TRANSPORT_LIST.filter(
    (t) => t === LOAD_TRANSPORTS.tcp || options.transports.includes(t),
  );
  if (options.nodes !== undefined) {
    if (options.target) throw new UsageError("--nodes starts its own servers; not with --target");
    if (options.pin) {
      throw new UsageError(
        "--pin gives one server cores of its own; with --nodes the nodes and Redis share them",
      );
    }
    // The cluster run stands alone unless other scenarios are asked for by name.
    if (!scenariosGiven) options.scenarios = [];
  }
  if (options.target) {
    if (options.transports.length > 1) {
      throw new UsageError("--transport json, ws and --tls measure tcpchat; not with --target");
    }
    const asked = options.scenarios.filter((s) => !LINE_SCENARIOS.includes(s));
    if (scenariosGiven && asked.length > 0) {
      throw new UsageError(
        `--target measures only ${LINE_SCENARIOS.join(", ")}; not ${asked.join(", ")}`,
      );
    }
    options.scenarios = options.scenarios.filter((s) => LINE_SCENARIOS.includes(s));
    options.baseline = false;
  }
  if (!options.selfEcho) {
    if (!options.target) throw new UsageError("--no-self-echo applies only with --target");
    // Pairs join their rooms by seeing their own line come back: impossible without self-echo.
    if (scenariosGiven && options.scenarios.includes("echo")) {
      throw new UsageError("the echo scenario needs a server that sends senders their own lines");
    }
    options.scenarios = options.scenarios.filter((s) => s !== "echo");
  }
  options.senders = Math.min(options.senders, options.clients);
  return options;
}
