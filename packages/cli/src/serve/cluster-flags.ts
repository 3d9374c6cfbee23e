import cluster from "node:cluster";
import { ERROR_CODES } from "@tcpchat/core";
import { type FlagValues, intFlag, stringFlag } from "../args.js";
import { EXIT_CODE } from "../exit-codes.js";
import { UsageError } from "../usage-error.js";
import type { Logger } from "./logger.js";

/** Most worker processes `--workers` starts (a machine with more cores runs more nodes). */
const MAX_WORKERS = 256;

/** `--redis URL` and `--workers N`: how this server joins a cluster. */
export interface ClusterFlags {
  /** Redis of the cluster, or undefined when the server is alone. */
  redis: string | undefined;
  /** Worker processes sharing the port (1: this process serves). */
  workers: number;
}

/** The flags of the cluster, for parseCommandArgs. */
export function clusterFlagSpec() {
  return {
    redis: { type: "string" },
    workers: { type: "string" },
  } as const;
}

/** Help lines of the cluster flags. */
export function clusterFlagHelp(): string {
  return `  --redis URL           join a cluster of servers on Redis (redis://host:6379): they share
                        rooms, presence, nicks and DMs
  --workers N           run N processes sharing the port (default 1; above 1 needs --redis)`;
}

/** Reads the cluster flags; `--workers` above 1 without `--redis` is refused with its code. */
export function clusterFlags(flags: FlagValues): ClusterFlags {
  const redis = stringFlag(flags, "redis");
  const workers = intFlag(flags, "workers", { min: 1, max: MAX_WORKERS }) ?? 1;
  if (redis !== undefined && !/^rediss?:\/\/[^\s/]+/.test(redis)) {
    throw new UsageError(`--redis takes a URL such as redis://127.0.0.1:6379, got "${redis}"`);
  }
  if (workers > 1 && redis === undefined) {
    const info = ERROR_CODES.CHAT_ERR_WORKERS_NEED_REDIS;
    throw new UsageError(`CHAT_ERR_WORKERS_NEED_REDIS: ${info.message} (hint: ${info.hint})`);
  }
  return { redis, workers };
}

/** Whether this process is the primary that only starts and watches workers. */
export function isWorkerPrimary(flags: ClusterFlags): boolean {
  return flags.workers > 1 && cluster.isPrimary;
}

/** Whether this process is one of the workers `--workers` started. */
export function isWorker(): boolean {
  return cluster.isWorker;
}

/**
 * The primary of `--workers N`: starts N workers (this program, same arguments) that share the
 * port through Node's cluster module and join the same Redis, replaces one that dies, and on
 * SIGINT or SIGTERM stops them all gracefully. Resolves with the exit code.
 */
export function runWorkerPrimary(count: number, logger: Logger): Promise<number> {
  return new Promise((resolve) => {
    let stopping = false;
    let failedAtStart = 0;
    const startedAt = Date.now();
    const fork = () => cluster.fork();
    cluster.on("exit", (worker, code, signal) => {
      if (stopping) {
        if (Object.keys(cluster.workers ?? {}).length === 0) resolve(EXIT_CODE.ok);
        return;
      }
      // A worker that fails right away (Redis unreachable, port taken) fails them all.
      if (Date.now() - startedAt < 5000 && code !== 0) {
        failedAtStart += 1;
        if (failedAtStart >= count) {
          logger.error("workers", `every worker failed to start (last exit code ${code})`);
          resolve(code ?? EXIT_CODE.failure);
        }
        return;
      }
      logger.warn(
        "worker-exit",
        `worker ${worker.process.pid} exited (${signal ?? code}); starting another`,
      );
      fork();
    });
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) return;
      stopping = true;
      logger.info("shutdown", `stopping ${count} workers`);
      for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill(signal);
    };
    process.on("SIGINT", () => stop("SIGTERM"));
    process.on("SIGTERM", () => stop("SIGTERM"));
    logger.info("workers", `starting ${count} workers on one port, joined by Redis`);
    for (let i = 0; i < count; i++) fork();
  });
}
