/**
 * tcpchat-tui: a terminal chat client.
 * `tcpchat-tui [host[:port]] [--nick NAME] [--room ROOM] [--tls [--ca FILE | --insecure]]`.
 */
import { readFileSync } from "node:fs";
import { createClient, DEFAULT_PORT, type TlsClientOptions } from "@tcpchat/core";
import { parseArgs, USAGE } from "./app/args.js";
import { Controller } from "./app/controller.js";
import { initialState } from "./state/reducer.js";
import { TuiView } from "./view/tui-view.js";

const parsed = parseArgs(process.argv.slice(2), DEFAULT_PORT);
if ("error" in parsed) {
  process.stderr.write(`${parsed.error}\n${USAGE}`);
  process.exit(2);
}
if (parsed.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}
if (!process.stdin.isTTY || !process.stdout.isTTY) {
  process.stderr.write(
    "tcpchat-tui needs a terminal on stdin and stdout; for scripts and pipes, use `tcpchat connect`.\n",
  );
  process.exit(2);
}

/** Reads `--ca` now, so that a wrong path is a usage error before the screen opens. */
function tlsOptions(tls: { caFile?: string; insecure?: boolean }): TlsClientOptions {
  if (tls.caFile === undefined) return tls.insecure === true ? { insecure: true } : {};
  try {
    return { ca: readFileSync(tls.caFile, "utf8") };
  } catch (error) {
    process.stderr.write(`--ca: cannot read ${tls.caFile}: ${(error as Error).message}\n`);
    process.exit(2);
  }
}

const client = createClient({
  ...(parsed.tls === undefined ? {} : { tls: tlsOptions(parsed.tls) }),
  host: parsed.host,
  port: parsed.port,
  nick: parsed.nick,
  room: parsed.room,
  clientName: "tcpchat-tui 0.1.0",
  reconnect: { initialDelayMs: 500, maxDelayMs: 15_000 },
});
let view: TuiView | undefined;
const controller = new Controller({
  client,
  state: initialState({
    server: parsed.tls === undefined ? parsed.display : `${parsed.display} (TLS)`,
    nick: parsed.nick,
  }),
  render: (state) => view?.render(state),
  exit: (code) => {
    view?.destroy();
    process.exit(code);
  },
  retry: { initialDelayMs: 500, maxDelayMs: 15_000 },
});
view = new TuiView({ dispatch: controller.dispatch });

function crash(error: unknown): void {
  // Give the terminal back before printing, or the message lands in the alternate screen.
  view?.destroy();
  process.stderr.write(
    `tcpchat-tui crashed: ${error instanceof Error ? error.stack : String(error)}\n`,
  );
  process.exit(1);
}
process.on("uncaughtException", crash);
process.on("unhandledRejection", crash);
for (const signal of ["SIGTERM", "SIGHUP"] as const) {
  process.on(signal, () => controller.dispatch({ type: "quit", reason: undefined }));
}
controller.start();
