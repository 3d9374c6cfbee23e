import { readFileSync } from "node:fs";
import { ERROR_CODES } from "@tcpchat/core";
import { describe, expect, it } from "vitest";

const page = readFileSync(new URL("../reference/errors.md", import.meta.url), "utf8");
const tableCodes = Object.keys(ERROR_CODES).sort();

/** Codes that have a section of their own: a `### \`CODE\`` heading. */
const documented = [...page.matchAll(/^### `(CHAT_ERR_[A-Z0-9_]+)`$/gm)].map((m) => m[1]!);

describe("errors page", () => {
  it("has a section for every code in core's table, and none for a code the table lacks", () => {
    const missingOnPage = tableCodes.filter((code) => !documented.includes(code));
    const unknownToCore = documented.filter((code) => !tableCodes.includes(code));
    expect({ missingOnPage, unknownToCore }).toEqual({ missingOnPage: [], unknownToCore: [] });
  });

  it("documents each code once", () => {
    const repeated = documented.filter((code, i) => documented.indexOf(code) !== i);
    expect(repeated).toEqual([]);
  });

  it("mentions no code, anywhere in its text, that core does not have", () => {
    const mentioned = new Set(page.match(/CHAT_ERR_[A-Z0-9_]*[A-Z0-9]/g) ?? []);
    // The generic placeholder in format examples is not a code.
    mentioned.delete("CHAT_ERR_CODE");
    expect([...mentioned].filter((code) => !tableCodes.includes(code))).toEqual([]);
  });

  it("gives each code its kind as core's table does, and what to do", () => {
    for (const code of tableCodes) {
      const start = page.indexOf(`### \`${code}\``);
      const end = page.indexOf("\n#", start + 1);
      const section = page.slice(start, end === -1 ? undefined : end);
      const kind = ERROR_CODES[code as keyof typeof ERROR_CODES].kind;
      expect(section, code).toContain(`**Kind:** ${kind}`);
      expect(section, code).toContain("**What to do:**");
    }
  });
});
