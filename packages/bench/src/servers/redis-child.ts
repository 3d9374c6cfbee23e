import { type ChildProcess, spawn } from "node:child_process";
import { accessSync, constants, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";

/** The program the cluster run starts. */
const REDIS_SERVER = "redis-server";

/**
 * Clock ticks per second of the times in /proc/<pid>/stat (USER_HZ). Node has no
 * `sysconf(_SC_CLK_TCK)`; Linux reports these times in 1/100 s on every common architecture.
 */
const USER_HZ = 100;

/** redis-server is not installed where the bench can find it. */
export class RedisNotFoundError extends Error {
  constructor() {
    super(
      `${REDIS_SERVER} was not found on PATH; --nodes joins its tcpchat nodes through a ` +
        `${REDIS_SERVER} the bench starts itself. Install it (Debian: apt-get install -y ` +
        `redis-server) or put the directory that holds it on PATH.`,
    );
    this.name = "RedisNotFoundError";
  }
}

/** The path of redis-server on PATH; throws {@link RedisNotFoundError} when there is none. */
export function findRedisServer(path = process.env.PATH ?? ""): string {
  for (const dir of path.split(delimiter)) {
    if (dir === "") continue;
    const candidate = join(dir, REDIS_SERVER);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not here: the next directory.
    }
  }
  throw new RedisNotFoundError();
}

/**
 * User plus system CPU time of a process so far, in seconds, from the `utime` and `stime`
 * fields (14 and 15) of /proc/<pid>/stat. Undefined when it cannot be read (not Linux, exited).
 */
export function readProcessCpuSeconds(pid: number, text?: string): number | undefined {
  let stat = text;
  if (stat === undefined) {
    try {
      stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    } catch {
      return undefined;
    }
  }
  // The command name (field 2) is in parentheses and may hold spaces: count after its end.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const user = Number(fields[11]);
  const system = Number(fields[12]);
  if (!Number.isFinite(user) || !Number.isFinite(system)) return undefined;
  return (user + system) / USER_HZ;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      probe.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

/** A redis-server started by the bench for a cluster run. */
export interface RedisChild {
  readonly url: string;
  readonly pid: number;
  /** Its CPU time so far, seconds (undefined off Linux). */
  cpuSeconds(): number | undefined;
  /** Stops it and removes its directory. */
  close(): Promise<void>;
}

/**
 * Starts redis-server on 127.0.0.1 on a free port, in a temporary directory of its own, without
 * persistence, and resolves once it accepts connections.
 */
export async function startRedisChild(startTimeoutMs = 10_000): Promise<RedisChild> {
  const program = findRedisServer();
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "tcpchat-bench-redis-"));
  const child: ChildProcess = spawn(
    program,
    [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--dir",
      dir,
      "--save",
      "",
      "--appendonly",
      "no",
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  let output = "";
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${REDIS_SERVER} did not start within ${startTimeoutMs} ms`)),
        startTimeoutMs,
      );
      child.stdout!.on("data", (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes("Ready to accept connections")) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.stderr!.on("data", (chunk: Buffer) => {
        output += chunk.toString();
      });
      child.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`${REDIS_SERVER} exited with ${code} during start:\n${output}`));
      });
    });
  } catch (err) {
    child.kill("SIGKILL");
    await exited;
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  // Its log is not needed once it runs; keep the pipes drained.
  child.stdout!.resume();
  child.stderr!.resume();
  const pid = child.pid!;
  return {
    url: `redis://127.0.0.1:${port}`,
    pid,
    cpuSeconds: () => readProcessCpuSeconds(pid),
    async close() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGKILL");
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
