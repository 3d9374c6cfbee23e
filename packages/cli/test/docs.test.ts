import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { runCliToEnd } from "./helpers/cli-process.js";

// The command-line reference in the docs site must name every flag the program accepts.
const DOC = readFileSync(
  resolve(dirname(fileURLToPath(import.meta.url)), "../../../apps/docs/guide/cli.md"),
  "utf8",
);

describe("docs/guide/cli.md", () => {
  it.each([["serve"], ["connect"], ["doctor"], ["policy"], ["account"]])(
    "documents every flag of tcpchat %s",
    async (command) => {
      const { stdout } = await runCliToEnd([command, "--help"]);
      // Option lines: "  --flag ..." or "  -h, --help ...".
      const flags = new Set(
        [...stdout.matchAll(/^ {2}(?:-[a-z], )?(--[a-z][a-z-]+)/gm)].map((m) => m[1]!),
      );
      expect(flags.size).toBeGreaterThan(2);
      const missing = [...flags].filter((flag) => !DOC.includes(`\`${flag}`));
      expect(missing).toEqual([]);
    },
  );
});
