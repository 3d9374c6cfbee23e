import { type AttackerConnection, type AttackerKind, openConnection } from "./attacker.js";
import { type AttackerSigns, type AttackHandling, summarizeHandling } from "./handling.js";
import { AttackSampler } from "./sampler.js";

/** Where the attack goes, and what its attacking connections speak. */
export interface AttackTarget {
  host: string;
  port: number;
  /** What the attackers speak (default text); helpers and the canary always speak text. */
  kind?: AttackerKind;
  /** With TLS attackers: the PEM certificate they trust (the run's own). */
  tlsCa?: string;
  /** The attackers' local address (helpers and the canary use the system's choice). */
  localAddress?: string;
}

/** What an attack did and how the server answered it (what `--json` keeps). */
export interface AttackOutcome {
  /** Attacking connections (helpers such as idle room members not counted). */
  connections: number;
  /** Connections that could not even connect. */
  connectFailures: number;
  bytesSent: number;
  /** How long the attack ran, ms. */
  durationMs: number;
  /** What the attackers heard, summed. */
  heard: {
    lines: number;
    errorLines: number;
    throttleLines: number;
    summaryLines: number;
    /** Replies the summary lines say were left out. */
    summarized: number;
    codes: Record<string, number>;
  };
  handling: AttackHandling;
  signs: AttackerSigns[];
  /** Kernel TCP memory, machine-wide, bytes (undefined off Linux). */
  kernelTcpMem: { before: number | undefined; peak: number | undefined };
  /** Peak bytes the kernel held for the attackers' connections (server send + client receive). */
  attackerKernelHeldPeak: number | undefined;
  /** Whether the socket table could be read (closes and pauses of non-reading attackers). */
  socketTable: boolean;
  /** slow-drip: whether a new chatter could connect and chat during the attack, and when. */
  newChatter?: NewChatterResult;
  /** register-flood and login-flood: what the attackers' password requests got, and a real user's login. */
  passwords?: PasswordOutcome;
}

/** The password attacks' figures: requests answered by kind, and a real user's logins meanwhile. */
export interface PasswordOutcome {
  /** Requests sent, and answers heard: done (registered, logged in), refused by code. */
  requests: number;
  done: number;
  refused: Record<string, number>;
  /**
   * A registered user on another address logging in again and again during the attack: how
   * long each login took (from /login to "logged in"), ms, and the attempts that never got in.
   */
  userLoginsMs: number[];
  userLoginFailures: number;
}

/** slow-drip's check: can a real user still get in? */
export interface NewChatterResult {
  connected: boolean;
  /** From the attack's start until the new chatter's own message came back, ms. */
  afterMs: number | undefined;
  attempts: number;
  /** First lines of refused attempts, by code. */
  refusals: Record<string, number>;
}

/**
 * What a connection that did not read may still read after the attack, at most. Long enough to
 * outlast a server's close linger (tcpchat gives a closing peer 2 s), so that a cut-off decided
 * late in the attack is seen, and its last line read.
 */
const LEFTOVER_MS = 2500;
const LEFTOVER_BYTES = 64 * 1024 * 1024;

/**
 * The connections of one attack: the attackers, their helpers (idle members, loud talkers) and
 * the canary, a quiet client in a room of its own that talks every 100 ms so that the sampler
 * can tell "the server stopped reading the attacker" from "the server stopped altogether".
 */
export class AttackGroup {
  readonly attackers: AttackerConnection[] = [];
  readonly helpers: AttackerConnection[] = [];
  connectFailures = 0;
  startMs = 0;
  #canary: AttackerConnection | undefined;
  #canaryTimer: NodeJS.Timeout | undefined;
  #sampler: AttackSampler | undefined;

  constructor(readonly target: AttackTarget) {}

  /** Opens the canary (before the baseline, so both phases carry it). */
  async openCanary(): Promise<void> {
    const canary = await this.helper("/join #canary\n/part #lobby\n");
    this.#canary = canary;
    let n = 0;
    this.#canaryTimer = setInterval(() => canary.send(`canary ${++n}\n`), 100);
  }

