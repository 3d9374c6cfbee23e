// The store's threads (history-worker.js, search-worker.js) are background work: when the
// CPU is contended the event loop that serves the chat should win, and history lag behind
// (within the writer's bound) instead. Linux gives each thread a nice value of its own:
// setpriority(PRIO_PROCESS, tid) on a thread id changes that thread only (see "NOTES" in
// setpriority(2)), and os.setPriority takes any id. Plain JavaScript for the reason the
// workers are (they run from src/ in tests and are bundled into dist/ by tsup).
import { readlinkSync } from "node:fs";
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

/**
 * Lowers the calling thread's scheduling priority to nice value `nice` (at most 19; 0 or less
 * leaves it alone), never raising it: a thread already nicer stays as it is (raising needs a
 * privilege the server should not need). Returns the thread's id and the nice value it runs at
 * afterwards, or undefined when they could not be read here (no /proc). A value the system
 * refuses leaves the thread as it was: nothing fails.
 */
export function lowerThreadPriority(nice) {
  const tid = currentThreadId();
  if (tid === undefined) return undefined;
  try {
    if (nice > 0 && getPriority(tid) < nice) setPriority(tid, Math.min(19, Math.floor(nice)));
  } catch {
    // Refused (a sandbox without setpriority): the thread runs as the process does.
  }
  try {
    return { tid, nice: getPriority(tid) };
  } catch {
    return undefined;
  }
}
