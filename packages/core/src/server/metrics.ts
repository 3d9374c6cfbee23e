/**
 * The Prometheus text exposition format (version 0.0.4), written by hand: a handful of families,
 * no dependency. Each family has one HELP and one TYPE line, then its samples; label values are
 * escaped (backslash, double quote, newline) as the format requires.
 */

/** One metric family. Counters end in `_total`; every sample of a family shares its labels' names. */
export interface MetricFamily {
  name: string;
  help: string;
  type: "counter" | "gauge";
  samples: ReadonlyArray<{ labels?: Record<string, string>; value: number }>;
}

/** Renders families in the text format, one sample per line, ending with a newline. */
export function formatMetrics(families: readonly MetricFamily[]): string {
  let out = "";
  for (const family of families) {
    out += `# HELP ${family.name} ${escapeHelp(family.help)}\n`;
    out += `# TYPE ${family.name} ${family.type}\n`;
    for (const sample of family.samples) {
      out += `${family.name}${formatLabels(sample.labels)} ${formatValue(sample.value)}\n`;
    }
  }
  return out;
}

function formatLabels(labels: Record<string, string> | undefined): string {
  if (labels === undefined) return "";
  const parts = Object.entries(labels).map(([key, value]) => `${key}="${escapeLabel(value)}"`);
  return parts.length === 0 ? "" : `{${parts.join(",")}}`;
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Number.POSITIVE_INFINITY) return "+Inf";
  if (value === Number.NEGATIVE_INFINITY) return "-Inf";
  return String(value);
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

function escapeHelp(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}
