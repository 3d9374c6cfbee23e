// @ts-check
/** Number formatting for the performance page, matching the units `pnpm bench` prints. */

/** `1234567` -> `1.23 M`, `4321` -> `4.32 k`, `12` -> `12`. @param {number} value */
export function formatCount(value) {
  const abs = Math.abs(value);
  if (abs >= 1e9) return `${(value / 1e9).toFixed(2)} G`;
  if (abs >= 1e6) return `${(value / 1e6).toFixed(2)} M`;
  if (abs >= 1e4) return `${(value / 1e3).toFixed(1)} k`;
  if (abs >= 1e3) return `${(value / 1e3).toFixed(2)} k`;
  if (Number.isInteger(value)) return String(value);
  return value.toFixed(1);
}

/** A whole number for prose, with thousands separators: `10000` -> `10,000`. @param {number} value */
export function formatWhole(value) {
  return Math.round(value).toLocaleString("en-US");
}

/** Bytes in B, KiB, MiB or GiB. @param {number} value */
export function formatBytes(value) {
  const abs = Math.abs(value);
  if (abs >= 1024 ** 3) return `${(value / 1024 ** 3).toFixed(1)} GiB`;
  if (abs >= 1024 ** 2) return `${(value / 1024 ** 2).toFixed(1)} MiB`;
  if (abs >= 1024) return `${(value / 1024).toFixed(2)} KiB`;
  return `${Math.round(value)} B`;
}

/** Milliseconds, with the precision that suits the size. @param {number} value */
export function formatMs(value) {
  if (value >= 1000) return `${(value / 1000).toFixed(2)} s`;
  if (value >= 100) return `${value.toFixed(0)} ms`;
  if (value >= 10) return `${value.toFixed(1)} ms`;
  return `${value.toFixed(2)} ms`;
}

/** A rate per second. @param {number} value */
export function formatPerSec(value) {
  return `${formatCount(value)}/s`;
}

/** A share as a percentage: `0.934` -> `93.4%`. @param {number} value */
export function formatPercent(value) {
  return `${(value * 100).toFixed(1)}%`;
}

/** A ratio as `12.3x`, with two decimals below 10. @param {number} value */
export function formatRatio(value) {
  return value >= 10 ? `${value.toFixed(1)}x` : `${value.toFixed(2)}x`;
}

/**
 * The load generator a report ran with: native processes or worker threads (reports from before
 * the native generator name no kind: they ran worker threads).
 * @param {{ generator?: string, loadGeneratorWorkers: number }} results
 */
export function generatorText(results) {
  const n = results.loadGeneratorWorkers;
  return results.generator === "native"
    ? `native, ${n} process${n === 1 ? "" : "es"}`
    : `${n} worker thread${n === 1 ? "" : "s"}`;
}
