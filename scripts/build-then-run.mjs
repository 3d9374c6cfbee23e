// Runs a workspace program from a fresh clone: builds it (and what it imports) through turbo,
// which caches, so the second start is instant, then hands over argv. Build chatter goes to
// stderr so that the program's stdout stays clean for scripts.
import { spawn, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const [pkg, entry, ...args] = process.argv.slice(2);
const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const turbo = resolve(root, "node_modules/.bin/turbo");
const built = spawnSync(
  turbo,
  ["run", "build", `--filter=${pkg}...`, "--output-logs=errors-only", "--log-prefix=none"],
  { cwd: root, stdio: ["ignore", 2, 2], env: { ...process.env, TURBO_TELEMETRY_DISABLED: "1" } },
);
if (built.status !== 0) {
  process.stderr.write(`build of ${pkg} failed (exit ${built.status})\n`);
  process.exit(built.status ?? 1);
}
// pnpm 10 passes a literal "--" through to scripts; programs drop it themselves too.
const forwarded = args[0] === "--" ? args.slice(1) : args;
// Node flags on the program's shebang line (`#!/usr/bin/env -S node FLAGS`) apply here too.
const entryPath = resolve(process.cwd(), entry);
const shebang = readFileSync(entryPath, "utf8").split("\n", 1)[0] ?? "";
const nodeFlags = /^#!.*\bnode((?:\s+--\S+)*)\s*$/.exec(shebang)?.[1]?.trim().split(/\s+/) ?? [];
const child = spawn(process.execPath, [...nodeFlags.filter(Boolean), entryPath, ...forwarded], {
  stdio: "inherit",
});
// The terminal sends Ctrl+C to the whole process group, so the child already has it: this
// wrapper only has to stay alive until the child decides how to end (graceful, then forced).
process.on("SIGINT", () => {});
process.on("SIGTERM", () => child.kill("SIGTERM"));
process.on("SIGHUP", () => child.kill("SIGHUP"));
child.on("exit", (code, signal) => {
  process.exit(code ?? (signal === "SIGINT" ? 130 : 1));
});
