import { defineConfig } from "vitest/config";

export default defineConfig({
  resolve: { conditions: ["source"] },
  // Tests run in Vite's server environment, which takes its conditions from `ssr.resolve`: without
  // this, "@tcpchat/core" resolves to its dist/ and fails in a clone where core is not built yet.
  ssr: { resolve: { conditions: ["source"] } },
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 120_000,
    hookTimeout: 180_000,
    passWithNoTests: true,
  },
});
