import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const CORE = resolve(dirname(fileURLToPath(import.meta.url)), "..");
/** Packages the browser entry may pull in: they run in a page as they are. */
const BROWSER_SAFE_PACKAGES = ["valibot"];

/** Every module reachable from `entry` through static imports and re-exports, with its imports. */
function importGraph(entry: string): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  const visit = (file: string): void => {
    if (graph.has(file)) return;
    const source = readFileSync(file, "utf8");
    const imports = [...source.matchAll(/(?:from|import)\s+"([^"]+)"/g)].map(([, from]) => from!);
    graph.set(file, imports);
    for (const from of imports) {
      if (from.startsWith(".")) visit(resolve(dirname(file), from.replace(/\.js$/, ".ts")));
    }
  };
  visit(entry);
  return graph;
}

describe("the browser entry (@tcpchat/core/protocol)", () => {
  const exportsMap = JSON.parse(readFileSync(resolve(CORE, "package.json"), "utf8")).exports;
  const entry = resolve(CORE, exportsMap["./protocol"].source);

  it("is what package.json exports as ./protocol, built by tsup", () => {
    expect(entry).toBe(resolve(CORE, "src/browser.ts"));
    expect(exportsMap["./protocol"].import).toBe("./dist/browser.js");
    expect(readFileSync(resolve(CORE, "tsup.config.ts"), "utf8")).toContain('"src/browser.ts"');
  });

  it("reaches no node: module and no package but the browser-safe ones", () => {
    const graph = importGraph(entry);
    for (const [file, imports] of graph) {
      for (const from of imports) {
        if (from.startsWith(".")) continue;
        expect(BROWSER_SAFE_PACKAGES, `${file} imports ${from}`).toContain(from);
      }
    }
    // The walk must have found the schema, the parser and the name rules.
    const names = [...graph.keys()].map((file) => file.slice(CORE.length + 1));
    // Not the lookalike table (unhomoglyph's data, most of a page's script): the server judges
    // lookalikes, the browser does not need them.
    expect(names).not.toContain("src/protocol/confusables.ts");
    expect(names).toEqual(
      expect.arrayContaining([
        "src/protocol/frame-schema.ts",
        "src/protocol/parse-server.ts",
        "src/protocol/names.ts",
        "src/errors.ts",
      ]),
    );
  });

  it("exports the parser, the name rules and text neutralizing", async () => {
    const browser = await import("../src/browser.js");
    expect(browser.parseServerFrame('{"type":"notice","text":"hi"}').frame).toEqual({
      type: "notice",
      text: "hi",
    });
    expect(browser.normalizeName("#room", "room")).toBe("room");
    expect(browser.neutralizeText("a\u001bb")).toBe("a\u241bb");
    expect(Object.keys(browser)).not.toContain("ChatServer");
  });
});
