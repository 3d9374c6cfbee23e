import type { MarkdownRenderer } from "vitepress";

/** Tables with at least this many columns are shown as one card per row on a phone. */
export const STACK_MIN_COLUMNS = 3;

type Token = ReturnType<MarkdownRenderer["parse"]>[number];

/** The plain text of a header cell's inline token: code spans keep their text, markup drops. */
function plainText(inline: Token | undefined): string {
  if (!inline?.children) return inline?.content ?? "";
  return inline.children
    .filter((child) => child.type === "text" || child.type === "code_inline")
    .map((child) => child.content)
    .join("")
    .trim();
}

/** Number of header cells of the table that opens at `tokens[start]`. */
function countColumns(tokens: Token[], start: number): number {
  let columns = 0;
  for (let i = start + 1; i < tokens.length && tokens[i]!.type !== "thead_close"; i++) {
    if (tokens[i]!.type === "th_open") columns++;
  }
  return columns;
}

/**
 * Makes tables fit a narrow column.
 *
 * - Marks tables of several columns with the class `tc-stack` and labels every body cell with its
 *   column's header (`data-label`): on a phone the theme's CSS lays each row out as a card with
 *   the label above each cell, so no cell is cut off and no table scrolls sideways.
 * - Lets inline code in a cell wrap after `_` and `/` between letters or digits, and after a `.`
 *   before a letter (`CHAT_ERR_CONN_<wbr>REFUSED`, `net.<wbr>core`, never inside `127.0.0.1`),
 *   so an error code, a path or a sysctl name breaks where a reader expects it.
 */
export function tableLabels(md: MarkdownRenderer): void {
  md.core.ruler.push("tc_table_labels", (state) => {
    const tokens = state.tokens;
    let headers: string[] = [];
    let column = 0;
    let inTable = false;
    for (let i = 0; i < tokens.length; i++) {
      const token = tokens[i]!;
      switch (token.type) {
        case "table_open":
          inTable = true;
          headers = [];
          if (countColumns(tokens, i) >= STACK_MIN_COLUMNS) token.attrJoin("class", "tc-stack");
          break;
        case "table_close":
          inTable = false;
          break;
        case "th_open":
          headers.push(plainText(tokens[i + 1]));
          break;
        case "tr_open":
          column = 0;
          break;
        case "td_open": {
          const label = headers[column++];
          if (label) token.attrSet("data-label", label);
          break;
        }
        case "inline":
          if (!inTable) break;
          for (const child of token.children ?? []) {
            if (child.type === "code_inline") child.meta = { ...child.meta, inTable: true };
          }
          break;
      }
    }
  });

  // VitePress writes `<table tabindex="0">` as a fixed string, which would drop the class. The
  // tabindex let a keyboard scroll a table; tables no longer scroll, so it is not kept.
  md.renderer.rules.table_open = (tokens, idx, _options, _env, self) =>
    `<table${self.renderAttrs(tokens[idx]!)}>\n`;

  const renderCode = md.renderer.rules.code_inline;
  md.renderer.rules.code_inline = (tokens, idx, options, env, self) => {
    const html = renderCode
      ? renderCode(tokens, idx, options, env, self)
      : `<code>${md.utils.escapeHtml(tokens[idx]!.content)}</code>`;
    if (!tokens[idx]!.meta?.inTable) return html;
    // Only text between tags: the escaped content has no `_`, `.` or `/` inside an entity.
    return html.replace(
      />([^<]*)</,
      (_all, text: string) =>
        `>${text.replace(/(?<=[A-Za-z0-9])([_/](?=[A-Za-z0-9])|\.(?=[A-Za-z]))/g, "$1<wbr>")}<`,
    );
  };
}
