/** What the scenarios drive: N load-generator threads (JavaScript) or processes (native). */
import type { WorkerProgress, WorkerRequest } from "./protocol.js";

/** Which load generator ran. */
export const GENERATOR_KINDS = {
  /** Worker threads of the bench process (src/load/worker.ts). */
  js: "js",
  /** Processes of the C load generator built from native/ (dist/loadgen). */
  native: "native",
} as const;
/** One generator kind. */
export type GeneratorKind = (typeof GENERATOR_KINDS)[keyof typeof GENERATOR_KINDS];

/** How busy the load generator was during a span. */
export interface LoadGeneratorUsage {
  /**
   * CPU time of the load generator divided by wall time (1 = one core busy): the bench process
   * (its worker threads included), plus the native processes when those ran.
   */
  cpuCores: number;
  /**
   * How busy each generator thread or process was, 0..1: a worker's event-loop utilization, or
   * a native process's CPU time over wall time. Near 1: it could not keep up.
   */
  workerUtilization: number[];
  wallMs: number;
  /** Which generator ran (absent in results from before it could be chosen: js). */
  generator?: GeneratorKind;
}

/** A span measurement started by {@link LoadGenerator.startUsage}. */
export interface UsageMark {
  stop(): LoadGeneratorUsage;
}

/** The requests a scenario sends, and what it reads back, whichever generator runs. */
export interface LoadGenerator {
  readonly kind: GeneratorKind;
  /** Time origin of the run on the monotonic clock (µs); message stamps count from it. */
  readonly t0Us: number;
  /** Number of generator threads or processes. */
  readonly size: number;
  /** Sums of the latest progress reports (sent twice a second). */
  progress(): Omit<WorkerProgress, "kind">;
  /** Forgets the last progress reports (at the start of a phase, until fresh ones come). */
  resetProgress(): void;
  /** Sends one request to generator `index` and waits for its reply. */
  request<T>(index: number, req: WorkerRequest): Promise<T>;
  /** Sends a request to every generator, built per generator, and waits for all replies. */
  all<T>(build: (index: number) => WorkerRequest): Promise<T[]>;
  /** Which generator holds client `id` (see {@link generatorOf}). */
  workerOf(id: number): number;
  /** Splits client ids by the generator that holds them. */
  split(ids: readonly number[]): number[][];
  /** Starts measuring the generator's CPU. */
  startUsage(): UsageMark;
  /** Stops every generator. */
  close(): Promise<void>;
}

/**
 * Which of `count` generators holds client `id`: clients are dealt round-robin two at a time,
 * so that the clients 2k and 2k+1 (an echo pair) always share one.
 */
export function generatorOf(id: number, count: number): number {
  return Math.floor(id / 2) % count;
}

/** Splits client ids by the generator that holds them (see {@link generatorOf}). */
export function splitByGenerator(ids: readonly number[], count: number): number[][] {
  const parts: number[][] = Array.from({ length: count }, () => []);
  for (const id of ids) parts[generatorOf(id, count)]!.push(id);
  return parts;
}