  /** Opens a reading helper connection and sends it `lines` once connected. */
  async helper(lines = ""): Promise<AttackerConnection> {
    const { host, port } = this.target;
    const helper = await openConnection({ host, port, reads: true, startMs: 0 });
    this.helpers.push(helper);
    if (lines) helper.send(lines);
    return helper;
  }

  /** The attack begins now: signs count from here, and the sampler starts. */
  begin(): void {
    this.startMs = performance.now();
    this.#sampler = new AttackSampler(
      this.target.port,
      () => this.attackers,
      this.#canary,
      this.startMs,
    );
    this.#sampler.start();
  }

  /** Opens `count` attacking connections at once; failures are counted, not thrown. */
  async open(count: number, reads: boolean): Promise<AttackerConnection[]> {
    const settled = await Promise.allSettled(
      Array.from({ length: count }, () =>
        openConnection({ ...this.target, reads, startMs: this.startMs }),
      ),
    );
    const opened: AttackerConnection[] = [];
    for (const result of settled) {
      if (result.status === "fulfilled") opened.push(result.value);
      else this.connectFailures++;
    }
    this.attackers.push(...opened);
    return opened;
  }

  /** Ends the attack: last sample, leftovers read, figures summed. */
  async end(extra: Partial<AttackOutcome> = {}): Promise<AttackOutcome> {
    const durationMs = performance.now() - this.startMs;
    const sampler = this.#sampler;
    // The sampler keeps watching while the leftovers are read: a close may come meanwhile.
    await Promise.all(this.attackers.map((a) => a.readLeftovers(LEFTOVER_MS, LEFTOVER_BYTES)));
    sampler?.stop();
    const heard: AttackOutcome["heard"] = {
      lines: 0,
      errorLines: 0,
      throttleLines: 0,
      summaryLines: 0,
      summarized: 0,
      codes: {},
    };
    for (const attacker of this.attackers) {
      const h = attacker.watch.heard;
      heard.lines += h.lines;
      heard.errorLines += h.errorLines;
      heard.summaryLines += h.summaryLines;
      heard.summarized += h.summarized;
      heard.throttleLines += h.throttleLines;
      for (const [code, n] of Object.entries(h.codes))
        heard.codes[code] = (heard.codes[code] ?? 0) + n;
      if (h.firstThrottleMs !== undefined) attacker.signs.throttledAtMs ??= h.firstThrottleMs;
    }
    const signs = this.attackers.map((a) => ({ ...a.signs }));
    return {
      connections: this.attackers.length + this.connectFailures,
      connectFailures: this.connectFailures,
      bytesSent: this.attackers.reduce((n, a) => n + a.appBytes, 0),
      durationMs,
      heard,
      handling: summarizeHandling(signs),
      signs,
      kernelTcpMem: { before: sampler?.kernelTcpMemBefore, peak: sampler?.kernelTcpMemPeak },
      attackerKernelHeldPeak: sampler?.available ? sampler.heldPeak : undefined,
      socketTable: sampler?.available ?? false,
      ...extra,
    };
  }

  /** Closes every connection of the attack. */
  close(): void {
    if (this.#canaryTimer) clearInterval(this.#canaryTimer);
    this.#sampler?.stop();
    for (const c of [...this.attackers, ...this.helpers]) c.destroy();
  }
}

/**
 * Resolves with the first line `connection` hears from now on that `match` accepts, or with
 * undefined after `timeoutMs` or when the connection closes.
 */
export function waitForLine(
  connection: AttackerConnection,
  match: (line: string) => boolean,
  timeoutMs: number,
): Promise<string | undefined> {
  return new Promise((resolve) => {
    const finish = (line: string | undefined) => {
      clearTimeout(timer);
      connection.watch.onLine = undefined;
      connection.socket.off("close", onClose);
      resolve(line);
    };
    const onClose = () => finish(undefined);
    const timer = setTimeout(() => finish(undefined), timeoutMs);
    connection.socket.once("close", onClose);
    connection.watch.onLine = (line) => {
      if (match(line)) finish(line);
    };
  });
}
