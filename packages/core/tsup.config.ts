import { defineConfig } from "tsup";

export default defineConfig({
  entry: {
    index: "src/index.ts",
    browser: "src/browser.ts",
    // The history writer's thread: BackgroundWriter starts dist/history-worker.js beside
    // dist/index.js (a worker runs a file of its own, so it cannot live inside the bundle).
    "history-worker": "src/store/history-worker.js",
    // The full-text search's thread (BackgroundSearch), the same way.
    "search-worker": "src/store/search-worker.js",
  },
  format: ["esm"],
  dts: { entry: { index: "src/index.ts", browser: "src/browser.ts" } },
  sourcemap: true,
  clean: true,
  target: "node20",
  // The confusables table is JSON: bundled, so that Node's ESM loader (which needs an import
  // attribute for JSON) never loads it at run time.
  noExternal: ["unhomoglyph"],
});
