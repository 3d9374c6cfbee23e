import { Worker } from "node:worker_threads";

/** What a store thread answers to each request: its `seq`, and why it failed if it did. */
export interface ThreadReply {
  seq: number;
  error?: { message: string; code?: string };
}

/** A store thread as the operating system schedules it, once the thread has reported it. */
export interface ThreadPriority {
  /** The thread's id (Linux: the TID in /proc/PID/task). */
  tid: number;
  /** The nice value it runs at (0 is the process's default; higher yields the CPU sooner). */
  nice: number;
  /** Whether it runs under SCHED_BATCH (a woken thread does not preempt the running one). */
  batch: boolean;
}

/** How a store thread lowers its priority as it starts (see thread-priority.js). */
export interface ThreadPriorityOptions {
  /** The nice value to lower it to (0: as the process). */
  nice: number;
  /** Whether to run it under SCHED_BATCH. */
  batch: boolean;
}

/** What a thread posts once at start, before any answer (seq 0 is never a request's). */
interface StartReply {
  seq: 0;
  /** Its priority after lowering it, or null where it is unknown (no /proc). */
  thread: ThreadPriority | null;
}

interface Waiter<R> {
  resolve(reply: R): void;
  reject(error: Error): void;
}

/**
 * A worker thread with a database connection of its own (history-worker.js, search-worker.js),
 * and the requests waiting for its answers. Requests are answered in order; `{ close: true }`
 * makes the thread close its connection and exit once it has answered what came before. A
 * thread that dies fails what waits and is started again for the next request.
 */
export class StoreThread<R extends ThreadReply> {
  private worker: Worker | undefined;
  private readonly waiters = new Map<number, Waiter<R>>();
  private nextSeq = 1;
  private closing: Promise<void> | undefined;
  /**
   * The running thread's id, nice value and policy, once it has reported them; undefined before
   * that, and where they could not be read (no /proc: it runs as the process does).
   */
  priority: ThreadPriority | undefined;

  /**
   * @param script the thread's module, beside this one
   * @param workerData what the thread opens its connection with
   * @param name how errors name the thread ("the search thread")
   */
  constructor(
    private readonly script: URL,
    private readonly workerData: object,
    private readonly name: string,
  ) {}

  /** Whether close() was called: a closed thread takes no more requests. */
  get closed(): boolean {
    return this.closing !== undefined;
  }

  /** Starts the thread now rather than at the first request (its start-up takes a while). */
  warmUp(): void {
    this.worker ??= this.start();
  }

  /**
   * Posts the request `message(seq)` and resolves with the thread's answer to it; `transfer`
   * moves buffers to the thread instead of copying them.
   */
  post(message: (seq: number) => object, transfer?: readonly ArrayBuffer[]): Promise<R> {
    if (this.closing !== undefined) return Promise.reject(new Error(`${this.name} is closed`));
    const seq = this.nextSeq++;
    const worker = this.worker ?? this.start();
    return new Promise((resolve, reject) => {
      this.waiters.set(seq, { resolve, reject });
      worker.postMessage(message(seq), transfer);
    });
  }

  /**
   * Lets the thread answer what it was given, closes its connection and waits for it to exit;
   * every call waits for the same exit.
   */
  close(): Promise<void> {
    this.closing ??= this.stop();
    return this.closing;
  }

  private async stop(): Promise<void> {
    const worker = this.worker;
    if (worker === undefined) return;
    const exited = new Promise<void>((resolve) => worker.once("exit", () => resolve()));
    // Referenced while it drains: an unreferenced worker lets the process run out of work and
    // quit while close() is still awaited (exit code 13 from an awaiting top-level module).
    worker.ref();
    // Messages are handled in order: every request posted before this is answered first.
    worker.postMessage({ close: true });
    await exited;
  }

  private start(): Worker {
    const worker = new Worker(this.script, { workerData: this.workerData });
    // Unreferenced: an owner that never closes the store does not keep the process alive.
    worker.unref();
    worker.on("message", (message: R | StartReply) => {
      if (message.seq === 0) {
        if (this.worker === worker) this.priority = (message as StartReply).thread ?? undefined;
        return;
      }
      const reply = message as R;
      const waiter = this.waiters.get(reply.seq);
      if (waiter === undefined) return;
      this.waiters.delete(reply.seq);
      if (reply.error === undefined) waiter.resolve(reply);
      else waiter.reject(Object.assign(new Error(reply.error.message), { code: reply.error.code }));
    });
    const fail = (error: Error) => {
      if (this.worker === worker) this.forget();
      for (const waiter of this.waiters.values()) waiter.reject(error);
      this.waiters.clear();
    };
    worker.on("error", fail);
    worker.on("exit", (code) => {
      if (this.waiters.size > 0) fail(new Error(`${this.name} exited (code ${code})`));
      if (this.worker === worker) this.forget();
    });
    this.worker = worker;
    return worker;
  }

  /** The thread is gone: the next request starts another, which reports its own priority. */
  private forget(): void {
    this.worker = undefined;
    this.priority = undefined;
  }
}
