import { defineConfig } from "tsup";

export default defineConfig({
  // Worker threads and the server child load their own files, so each is an entry of its own.
  entry: {
    main: "src/main.ts",
    flood: "src/flood.ts",
    history: "src/history.ts",
    "cluster-probe": "src/cluster-probe.ts",
    "load-worker": "src/load/worker.ts",
    "server-child": "src/server-child.ts",
  },
  format: ["esm"],
  sourcemap: true,
  clean: true,
  target: "node20",
  banner: { js: "#!/usr/bin/env node" },
});
