import { cpus } from "node:os";
import { Worker } from "node:worker_threads";
import { nowUs } from "../clock.js";
import { GENERATOR_KINDS, type LoadGeneratorUsage, type UsageMark } from "./generator.js";
import { GeneratorPool } from "./generator-pool.js";
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
export class LoadPool extends GeneratorPool {
  readonly kind = GENERATOR_KINDS.js;
  readonly t0Us = nowUs();
  readonly #workers: Worker[] = [];

  constructor(options: LoadPoolOptions = {}) {
    super("load worker");
    const count = Math.max(1, options.workers ?? cpus().length);
    const url = options.workerUrl ?? new URL("./load-worker.js", import.meta.url);
    for (let i = 0; i < count; i++) {
      const init: WorkerInit = { workerIndex: i, t0Us: this.t0Us };
      const worker = new Worker(url, { workerData: init });
      this.addProgressSlot();
      worker.on("message", (message: WorkerReply | WorkerProgress) => {
        if (message.kind === "progress") this.onProgress(i, message);
        else this.onReply(i, message);
      });
      worker.on("error", (err) => this.fail(err));
      worker.on("exit", (code) => this.fail(new Error(`load worker ${i} exited (code ${code})`)));
      this.#workers.push(worker);
    }
  }

  /** Number of worker threads. */
  get size(): number {
    return this.#workers.length;
  }

  protected send(index: number, id: number, req: WorkerRequest): void {
    this.#workers[index]!.postMessage({ id, req });
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
