// The store's threads (history-worker.js, search-worker.js) are background work: when the
// CPU is contended the event loop that serves the chat should win, and history lag behind
// (within the writer's bound) instead. Linux schedules each thread on its own:
// - a nice value: setpriority(PRIO_PROCESS, tid) on a thread id changes that thread only (see
//   "NOTES" in setpriority(2)), and os.setPriority takes any id. It lowers the thread's share.
// - a policy: under SCHED_BATCH (sched(7)) a woken thread does not preempt the one running, so
//   handing the writer a batch no longer lets it take the event loop's core at once; its share
//   stays the same. Node has no call for it: util-linux's chrt sets it (`chrt --batch --pid 0
//   TID`), once per thread start.
// Plain JavaScript for the reason the workers are (they run from src/ in tests and are bundled
// into dist/ by tsup).
import { execFileSync } from "node:child_process";
import { readFileSync, readlinkSync } from "node:fs";
import { getPriority, setPriority } from "node:os";

/**
 * The calling thread's id on Linux: `/proc/thread-self` links to `PID/task/TID`. Undefined
 * where there is no such link (no /proc, another system).
 */
export function currentThreadId() {
  try {
    const link = readlinkSync("/proc/thread-self");
    const tid = Number(link.slice(link.lastIndexOf("/") + 1));
    return Number.isInteger(tid) && tid > 0 ? tid : undefined;
  } catch {
    return undefined;
  }
}

/** sched(7)'s number for SCHED_BATCH, as /proc/PID/task/TID/stat reports a thread's policy. */
const SCHED_BATCH = 3;

/** The calling thread's scheduling policy: field 41 of /proc/thread-self/stat. */
function currentPolicy() {
  const stat = readFileSync("/proc/thread-self/stat", "utf8");
  // The command name (field 2) is in parentheses and may hold spaces: count from after it.
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[38]);
}

/**
 * Lowers the calling thread's scheduling priority: to nice value `nice` (at most 19; 0 or less
 * leaves it alone, and a thread already nicer stays as it is: raising it needs a privilege the
 * server should not need), and to the SCHED_BATCH policy when `batch` is true. Returns the
 * thread's id, its nice value and whether it runs under SCHED_BATCH afterwards, read back from
 * the system, or undefined when they could not be read here (no /proc). What the system refuses
 * (a sandbox, no chrt installed) leaves the thread as it was: nothing fails.
 */
export function lowerThreadPriority(nice, batch) {
  const tid = currentThreadId();
  if (tid === undefined) return undefined;
  try {
    if (nice > 0 && getPriority(tid) < nice) setPriority(tid, Math.min(19, Math.floor(nice)));
  } catch {
    // Refused (a sandbox without setpriority): the thread keeps the process's nice value.
  }
  if (batch === true) {
    try {
      // Blocks this thread only, a few ms once, while chrt runs.
      execFileSync("chrt", ["--batch", "--pid", "0", String(tid)], {
        stdio: "ignore",
        timeout: 5000,
      });
    } catch {
      // No chrt here, or refused: the thread keeps its policy.
    }
  }
  try {
    return { tid, nice: getPriority(tid), batch: currentPolicy() === SCHED_BATCH };
  } catch {
    return undefined;
  }
}
