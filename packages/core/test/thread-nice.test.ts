import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { DEFAULT_STORE_THREAD_BATCH, DEFAULT_STORE_THREAD_NICE } from "../src/defaults.js";
import { openDataDirectory, type StoredMessage } from "../src/index.js";
import { LineClient, startServer } from "./helpers.js";
import { UNLIMITED_RATES, useDataDirs } from "./temp-store.js";

// The store's threads (history writer, search) lower their own scheduling priority, so that a
// contended CPU runs the chat's event loop first. What these tests check is the kernel's own
// record of each thread's nice value (/proc/PID/task/TID/stat), not what the code reports.

const dataDir = useDataDirs("tcpchat-thread-nice-");

/** Field `n` (numbered as in proc(5)) of the stat line of thread `tid` of this process. */
function statField(tid: number, n: number): number {
  const stat = readFileSync(`/proc/${process.pid}/task/${tid}/stat`, "utf8");
  // The command name (field 2) is in parentheses and may hold spaces: count from after it.
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[n - 3]);
}

/** The nice value of thread `tid` of this process (field 19). */
const niceOf = (tid: number) => statField(tid, 19);

/** The scheduling policy of thread `tid` of this process (field 41): 0 normal, 3 SCHED_BATCH. */
const policyOf = (tid: number) => statField(tid, 41);
const SCHED_OTHER = 0;
const SCHED_BATCH = 3;

/** Whether util-linux's chrt, which sets SCHED_BATCH, is installed here. */
const hasChrt = spawnSync("chrt", ["--version"]).status === 0;

/** Every thread of this process and its nice value (a thread may exit while being read). */
function threadNices(): Map<number, number> {
  const nices = new Map<number, number>();
  for (const name of readdirSync(`/proc/${process.pid}/task`)) {
    try {
      nices.set(Number(name), niceOf(Number(name)));
    } catch {
      // Gone between the listing and the read.
    }
  }
  return nices;
}

async function until<T>(value: () => T | undefined, what: string): Promise<T> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const found = value();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function message(id: number): StoredMessage {
  return {
    id,
    ts: 1_000 + id,
    room: "lobby",
    roomKey: "lobby",
    from: "alice",
    text: `deploy ${id}`,
    action: false,
  };
}

/** What a thread lowered to `nice` runs at: a process started nicer keeps its own value. */
function expectedNice(nice: number): number {
  return Math.max(niceOf(process.pid), nice);
}

describe.skipIf(!existsSync("/proc/thread-self"))(
  "the store's threads yield to the event loop",
  () => {
    it("a writer's thread given nice 10 runs at it, and no other thread of the process changes", async () => {
      const before = threadNices();
      const mainPolicy = policyOf(process.pid);
      const mainBefore = niceOf(process.pid);
      const store = openDataDirectory(dataDir());
      try {
        store.setThreadPriority({ nice: 10, batch: DEFAULT_STORE_THREAD_BATCH });
        const writer = store.openMessageWriter()!;
        await writer.appendMessages([message(1)]);
        const thread = await until(() => writer.priority, "the writer's thread to report");
        expect(thread.tid).not.toBe(process.pid);
        expect(before.has(thread.tid)).toBe(false);
        expect(thread.nice).toBe(expectedNice(10));
        expect(niceOf(thread.tid)).toBe(expectedNice(10));
        // setpriority on a thread id changes that thread only: the main thread and every thread
        // that was there before (libuv's pool, V8's) keep their values.
        expect(niceOf(process.pid)).toBe(mainBefore);
        expect(policyOf(process.pid)).toBe(mainPolicy);
        const after = threadNices();
        for (const [tid, nice] of before) if (after.has(tid)) expect(after.get(tid)).toBe(nice);
      } finally {
        await store.close();
      }
    });

    it("the search thread does too, at the value the store was given; 0 leaves the writer's alone", async () => {
      const store = openDataDirectory(dataDir());
      try {
        store.appendMessages([message(1), message(2)]);
        store.setThreadPriority({ nice: 0, batch: false });
        const writer = store.openMessageWriter()!;
        await writer.appendMessages([message(3)]);
        const writerThread = await until(() => writer.priority, "the writer's thread to report");
        expect(niceOf(writerThread.tid)).toBe(niceOf(process.pid));
        expect(writerThread.batch).toBe(false);
        expect(policyOf(writerThread.tid)).toBe(SCHED_OTHER);
        await writer.close();

        store.setThreadPriority({ nice: 7, batch: false });
        const found = await store.searchInBackground("lobby", ["deploy"], 10)!;
        expect(found.map((m) => m.id)).toEqual([1, 2, 3]);
        const searchThread = await until(() => store.searchThreadPriority, "the search thread");
        expect(searchThread.tid).not.toBe(writerThread.tid);
        expect(searchThread.nice).toBe(expectedNice(7));
        expect(niceOf(searchThread.tid)).toBe(expectedNice(7));
      } finally {
        await store.close();
      }
    });

    it.skipIf(!hasChrt)(
      "asked for, the writer's thread runs under SCHED_BATCH at the process's nice value; by default it does not; the event loop keeps its policy",
      async () => {
        expect(DEFAULT_STORE_THREAD_BATCH).toBe(false);
        expect(DEFAULT_STORE_THREAD_NICE).toBe(0);
        const mainPolicy = policyOf(process.pid);
        for (const batch of [true, undefined]) {
          const store = openDataDirectory(dataDir());
          try {
            if (batch !== undefined) store.setThreadPriority({ nice: 0, batch });
            const writer = store.openMessageWriter()!;
            await writer.appendMessages([message(1)]);
            const thread = await until(() => writer.priority, "the writer's thread to report");
            expect(thread.batch).toBe(batch === true);
            expect(policyOf(thread.tid) === SCHED_BATCH).toBe(batch === true);
            expect(niceOf(thread.tid)).toBe(niceOf(process.pid));
            expect(policyOf(process.pid)).toBe(mainPolicy);
            expect(mainPolicy).not.toBe(SCHED_BATCH);
          } finally {
            await store.close();
          }
        }
      },
    );

    it("a server's history.threadNice reaches its writer's thread and its stats", async () => {
      const store = openDataDirectory(dataDir());
      try {
        await using running = await startServer({
          ...UNLIMITED_RATES,
          store,
          history: { threadNice: 5, threadBatch: false, flushMs: 1 },
        });
        const alice = await LineClient.greeted(running.port);
        alice.send("/join lobby");
        alice.send("hello");
        await until(
          () => (running.server.stats().history?.written ?? 0) > 0 || undefined,
          "the message to be written",
        );
        const writerNice = await until(
          () => running.server.stats().history?.writerNice,
          "the writer's nice value in the stats",
        );
        expect(writerNice).toBe(expectedNice(5));
        expect(running.server.stats().history?.writerBatch).toBe(false);
        expect([...threadNices().values()]).toContain(expectedNice(5));
        alice.socket.destroy();
      } finally {
        await store.close();
      }
    });
  },
);
