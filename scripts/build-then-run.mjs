// Runs a workspace program from a fresh clone: builds it (and what it imports) through turbo,
// which caches, so the second start is instant, then hands over argv.
// stdout belongs to the program alone, so that `pnpm --filter cli start connect ... | grep`
// sees only chat lines (pnpm's own "> pkg start" header is silenced by `reporter=silent` in
// .npmrc). turbo's banner is kept out of the way too: its output is shown only when the build
// fails, and a slow (first) build says one line on stderr.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

// After this long without a result the build is a real one (not a cache hit): say so.
const SLOW_BUILD_NOTICE_MS = 1500;

const [pkg, entry, ...args] = process.argv.slice(2);
const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const turbo = resolve(root, "node_modules/.bin/turbo");

const build = await runBuild();
if (build.status !== 0) {
  process.stderr.write(build.output);
  process.stderr.write(`build of ${pkg} failed (exit ${build.status})\n`);
  process.exit(build.status ?? 1);
}

// pnpm 10 passes a literal "--" through to scripts; programs drop it themselves too.
const forwarded = args[0] === "--" ? args.slice(1) : args;
// Node flags on the program's shebang line (`#!/usr/bin/env -S node FLAGS`) apply here too.
const entryPath = resolve(process.cwd(), entry);
const shebang = readFileSync(entryPath, "utf8").split("\n", 1)[0] ?? "";
const nodeFlags = /^#!.*\bnode((?:\s+--\S+)*)\s*$/.exec(shebang)?.[1]?.trim().split(/\s+/) ?? [];
const child = spawn(process.execPath, [...nodeFlags.filter(Boolean), entryPath, ...forwarded], {
  stdio: "inherit",
  // The program's hints name the command that started it, so that they work as typed.
  env: { ...process.env, TCPCHAT_RUN_AS: `pnpm --filter ${pkg.replace(/^@tcpchat\//, "")} start` },
});
// The terminal sends Ctrl+C to the whole process group, so the child already has it: this
// wrapper only has to stay alive until the child decides how to end (graceful, then forced).
process.on("SIGINT", () => {});
process.on("SIGTERM", () => child.kill("SIGTERM"));
process.on("SIGHUP", () => child.kill("SIGHUP"));
child.on("exit", (code, signal) => {
  process.exit(code ?? (signal === "SIGINT" ? 130 : 1));
});

/** Builds through turbo with its output captured: shown only if the build fails. */
function runBuild() {
  return new Promise((resolveBuild) => {
    const chunks = [];
    const building = spawn(
      turbo,
      ["run", "build", `--filter=${pkg}...`, "--output-logs=errors-only", "--log-prefix=none"],
      {
        cwd: root,
        stdio: ["ignore", "pipe", "pipe"],
        env: { ...process.env, TURBO_TELEMETRY_DISABLED: "1" },
      },
    );
    building.stdout.on("data", (chunk) => chunks.push(chunk));
    building.stderr.on("data", (chunk) => chunks.push(chunk));
    const notice = setTimeout(() => {
      process.stderr.write(`building ${pkg} (later starts reuse the build)...\n`);
    }, SLOW_BUILD_NOTICE_MS);
    building.on("error", (error) => {
      clearTimeout(notice);
      resolveBuild({ status: 1, output: `${error.message}\n` });
    });
    building.on("close", (status) => {
      clearTimeout(notice);
      resolveBuild({ status, output: Buffer.concat(chunks).toString("utf8") });
    });
  });
}
