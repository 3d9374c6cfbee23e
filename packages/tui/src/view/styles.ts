/** Maps the state's segment styles to blessed tags (colours for a 256-colour terminal). */
import type { Row, Style } from "../state/format.js";

const NICK_TAGS = [
  "{light-red-fg}",
  "{light-green-fg}",
  "{yellow-fg}",
  "{light-blue-fg}",
  "{light-magenta-fg}",
  "{light-cyan-fg}",
  "{red-fg}",
  "{green-fg}",
];

const TAGS: Record<string, string> = {
  plain: "",
  time: "{grey-fg}",
  dim: "{grey-fg}",
  info: "{cyan-fg}",
  error: "{light-red-fg}{bold}",
  hint: "{yellow-fg}",
  marker: "{light-red-fg}",
  queued: "{yellow-fg}",
  highlight: "{light-yellow-fg}{bold}",
  own: "{bold}",
  tab: "{white-fg}{blue-bg}",
  tabActive: "{black-fg}{cyan-bg}{bold}",
  tabUnread: "{light-white-fg}{blue-bg}{bold}",
  tabHighlight: "{light-yellow-fg}{blue-bg}{bold}",
  bar: "{white-fg}{blue-bg}",
  ok: "{light-green-fg}{blue-bg}{bold}",
  warn: "{light-yellow-fg}{blue-bg}{bold}",
  bad: "{light-red-fg}{blue-bg}{bold}",
  prompt: "{cyan-fg}",
};

function tagFor(style: Style): string {
  if (style.startsWith("nick")) return NICK_TAGS[Number(style.slice(4)) % NICK_TAGS.length]!;
  return TAGS[style] ?? "";
}

// Same as blessed's escape(): braces would otherwise start a tag.
function escapeTags(text: string): string {
  return text.replace(/[{}]/g, (ch) => (ch === "{" ? "{open}" : "{close}"));
}

/** One row as tagged blessed content. */
export function rowToTags(row: Row): string {
  let out = "";
  for (const segment of row) {
    const tag = tagFor(segment.style);
    out += tag === "" ? escapeTags(segment.text) : `${tag}${escapeTags(segment.text)}{/}`;
  }
  return out;
}
