// @ts-check
// The browser test reads the built site. Turbo builds before testing; a bare `pnpm test` in a
// fresh clone has no build yet, so build it here rather than fail on a missing folder.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const docsRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..");
if (!existsSync(resolve(docsRoot, ".vitepress/dist/index.html"))) {
  process.stderr.write("docs: no build output yet, building the site first\n");
  const built = spawnSync("pnpm", ["run", "build"], { cwd: docsRoot, stdio: "inherit" });
  if (built.status !== 0) process.exit(built.status ?? 1);
}
