import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

/**
 * Where the built browser chat (`@tcpchat/web`, its `dist`) is, or undefined when it is not
 * installed or not built. `serve --http` without `--web-root` serves it at `/`; the cli's
 * start script builds it first (it is a dev dependency, so turbo builds it before the cli).
 */
export function findWebApp(): string | undefined {
  try {
    const manifest = createRequire(import.meta.url).resolve("@tcpchat/web/package.json");
    const dist = join(dirname(manifest), "dist");
    return existsSync(join(dist, "index.html")) ? dist : undefined;
  } catch {
    return undefined;
  }
}
