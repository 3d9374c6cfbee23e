import { type CliProcess, runCli } from "./cli-process.js";

/** A `tcpchat serve` child on 127.0.0.1 and a free port, with its stdin open as the console. */
export async function startServe(
  extraArgs: string[] = [],
): Promise<{ serve: CliProcess; port: number }> {
  const serve = runCli(["serve", "--port", "0", "--host", "127.0.0.1", ...extraArgs]);
  const match = await serve.waitForStderr(/listening on 127\.0\.0\.1:(\d+)/);
  return { serve, port: Number(match[1]) };
}
