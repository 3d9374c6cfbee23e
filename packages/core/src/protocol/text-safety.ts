/**
 * What the server does with characters that could move a reader's cursor (spec 3.4): every
 * user-supplied text (messages, `/me`, DMs, quit and part reasons, the hello's client name) is
 * neutralized before anyone sees it, in every mode, so that text-mode output, the CLI, the
 * operator console and the log never carry a peer's raw control sequence or line break:
 *
 * - TAB becomes one space (tab stops would let text line up under other columns);
 * - other C0 controls (U+0000-U+001F) and DEL become their visible Control Pictures
 *   (U+2400-U+2421: ESC shows as "␛"), so an escape sequence is shown, never run;
 * - C1 controls (U+0080-U+009F, some terminals run them like ESC sequences), the line and
 *   paragraph separators U+2028/U+2029, and the bidi embeddings, overrides and isolates
 *   (U+202A-U+202E, U+2066-U+2069, which reorder the rest of a line) become U+FFFD.
 *
 * Names (nicks and rooms) are refused instead (see names.ts): a name is an identity, and an
 * altered identity would be a different one.
 */

// One class for the common case: most texts contain none of these, and then nothing is copied.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
const UNSAFE_ALL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

const TAB = 0x09;
const DEL = 0x7f;
const CONTROL_PICTURES = 0x2400;
const SYMBOL_FOR_DELETE = "\u2421";
const REPLACEMENT = "\ufffd";

function neutralizeOne(char: string): string {
  const code = char.charCodeAt(0);
  if (code === TAB) return " ";
  if (code < 0x20) return String.fromCharCode(CONTROL_PICTURES + code);
  if (code === DEL) return SYMBOL_FOR_DELETE;
  return REPLACEMENT;
}

/** Whether a text holds anything {@link neutralizeText} would change. */
export function hasUnsafeCharacters(text: string): boolean {
  return UNSAFE.test(text);
}

/**
 * Makes a peer's text safe to show on a terminal (see the module comment). Returns the same
 * string when there is nothing to change.
 */
export function neutralizeText(text: string): string {
  return UNSAFE.test(text) ? text.replace(UNSAFE_ALL, neutralizeOne) : text;
}

/** Neutralizes a short free-text field (a reason, a client name) and caps it at `max` code points. */
export function neutralizeField(text: string, max: number): string {
  const safe = neutralizeText(text).trim();
  if (safe.length <= max) return safe;
  const points = [...safe];
  return points.length <= max ? safe : `${points.slice(0, max - 1).join("")}…`;
}

/**
 * A copy of a frame with every string field (and strings in arrays and nested objects)
 * neutralized, for clients that show frames from a server they do not trust; the frame itself
 * when nothing needed it.
 */
export function neutralizeFrame<T extends object>(frame: T): T {
  let copy: Record<string, unknown> | undefined;
  for (const [key, value] of Object.entries(frame)) {
    const safe = neutralizeValue(value);
    if (safe !== value) {
      copy ??= { ...frame } as Record<string, unknown>;
      copy[key] = safe;
    }
  }
  return (copy ?? frame) as T;
}

function neutralizeValue(value: unknown): unknown {
  if (typeof value === "string") return neutralizeText(value);
  if (Array.isArray(value)) {
    const items = value.map(neutralizeValue);
    return items.some((item, i) => item !== value[i]) ? items : value;
  }
  if (typeof value === "object" && value !== null) return neutralizeFrame(value);
  return value;
}
