import { defineConfig } from "vitest/config";

export default defineConfig({
  resolve: { conditions: ["source"] },
  // Tests run in Vite's server environment, which takes its conditions from `ssr.resolve`.
  ssr: { resolve: { conditions: ["source"] } },
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Servers the tests start keep nothing on disk (and never share the per-user data
    // directory, which one server at a time may use); tests of --data pass a directory.
    env: { TCPCHAT_DATA: ":memory:" },
  },
});
