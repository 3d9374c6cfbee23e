// @ts-check
/**
 * Grouped horizontal bar charts as standalone SVG: no fonts to fetch, no scripts, so the file
 * renders the same in an <img>, in a browser tab and on a code host's file view.
 */

/**
 * @typedef {object} ChartSeries
 * @property {string} name     legend label, such as a server's name
 * @property {string} color    bar fill
 * @property {Array<number | undefined>} values  one per group; undefined: not measured
 */

/**
 * @typedef {object} BarChart
 * @property {string} title
 * @property {string} subtitle            what the axis measures and which way is better
 * @property {string[]} groups            one label per group of bars
 * @property {ChartSeries[]} series
 * @property {(value: number) => string} format  the label written at the end of each bar
 */

/** Colours of the measured server and the baseline, readable on white and for most colour blindness. */
export const SERIES_COLORS = ["#3e63dd", "#e5484d", "#10b981", "#f59e0b"];

const WIDTH = 760;
const LABEL_WIDTH = 200;
const VALUE_WIDTH = 96;
const BAR_HEIGHT = 20;
const BAR_GAP = 4;
const GROUP_GAP = 16;
const TOP = 64;
const FONT =
  "font-family=\"ui-sans-serif, system-ui, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif\"";

/** @param {string} text */
export function escapeXml(text) {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * Renders a chart. The scale is linear from zero to the largest value, so bar lengths compare
 * honestly; each bar also carries its value, since a 20x gap leaves the short bar a sliver.
 * @param {BarChart} chart
 * @returns {string} an SVG document
 */
export function renderBarChart(chart) {
  const measured = chart.series.flatMap((s) => s.values).filter((v) => v !== undefined);
  const max = Math.max(0, ...measured);
  const plotWidth = WIDTH - LABEL_WIDTH - VALUE_WIDTH - 16;
  const groupHeight = chart.series.length * (BAR_HEIGHT + BAR_GAP) - BAR_GAP;
  const legendTop = TOP + chart.groups.length * (groupHeight + GROUP_GAP);
  const height = legendTop + 36;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" role="img" aria-label="${escapeXml(chart.title)}">`,
    `<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    `<text x="16" y="28" ${FONT} font-size="17" font-weight="600" fill="#1b1b1f">${escapeXml(chart.title)}</text>`,
    `<text x="16" y="48" ${FONT} font-size="12" fill="#67676c">${escapeXml(chart.subtitle)}</text>`,
  ];
  chart.groups.forEach((group, g) => {
    const groupTop = TOP + g * (groupHeight + GROUP_GAP);
    parts.push(
      `<text x="${LABEL_WIDTH - 10}" y="${groupTop + groupHeight / 2 + 4}" ${FONT} font-size="13" fill="#1b1b1f" text-anchor="end">${escapeXml(group)}</text>`,
    );
    chart.series.forEach((series, s) => {
      const y = groupTop + s * (BAR_HEIGHT + BAR_GAP);
      const value = series.values[g];
      if (value === undefined) {
        parts.push(
          `<text x="${LABEL_WIDTH + 4}" y="${y + BAR_HEIGHT / 2 + 4}" ${FONT} font-size="12" fill="#67676c">not measured</text>`,
        );
        return;
      }
      const length = max > 0 ? Math.max(1, (value / max) * plotWidth) : 1;
      parts.push(
        `<rect x="${LABEL_WIDTH}" y="${y}" width="${length.toFixed(1)}" height="${BAR_HEIGHT}" rx="3" fill="${series.color}"><title>${escapeXml(`${series.name}: ${chart.format(value)}`)}</title></rect>`,
        `<text x="${(LABEL_WIDTH + length + 6).toFixed(1)}" y="${y + BAR_HEIGHT / 2 + 4}" ${FONT} font-size="12" fill="#1b1b1f">${escapeXml(chart.format(value))}</text>`,
      );
    });
  });
  let legendX = LABEL_WIDTH;
  for (const series of chart.series) {
    parts.push(
      `<rect x="${legendX}" y="${legendTop + 10}" width="12" height="12" rx="2" fill="${series.color}"/>`,
      `<text x="${legendX + 18}" y="${legendTop + 20}" ${FONT} font-size="12" fill="#1b1b1f">${escapeXml(series.name)}</text>`,
    );
    legendX += 36 + series.name.length * 7;
  }
  parts.push("</svg>");
  return `${parts.join("\n")}\n`;
}
