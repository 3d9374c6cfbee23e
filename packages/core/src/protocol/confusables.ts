import CONFUSABLES from "unhomoglyph/data.json";

/**
 * TR39 skeletons (Unicode Technical Standard #39, section 4): two strings are confusable when
 * their skeletons are equal. The prototype mapping is the Unicode consortium's confusables.txt,
 * as shipped in the `unhomoglyph` package (data.json, one source character to its prototype),
 * so the table is maintained upstream rather than by hand here.
 */

const PROTOTYPES = new Map<number, string>();
for (const [source, prototype] of Object.entries(CONFUSABLES as Record<string, string>)) {
  const code = source.codePointAt(0);
  // confusables.txt maps single code points; anything else is not a mapping entry.
  if (code !== undefined && String.fromCodePoint(code) === source) {
    PROTOTYPES.set(code, prototype);
  }
}

/** skeleton(X) = NFD(prototypes of each character of NFD(X)) (TR39 section 4). */
export function skeleton(text: string): string {
  let out = "";
  for (const char of text.normalize("NFD")) {
    out += PROTOTYPES.get(char.codePointAt(0)!) ?? char;
  }
  return out.normalize("NFD");
}
