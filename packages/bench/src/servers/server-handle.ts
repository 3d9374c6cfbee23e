import { type ChildProcess, fork } from "node:child_process";
import { pinProcess, threadsOffCpus } from "../pinning.js";
import type {
  ChildMessage,
  ChildRequest,
  ServerChildConfig,
  ServerKind,
  ServerMeasure,
} from "./child-protocol.js";

/** Options of {@link startServerChild}. */
export interface ServerChildOptions {
  kind: ServerKind;
  /** ChatServerOptions passed to tcpchat's `createServer`. */
  options?: Record<string, unknown>;
  /** Accept policy for tcpchat (core's PolicyConfig as JSON). */
  policy?: Record<string, unknown>;
  /** A data directory: tcpchat keeps history there (see {@link ServerChildConfig.dataDir}). */
  dataDir?: string;
  /** Address to listen on (default 127.0.0.1). */
  host?: string;
  /** Write a V8 CPU profile of the server into this directory (`--cpu-prof`). */
  cpuProfDir?: string;
  /** More Node/V8 flags for the server process (for experiments such as heap sizing). */
  nodeFlags?: string[];
  /** Path of the built child script (default: `server-child.js` beside the bench's main). */
  scriptUrl?: URL;
  /** How long to wait for the server to listen, ms (default 10000). */
  startTimeoutMs?: number;
}

/** A server under test running in a child process. */
export interface ServerHandle {
  readonly kind: ServerKind;
  readonly host: string;
  readonly port: number;
  readonly pid: number | undefined;
  /** Forces a GC in the server and reads its memory, CPU time and counters. */
  measure(): Promise<ServerMeasure>;
  /** Reads the same figures without a GC, cheap enough to poll during a run. */
  peek(): Promise<ServerMeasure>;
  /** Starts a new peak-RSS window. */
  resetPeak(): Promise<void>;
  /** Closes the server and waits for the process to exit (killing it if it does not). */
  close(): Promise<void>;
}

let serverCpus: string | undefined;

/**
 * `--pin`: every server child started from now on runs on `cpus` (taskset syntax), it and every
 * thread it starts; undefined: where the scheduler puts it.
 */
export function pinServerChildren(cpus: string | undefined): void {
  serverCpus = cpus;
}

/** Starts a server under test in a child process of its own and waits until it listens. */
export function startServerChild(opts: ServerChildOptions): Promise<ServerHandle> {
  const host = opts.host ?? "127.0.0.1";
  const config: ServerChildConfig = {
    kind: opts.kind,
    options: opts.options ?? {},
    host,
    ...(opts.policy === undefined ? {} : { policy: opts.policy }),
    ...(opts.dataDir === undefined ? {} : { dataDir: opts.dataDir }),
  };
  const script = opts.scriptUrl ?? new URL("./server-child.js", import.meta.url);
  const execArgv = ["--expose-gc"];
  if (opts.cpuProfDir) execArgv.push("--cpu-prof", "--cpu-prof-dir", opts.cpuProfDir);
  execArgv.push(...(opts.nodeFlags ?? []));
  const child = fork(script, [JSON.stringify(config)], {
    execArgv,
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  if (serverCpus !== undefined && child.pid !== undefined) {
    // Now, before it has loaded anything: threads it starts later inherit the main thread's CPUs.
    const why = pinProcess(child.pid, serverCpus);
    if (why !== undefined) {
      child.kill("SIGKILL");
      return Promise.reject(new Error(`could not pin the server to CPU ${serverCpus}: ${why}`));
    }
  }
  const waiters = new Map<number, (m: ServerMeasure | undefined) => void>();
  let nextId = 1;
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  exit.then(() => {
    exited = true;
    for (const waiter of waiters.values()) waiter(undefined);
    waiters.clear();
  });

  const request = (op: ChildRequest["op"]): Promise<ServerMeasure | undefined> => {
    if (exited || !child.connected) return Promise.reject(new Error(`${opts.kind} server exited`));
    const id = nextId++;
    return new Promise((resolve) => {
      waiters.set(id, resolve);
      child.send({ id, op } satisfies ChildRequest);
    });
  };
  child.on("message", (message: ChildMessage) => {
    if (message.type !== "reply") return;
    const waiter = waiters.get(message.id);
    waiters.delete(message.id);
    waiter?.(message.measure);
  });

  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(
        new Error(`${opts.kind} server did not start within ${opts.startTimeoutMs ?? 10_000} ms`),
      );
    }, opts.startTimeoutMs ?? 10_000);
    const onExit = (code: number | null) => {
      clearTimeout(timer);
      reject(new Error(`${opts.kind} server exited during start (code ${code})`));
    };
    child.once("exit", onExit);
    child.on("message", (message: ChildMessage) => {
      if (message.type === "failed") {
        clearTimeout(timer);
        child.off("exit", onExit);
        reject(new Error(`${opts.kind} server failed to start: ${message.error}`));
      } else if (message.type === "listening") {
        clearTimeout(timer);
        child.off("exit", onExit);
        // Started, with its threads: each must be where it was pinned, or the figures lie.
        const off =
          serverCpus !== undefined && child.pid !== undefined
            ? threadsOffCpus(child.pid, serverCpus)
            : [];
        if (off.length > 0) {
          child.kill("SIGKILL");
          reject(new Error(`${off.length} threads of the server are not on CPU ${serverCpus}`));
          return;
        }
        resolve(handle(child, message.port));
      }
    });
  });

  function handle(proc: ChildProcess, port: number): ServerHandle {
    return {
      kind: opts.kind,
      host,
      port,
      pid: proc.pid,
      async measure() {
        const measure = await request("measure");
        if (!measure) throw new Error(`${opts.kind} server exited before it answered`);
        return measure;
      },
      async peek() {
        const measure = await request("peek");
        if (!measure) throw new Error(`${opts.kind} server exited before it answered`);
        return measure;
      },
      async resetPeak() {
        await request("reset-peak");
      },
      async close() {
        if (exited) return;
        const killer = setTimeout(() => proc.kill("SIGKILL"), 5000);
        await request("close").catch(() => undefined);
        await exit;
        clearTimeout(killer);
      },
    };
  }
}
