import * as hdr from "hdr-histogram-js";

/** Latency figures of one run, in milliseconds (recorded in microseconds). */
export interface LatencySummary {
  count: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
}

/** A histogram for latencies in microseconds, from 1 µs to 10 minutes, 3 significant digits. */
export function createLatencyHistogram(): hdr.Histogram {
  return hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 600_000_000,
    numberOfSignificantValueDigits: 3,
    autoResize: true,
  });
}

/** Serializes a histogram to pass it between threads. */
export function encodeHistogram(histogram: hdr.Histogram): string {
  return hdr.encodeIntoCompressedBase64(histogram);
}

/** Merges serialized histograms (one per worker) into one. */
export function mergeHistograms(encoded: readonly string[]): hdr.Histogram {
  const merged = createLatencyHistogram();
  for (const item of encoded) {
    const part = hdr.decodeFromCompressedBase64(item);
    merged.add(part);
  }
  return merged;
}

/** Percentiles of a histogram of microseconds, in milliseconds. */
export function summarizeLatency(histogram: hdr.Histogram): LatencySummary {
  const ms = (us: number) => us / 1000;
  const count = histogram.totalCount;
  if (count === 0) return { count: 0, p50Ms: 0, p90Ms: 0, p99Ms: 0, p999Ms: 0, maxMs: 0 };
  return {
    count,
    p50Ms: ms(histogram.getValueAtPercentile(50)),
    p90Ms: ms(histogram.getValueAtPercentile(90)),
    p99Ms: ms(histogram.getValueAtPercentile(99)),
    p999Ms: ms(histogram.getValueAtPercentile(99.9)),
    maxMs: ms(histogram.maxValue),
  };
}
