/**
 * Microseconds on the monotonic clock. `process.hrtime` reads one system clock, so stamps taken
 * in different worker threads (or processes) of one machine can be subtracted; `performance.now`
 * has a different origin in each thread and cannot.
 */
export function nowUs(): number {
  const [seconds, nanos] = process.hrtime();
  return seconds * 1e6 + nanos / 1e3;
}
