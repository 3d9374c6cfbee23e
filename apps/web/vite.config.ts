import { defaultClientConditions, defineConfig } from "vite";

export default defineConfig({
  // Served by `tcpchat serve` at `/`: relative asset paths work under any prefix too.
  base: "./",
  // Core's "source" condition: the page bundles core's TypeScript, so no core build is needed.
  resolve: { conditions: ["source", ...defaultClientConditions] },
  build: { outDir: "dist", emptyOutDir: true, target: "es2022" },
});
