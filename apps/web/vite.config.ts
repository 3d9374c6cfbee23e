import { defineConfig } from "vite";

export default defineConfig({
  // Served by `tcpchat serve` at `/`: relative asset paths work under any prefix too.
  base: "./",
  build: { outDir: "dist", emptyOutDir: true, target: "es2022" },
});
