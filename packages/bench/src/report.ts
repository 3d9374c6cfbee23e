/** The results report: rows of figures, target checks, and their text and Markdown renderings. */
export { renderMarkdown, renderTable } from "./report/render.js";
export { advantage, type Better, buildRows, type ReportRow } from "./report/rows.js";
export { type TargetCheck, targetChecks } from "./report/targets.js";
