import { DEFAULT_MAX_NAME_LENGTH } from "../defaults.js";
import { ProtocolError } from "../errors.js";

/** What a name is for: decides the error code and whether a leading `#` is dropped. */
export type NameKind = "nick" | "room";

// Whitespace, controls, format characters, separators, surrogates, private use and unassigned
// code points cannot appear in a name (spec 5).
const FORBIDDEN = /[\p{White_Space}\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}\p{Co}\p{Cn}]/u;
// Characters that draw nothing: default-ignorable code points (Hangul fillers U+3164, U+115F,
// U+1160, U+FFA0, the combining grapheme joiner U+034F, variation selectors, ...) and the blank
// glyphs that are not default-ignorable (U+2800 BRAILLE PATTERN BLANK). A name holding one
// looks like the same name without it.
const INVISIBLE = /[\p{Default_Ignorable_Code_Point}\u2800]/u;
const FORBIDDEN_FIRST = /^[#/*!-]/;
/** More combining marks in a row than any script needs stacks them into unreadable glyphs. */
const MAX_COMBINING_MARKS = 3;
const EXCESS_MARKS = new RegExp(`\\p{M}{${MAX_COMBINING_MARKS + 1},}`, "u");

/**
 * Normalizes a nick or room name (spec 5): NFC, leading `#` dropped for rooms, 1 to
 * `maxLength` code points; no whitespace, control, format or invisible characters, no more
 * than three combining marks in a row, no leading `# / * ! -`.
 * Returns the normalized name, or a {@link ProtocolError} that says what is wrong.
 */
export function normalizeName(
  raw: string,
  kind: NameKind,
  maxLength: number = DEFAULT_MAX_NAME_LENGTH,
): string | ProtocolError {
  const code = kind === "nick" ? "CHAT_ERR_INVALID_NICK" : "CHAT_ERR_INVALID_ROOM";
  let name = raw.normalize("NFC");
  if (kind === "room" && name.startsWith("#")) name = name.slice(1);
  const length = [...name].length;
  const fail = (why: string) =>
    new ProtocolError(code, {
      message: `${kind === "nick" ? "Nick" : "Room name"} ${JSON.stringify(raw)} is not valid: ${why}.`,
    });
  if (length === 0) return fail("it is empty");
  if (length > maxLength) return fail(`it has ${length} characters, more than ${maxLength}`);
  if (FORBIDDEN.test(name)) return fail("it contains a space, control or invisible character");
  if (INVISIBLE.test(name)) {
    return fail(
      "it contains a character that draws nothing (a filler, blank or variation selector)",
    );
  }
  if (EXCESS_MARKS.test(name)) {
    return fail(`it stacks more than ${MAX_COMBINING_MARKS} combining marks on one character`);
  }
  if (FORBIDDEN_FIRST.test(name)) return fail("it may not start with # / * ! or -");
  return name;
}

/**
 * Start of the nicks the server gives to sessions that have not picked one (spec 5): the
 * server's namespace, so nobody may pick a nick in it (CHAT_ERR_NICK_RESERVED).
 */
export const GUEST_NICK_PREFIX = "guest-";

/** The key under which a name is unique: NFC plus Unicode case folding (spec 5). */
export function nameKey(name: string): string {
  // toLowerCase after toUpperCase folds most special cases (e.g. ß/ẞ, final sigma) together.
  return name.toUpperCase().toLowerCase().normalize("NFC");
}
