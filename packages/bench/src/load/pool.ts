import { cpus } from "node:os";
import { Worker } from "node:worker_threads";
import { nowUs } from "../clock.js";
import {
  GENERATOR_KINDS,
  generatorOf,
  type LoadGenerator,
  type LoadGeneratorUsage,
  splitByGenerator,
  type UsageMark,
} from "./generator.js";
import type { WorkerInit, WorkerProgress, WorkerReply, WorkerRequest } from "./protocol.js";

export type { LoadGeneratorUsage, UsageMark } from "./generator.js";

/** Options of {@link LoadPool}. */
export interface LoadPoolOptions {
  /** Worker threads to start (default: one per core, at least 1). */
  workers?: number;
  /** Path of the built worker script (default: `load-worker.js` beside this module). */
  workerUrl?: URL;
}

/** Load-generator workers and the requests that drive them. */
export class LoadPool implements LoadGenerator {
  readonly kind = GENERATOR_KINDS.js;
  readonly t0Us = nowUs();
  readonly #workers: Worker[] = [];
  readonly #progress: WorkerProgress[] = [];
  readonly #pending = new Map<
    number,
    { resolve: (v: unknown) => void; reject: (e: Error) => void }
  >();
  #nextId = 1;
  #failed: Error | undefined;

  constructor(options: LoadPoolOptions = {}) {
    const count = Math.max(1, options.workers ?? cpus().length);
    const url = options.workerUrl ?? new URL("./load-worker.js", import.meta.url);
    for (let i = 0; i < count; i++) {
      const init: WorkerInit = { workerIndex: i, t0Us: this.t0Us };
      const worker = new Worker(url, { workerData: init });
      this.#progress.push({ kind: "progress", ready: 0, sent: 0, delivered: 0, roundTrips: 0 });
      worker.on("message", (message: WorkerReply | WorkerProgress) => {
        if (message.kind === "progress") {
          this.#progress[i] = message;
          return;
        }
        const waiter = this.#pending.get(message.id);
        if (!waiter) return;
        this.#pending.delete(message.id);
        if (message.ok) waiter.resolve(message.result);
        else waiter.reject(new Error(`load worker ${i}: ${message.error}`));
      });
      worker.on("error", (err) => {
        this.#failed ??= err;
        for (const waiter of this.#pending.values()) waiter.reject(err);
        this.#pending.clear();
      });
      worker.on("exit", (code) => {
        // A worker that is gone would leave every later request waiting forever.
        this.#failed ??= new Error(`load worker ${i} exited (code ${code})`);
        for (const waiter of this.#pending.values()) waiter.reject(this.#failed);
        this.#pending.clear();
      });
      this.#workers.push(worker);
    }
  }

  /** Number of worker threads. */
  get size(): number {
    return this.#workers.length;
  }

  /** Sums of the workers' latest progress reports (sent twice a second). */
  progress(): Omit<WorkerProgress, "kind"> {
    const sum = { ready: 0, sent: 0, delivered: 0, roundTrips: 0 };
    for (const p of this.#progress) {
      sum.ready += p.ready;
      sum.sent += p.sent;
      sum.delivered += p.delivered;
      sum.roundTrips += p.roundTrips;
    }
    return sum;
  }

  /** Forgets the workers' last progress reports (at the start of a phase, until fresh ones come). */
  resetProgress(): void {
    for (let i = 0; i < this.#progress.length; i++) {
      this.#progress[i] = { kind: "progress", ready: 0, sent: 0, delivered: 0, roundTrips: 0 };
    }
  }

  /** Sends one request to worker `index` and waits for its reply. */
  request<T>(index: number, req: WorkerRequest): Promise<T> {
    const worker = this.#workers[index];
    if (!worker) return Promise.reject(new RangeError(`no worker ${index}`));
    if (this.#failed) return Promise.reject(this.#failed);
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      worker.postMessage({ id, req });
    });
  }

  /** Sends a request to every worker, built per worker, and waits for all replies. */
  all<T>(build: (index: number) => WorkerRequest): Promise<T[]> {
    return Promise.all(this.#workers.map((_, i) => this.request<T>(i, build(i))));
  }

  /**
   * Which worker holds client `id`: clients are dealt round-robin two at a time, so that the
   * clients 2k and 2k+1 (an echo pair) always share a worker.
   */
  workerOf(id: number): number {
    return generatorOf(id, this.#workers.length);
  }

  /** Splits client ids by the worker that holds them. */
  split(ids: readonly number[]): number[][] {
    return splitByGenerator(ids, this.#workers.length);
  }

  /** Starts measuring the load generator's CPU and the workers' event-loop use. */
  startUsage(): UsageMark {
    const cpu = process.cpuUsage();
    const start = performance.now();
    const elu = this.#workers.map((w) => w.performance.eventLoopUtilization());
    return {
      stop: () => {
        const wallMs = performance.now() - start;
        const used = process.cpuUsage(cpu);
        return {
          cpuCores: wallMs > 0 ? (used.user + used.system) / 1000 / wallMs : 0,
          workerUtilization: this.#workers.map(
            (w, i) => w.performance.eventLoopUtilization(elu[i]).utilization,
          ),
          wallMs,
          generator: GENERATOR_KINDS.js,
        } satisfies LoadGeneratorUsage;
      },
    };
  }

  /** Stops every worker. */
  async close(): Promise<void> {
    await Promise.all(this.#workers.map((w) => w.terminate()));
  }
}
