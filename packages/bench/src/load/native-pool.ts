import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { cpus } from "node:os";
import { fileURLToPath } from "node:url";
import { nowUs } from "../clock.js";
import { createLatencyHistogram, encodeHistogram } from "../latency.js";
import { GENERATOR_KINDS, type LoadGeneratorUsage, type UsageMark } from "./generator.js";
import { GeneratorPool, type GeneratorReply } from "./generator-pool.js";
import { encodeNativeRequest } from "./native-request.js";
import type { WorkerProgress, WorkerRequest } from "./protocol.js";
import { LOAD_TRANSPORTS, type LoadTransport } from "./transport-kind.js";

/** Transports the native generator speaks; TLS stays on the worker threads. */
export const NATIVE_TRANSPORTS: readonly LoadTransport[] = [
  LOAD_TRANSPORTS.tcp,
  LOAD_TRANSPORTS.json,
  LOAD_TRANSPORTS.ws,
];

/** Where the built native generator is looked for: beside the bundle, or in dist/ from src/. */
const CANDIDATES = [
  new URL("./loadgen", import.meta.url),
  new URL("../../dist/loadgen", import.meta.url),
];

/** Path of the built native generator, or undefined when it was not built (no C compiler). */
export function nativeGeneratorPath(): string | undefined {
  for (const url of CANDIDATES) {
    const path = fileURLToPath(url);
    if (existsSync(path)) return path;
  }
  return undefined;
}

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ, 100 on Linux). */
const CLOCK_TICKS_PER_SECOND = 100;

/** User plus system CPU of a process so far, in ms; undefined once it is gone. */
function processCpuMs(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
    // Fields after the command name, which is in parentheses and may hold spaces.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(fields[11]) + Number(fields[12]);
    return (ticks * 1000) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/** Sparse histogram buckets from the C side, [[value µs, count], ...], as an hdr encoding. */
function bucketsToHdr(buckets: Array<[number, number]>): string {
  const histogram = createLatencyHistogram();
  for (const [value, count] of buckets) histogram.recordValueWithCount(value, count);
  const encoded = encodeHistogram(histogram);
  histogram.destroy();
  return encoded;
}

/** Replaces bucket lists in a reply by hdr encodings, as the worker threads send them. */
function convertHistograms(result: unknown): unknown {
  if (result === null || typeof result !== "object") return result;
  const record = result as Record<string, unknown>;
  for (const key of ["histogram", "sendLag"]) {
    if (Array.isArray(record[key]))
      record[key] = bucketsToHdr(record[key] as Array<[number, number]>);
  }
  return record;
}

/** Options of {@link NativeLoadPool}. */
export interface NativeLoadPoolOptions {
  /** Generator processes to start (default: one per core, at least 1). */
  workers?: number;
  /** Path of the executable (default: {@link nativeGeneratorPath}). */
  executable?: string;
}

/**
 * N processes of the native load generator driven like the worker threads of {@link LoadPool}:
 * the same requests (as lines on stdin) and the same replies (JSON lines on stdout), so the
 * scenarios do not know which one runs. Each process exits when its stdin closes.
 */
export class NativeLoadPool extends GeneratorPool {
  readonly kind = GENERATOR_KINDS.native;
  /** Whole microseconds: the C side reads it as an integer. */
  readonly t0Us = Math.round(nowUs());
  readonly #children: ChildProcessWithoutNullStreams[] = [];
  #closing = false;

  constructor(options: NativeLoadPoolOptions = {}) {
    const executable = options.executable ?? nativeGeneratorPath();
    super("native load generator");
    if (executable === undefined) throw new Error("the native load generator is not built");
    const count = Math.max(1, options.workers ?? cpus().length);
    for (let i = 0; i < count; i++) {
      const child = spawn(executable, [String(this.t0Us)], { stdio: ["pipe", "pipe", "pipe"] });
      this.addProgressSlot();
      let partial = "";
      child.stdout.setEncoding("utf8");
      child.stdout.on("data", (text: string) => {
        partial += text;
        let lf = partial.indexOf("\n");
        while (lf !== -1) {
          this.#onLine(i, partial.slice(0, lf));
          partial = partial.slice(lf + 1);
          lf = partial.indexOf("\n");
        }
      });
      let stderr = "";
      child.stderr.setEncoding("utf8");
      child.stderr.on("data", (text: string) => {
        stderr = (stderr + text).slice(-2000);
      });
      child.on("error", (err) => this.fail(err));
      child.on("exit", (code, signal) => {
        if (this.#closing) return;
        this.fail(
          new Error(
            `native load generator ${i} exited (${signal ?? `code ${code}`})${stderr ? `: ${stderr.trim()}` : ""}`,
          ),
        );
      });
      this.#children.push(child);
    }
  }

  #onLine(index: number, line: string): void {
    if (line.length === 0) return;
    const message = JSON.parse(line) as WorkerProgress | ({ kind: "reply" } & GeneratorReply);
    if (message.kind === "progress") this.onProgress(index, message);
    else this.onReply(index, message, convertHistograms);
  }

  /** Number of generator processes. */
  get size(): number {
    return this.#children.length;
  }

  /** Process ids of the generator processes. */
  get pids(): Array<number | undefined> {
    return this.#children.map((c) => c.pid);
  }

  protected send(index: number, id: number, req: WorkerRequest): void {
    this.#children[index]!.stdin.write(encodeNativeRequest(id, req));
  }

  /**
   * CPU of each generator process from /proc/<pid>/stat over the span (busiest process =
   * headroom), plus the bench process's own, which still runs the scenario and its timers.
   */
  startUsage(): UsageMark {
    const own = process.cpuUsage();
    const start = performance.now();
    const before = this.#children.map((c) => processCpuMs(c.pid) ?? 0);
    return {
      stop: () => {
        const wallMs = performance.now() - start;
        const spent = this.#children.map(
          (c, i) => (processCpuMs(c.pid) ?? before[i]!) - before[i]!,
        );
        const ownUsed = process.cpuUsage(own);
        const totalMs = spent.reduce((a, b) => a + b, 0) + (ownUsed.user + ownUsed.system) / 1000;
        return {
          cpuCores: wallMs > 0 ? totalMs / wallMs : 0,
          workerUtilization: spent.map((ms) => (wallMs > 0 ? Math.min(1, ms / wallMs) : 0)),
          wallMs,
          generator: GENERATOR_KINDS.native,
        } satisfies LoadGeneratorUsage;
      },
    };
  }

  /** Ends every process: closing stdin makes each close its sockets and exit. */
  async close(): Promise<void> {
    this.#closing = true;
    await Promise.all(
      this.#children.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            const force = setTimeout(() => child.kill("SIGKILL"), 5000);
            child.once("exit", () => {
              clearTimeout(force);
              resolve();
            });
            child.stdin.end();
          }),
      ),
    );
  }
}
