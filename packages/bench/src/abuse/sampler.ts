import { readKernelTcpMemBytes } from "../kernel-counters.js";
import type { AttackerConnection } from "./attacker.js";
import { connectionsTo, readSocketTable, TCP_STATES, type TcpSocketRow } from "./socket-table.js";

/** How long a connection's bytes must sit untaken, while others are served, to count as paused. */
export const PAUSE_WINDOW_MS = 500;
/**
 * Times the canary must have been read during that window. A server busy for a long turn reads
 * the canary once, perhaps before a connection whose bytes came in during the turn; by the
 * canary's third read, every connection readable since the stall began had a turn to be read in.
 */
export const PAUSE_CANARY_READS = 3;
/** Progress smaller than this is sampling skew between the socket table and Node's counters. */
const PROGRESS_TOLERANCE_BYTES = 4096;
/** How often the socket table is read during an attack. */
const SAMPLE_EVERY_MS = 50;

/** Bytes of one connection the server has taken (read from its socket), and bytes still waiting. */
export function consumption(
  appBytes: number,
  writableLength: number,
  client: TcpSocketRow | undefined,
  server: TcpSocketRow | undefined,
): { consumed: number; pending: number } {
  const pending = writableLength + (client?.txQueue ?? 0) + (server?.rxQueue ?? 0);
  return { consumed: appBytes - pending, pending };
}

/**
 * Watches the attack's connections from outside the server, in the kernel's socket table:
 * - the server closed a connection (the client's socket went to CLOSE_WAIT or vanished, or the
 *   server's left ESTABLISHED);
 * - the server stopped reading one (its bytes sat untaken for {@link PAUSE_WINDOW_MS} while the
 *   canary, a quiet client that talks every 100 ms, was read {@link PAUSE_CANARY_READS} times);
 * - the kernel memory held for TCP (machine-wide) and for the attackers' sockets.
 */
export class AttackSampler {
  kernelTcpMemBefore: number | undefined;
  kernelTcpMemPeak: number | undefined;
  /** Peak of the bytes queued in the kernel for the attackers: server send + client receive. */
  heldPeak = 0;
  /** Whether the socket table could be read (Linux). */
  available = true;
  readonly #stalls = new Map<
    AttackerConnection,
    { sinceMs: number; consumed: number; canaryReads: number }
  >();
  #canaryConsumed: number | undefined;
  /** Samples in which the canary's consumed bytes had grown: the server read it. */
  #canaryReads = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly serverPort: number,
    private readonly attackers: () => readonly AttackerConnection[],
    private readonly canary: AttackerConnection | undefined,
    private readonly startMs: number,
  ) {
    this.kernelTcpMemBefore = readKernelTcpMemBytes();
    this.kernelTcpMemPeak = this.kernelTcpMemBefore;
  }

  /** Samples every 50 ms until {@link stop}. */
  start(): void {
    this.#timer = setInterval(() => this.sample(), SAMPLE_EVERY_MS);
  }

  /** Takes a last sample and stops. */
  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    this.sample();
  }

  /** One look at the socket table. */
  sample(): void {
    const mem = readKernelTcpMemBytes();
    if (mem !== undefined) this.kernelTcpMemPeak = Math.max(this.kernelTcpMemPeak ?? 0, mem);
    const rows = readSocketTable();
    if (!rows) {
      this.available = false;
      return;
    }
    const nowMs = performance.now() - this.startMs;
    const table = connectionsTo(rows, this.serverPort);
    const canary = this.#consumed(this.canary, table);
    if (canary !== undefined) {
      if (this.#canaryConsumed !== undefined && canary > this.#canaryConsumed) this.#canaryReads++;
      this.#canaryConsumed = canary;
    }
    let held = 0;
    for (const attacker of this.attackers()) {
      const port = attacker.localPort;
      if (port === undefined || attacker.signs.closedAtMs !== undefined) continue;
      const client = table.client.get(port);
      const server = table.server.get(port);
      if (attacker.socket.destroyed) continue;
      // The server closed it: our end got its FIN or reset, or its end left ESTABLISHED (a FIN
      // stuck behind data we never read shows only there, as FIN_WAIT1).
      if (
        client === undefined ||
        client.state === TCP_STATES.closeWait ||
        client.state === TCP_STATES.close ||
        (server !== undefined && server.state !== TCP_STATES.established)
      ) {
        attacker.noteServerClose(nowMs);
        continue;
      }
      held += client.rxQueue + (server?.txQueue ?? 0);
      if (canary !== undefined) this.#checkPause(attacker, client, server, nowMs);
    }
    this.heldPeak = Math.max(this.heldPeak, held);
  }

  #consumed(
    connection: AttackerConnection | undefined,
    table: ReturnType<typeof connectionsTo>,
  ): number | undefined {
    const port = connection?.localPort;
    if (!connection || port === undefined) return undefined;
    return consumption(
      connection.appBytes,
      connection.socket.writableLength,
      table.client.get(port),
      table.server.get(port),
    ).consumed;
  }

  #checkPause(
    attacker: AttackerConnection,
    client: TcpSocketRow,
    server: TcpSocketRow | undefined,
    nowMs: number,
  ): void {
    if (attacker.signs.pausedAtMs !== undefined) return;
    const { consumed, pending } = consumption(
      attacker.appBytes,
      attacker.socket.writableLength,
      client,
      server,
    );
    const stall = this.#stalls.get(attacker);
    if (pending === 0 || !stall || consumed - stall.consumed > PROGRESS_TOLERANCE_BYTES) {
      this.#stalls.set(attacker, { sinceMs: nowMs, consumed, canaryReads: this.#canaryReads });
      return;
    }
    const canaryReads = this.#canaryReads - stall.canaryReads;
    if (nowMs - stall.sinceMs >= PAUSE_WINDOW_MS && canaryReads >= PAUSE_CANARY_READS) {
      attacker.signs.pausedAtMs = stall.sinceMs;
    }
  }
}
