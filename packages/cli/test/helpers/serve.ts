import { expect } from "vitest";
import { type CliProcess, runCli } from "./cli-process.js";

/** A `tcpchat serve` child on 127.0.0.1 and a free port, with its stdin open as the console. */
export async function startServe(
  extraArgs: string[] = [],
  env?: NodeJS.ProcessEnv,
): Promise<{ serve: CliProcess; port: number }> {
  const serve = runCli(["serve", "--port", "0", "--host", "127.0.0.1", ...extraArgs], env);
  const match = await serve.waitForStderr(/listening on 127\.0\.0\.1:(\d+)/);
  return { serve, port: Number(match[1]) };
}

/** Stops a `tcpchat serve` child the way an init system does, and expects a clean exit. */
export async function stopServe(serve: CliProcess): Promise<void> {
  serve.signal("SIGTERM");
  expect(await serve.waitExit()).toBe(0);
}
