/**
 * What the worker threads ({@link LoadPool}) and the native processes ({@link NativeLoadPool})
 * share: numbered requests and their waiting replies, progress reports, and how client ids are
 * dealt. A subclass only starts its generators and carries requests and replies to and from them.
 */
import {
  type GeneratorKind,
  generatorOf,
  type LoadGenerator,
  splitByGenerator,
  type UsageMark,
} from "./generator.js";
import type { WorkerProgress, WorkerRequest } from "./protocol.js";
import { emptyProgress } from "./worker-state.js";

interface Waiter {
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
}

/** A reply from generator `index` to request `id`: its result, or its error text. */
export type GeneratorReply =
  | { id: number; ok: true; result: unknown }
  | { id: number; ok: false; error: string };

/** Requests, replies and progress of N load generators; see the module notes. */
export abstract class GeneratorPool implements LoadGenerator {
  abstract readonly kind: GeneratorKind;
  abstract readonly t0Us: number;
  readonly #progress: WorkerProgress[] = [];
  readonly #pending = new Map<number, Waiter>();
  #nextId = 1;
  #failed: Error | undefined;

  readonly #unit: string;

  /** @param unit what one generator is called in errors (`load worker`, `native load generator`). */
  protected constructor(unit: string) {
    this.#unit = unit;
  }

  /** Number of generator threads or processes. */
  abstract get size(): number;

  /** Hands request `id` to generator `index` (which exists). */
  protected abstract send(index: number, id: number, req: WorkerRequest): void;

  abstract startUsage(): UsageMark;

  abstract close(): Promise<void>;

  /** Gives the next generator started its progress slot (call once per generator, in order). */
  protected addProgressSlot(): void {
    this.#progress.push(emptyProgress());
  }

  /** Records a progress report of generator `index`. */
  protected onProgress(index: number, progress: WorkerProgress): void {
    this.#progress[index] = progress;
  }

  /** Settles the request a reply answers; `convert` turns a result into what callers expect. */
  protected onReply(
    index: number,
    reply: GeneratorReply,
    convert: (result: unknown) => unknown = (r) => r,
  ): void {
    const waiter = this.#pending.get(reply.id);
    if (!waiter) return;
    this.#pending.delete(reply.id);
    if (reply.ok) waiter.resolve(convert(reply.result));
    else waiter.reject(new Error(`${this.#unit} ${index}: ${reply.error}`));
  }

  /** A generator is gone: every waiting request and every later one fails with the first error. */
  protected fail(err: Error): void {
    // A generator that is gone would leave every later request waiting forever.
    this.#failed ??= err;
    for (const waiter of this.#pending.values()) waiter.reject(this.#failed);
    this.#pending.clear();
  }

  /** Sums of the generators' latest progress reports (sent twice a second). */
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

  /** Forgets the last progress reports (at the start of a phase, until fresh ones come). */
  resetProgress(): void {
    for (let i = 0; i < this.#progress.length; i++) this.#progress[i] = emptyProgress();
  }

  /** Sends one request to generator `index` and waits for its reply. */
  request<T>(index: number, req: WorkerRequest): Promise<T> {
    if (!Number.isInteger(index) || index < 0 || index >= this.size) {
      return Promise.reject(new RangeError(`no ${this.#unit} ${index}`));
    }
    if (this.#failed) return Promise.reject(this.#failed);
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.send(index, id, req);
    });
  }

  /** Sends a request to every generator, built per generator, and waits for all replies. */
  all<T>(build: (index: number) => WorkerRequest): Promise<T[]> {
    return Promise.all(Array.from({ length: this.size }, (_, i) => this.request<T>(i, build(i))));
  }

  /**
   * Which generator holds client `id`: clients are dealt round-robin two at a time, so that the
   * clients 2k and 2k+1 (an echo pair) always share one.
   */
  workerOf(id: number): number {
    return generatorOf(id, this.size);
  }

  /** Splits client ids by the generator that holds them. */
  split(ids: readonly number[]): number[][] {
    return splitByGenerator(ids, this.size);
  }
}
