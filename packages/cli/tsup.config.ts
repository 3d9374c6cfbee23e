import { defineConfig } from "tsup";

export default defineConfig({
  entry: ["src/main.ts"],
  format: ["esm"],
  sourcemap: true,
  clean: true,
  target: "node20",
  // The server's Node flags (SERVER_NODE_FLAGS in core's defaults.ts): a capped young generation
  // keeps idle memory per connection low. scripts/build-then-run.mjs reads them from this line.
  banner: { js: "#!/usr/bin/env -S node --max-semi-space-size=4" },
});
