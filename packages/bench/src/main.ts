/**
 * `pnpm bench`: starts tcpchat and the naive relay in child processes of their own, drives them
 * from load-generator worker threads, and prints the figures side by side.
 */
import { writeFile } from "node:fs/promises";
import { basename } from "node:path";
import { parseArgs, USAGE, UsageError } from "./args.js";
import { renderMarkdown, renderTable, targetChecks } from "./report.js";
import { findRedisServer, RedisNotFoundError } from "./servers/redis-child.js";
import { runSuite } from "./suite.js";

async function main(): Promise<number> {
  let options: ReturnType<typeof parseArgs>;
  try {
    options = parseArgs(process.argv.slice(2));
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`bench: ${err.message}\n\n${USAGE}`);
      return 2;
    }
    throw err;
  }
  if (options.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (options.nodes !== undefined) {
    // Said before anything runs, rather than after the other scenarios.
    try {
      findRedisServer();
    } catch (err) {
      if (!(err instanceof RedisNotFoundError)) throw err;
      process.stderr.write(`bench: ${err.message}\n`);
      return 2;
    }
  }
  process.stderr.write(
    `tcpchat bench: ${[...options.scenarios, ...(options.nodes ? [`cluster of ${options.nodes}`] : [])].join(", ")} with ${options.clients} clients` +
      (options.target ? ` against ${options.target.host}:${options.target.port}` : "") +
      "\n",
  );
  const results = await runSuite(options);
  results.targets = targetChecks(results);
  process.stdout.write(options.markdown ? renderMarkdown(results) : renderTable(results));
  if (options.json) {
    // The figures name their file, not where it was on this machine: results are committed.
    const recorded = { ...results, options: { ...results.options, json: basename(options.json) } };
    await writeFile(options.json, `${JSON.stringify(recorded, null, 2)}\n`);
    process.stderr.write(`raw figures written to ${options.json}\n`);
  }
  process.stderr.write(`done in ${(results.durationMs / 1000).toFixed(1)} s\n`);
  // Lost or duplicated messages and failed scenarios are bugs of tcpchat, the relay or the
  // bench; slow figures are not. What another server (--target) loses is a finding about it.
  // What an attack costs the chatters (abuse/...) is a finding about the server under attack.
  const lost = results.warnings.some((w) => w.includes(" lost and ") && !w.startsWith("abuse/"));
  const broken = results.errors.length > 0 || (lost && !options.target);
  return broken ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(
      `bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exit(1);
  },
);
