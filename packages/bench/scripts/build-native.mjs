// Builds the native load generator (native/*.c) into dist/loadgen with the system's C
// compiler: plain C11 and Linux epoll, nothing downloaded. Where there is no compiler (or not
// Linux), the bench runs its JavaScript generator instead and says why; the build still passes.
import { spawnSync } from "node:child_process";
import { mkdirSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const packageDir = join(dirname(fileURLToPath(import.meta.url)), "..");
const sources = readdirSync(join(packageDir, "native"))
  .filter((name) => name.endsWith(".c"))
  .map((name) => join("native", name));
const compiler = process.env.CC || "cc";

if (process.platform !== "linux") {
  console.log(
    "native load generator: not built (it needs Linux epoll); the bench uses --generator js",
  );
  process.exit(0);
}
mkdirSync(join(packageDir, "dist"), { recursive: true });
const built = spawnSync(
  compiler,
  ["-O2", "-std=c11", "-Wall", "-Wextra", "-o", join("dist", "loadgen"), ...sources],
  { cwd: packageDir, encoding: "utf8" },
);
if (built.error) {
  console.log(
    `native load generator: not built (${compiler}: ${built.error.message}); the bench uses --generator js`,
  );
  process.exit(0);
}
if (built.status !== 0) {
  process.stderr.write(built.stderr);
  process.exit(built.status ?? 1);
}
if (built.stderr) process.stderr.write(built.stderr);
