import { defineConfig } from "tsup";

export default defineConfig({
  entry: ["src/index.ts", "src/browser.ts"],
  format: ["esm"],
  dts: true,
  sourcemap: true,
  clean: true,
  target: "node20",
  // The confusables table is JSON: bundled, so that Node's ESM loader (which needs an import
  // attribute for JSON) never loads it at run time.
  noExternal: ["unhomoglyph"],
});
