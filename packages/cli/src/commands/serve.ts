import cluster from "node:cluster";
import { existsSync } from "node:fs";
import {
  ChatError,
  type ChatServer,
  type ChatServerOptions,
  createServer,
  DEFAULT_PORT,
  SERVER_SOFTWARE,
} from "@tcpchat/core";
import { type FlagValues, listFlag, parseCommandArgs, parsePort, stringFlag } from "../args.js";
import { CommandError } from "../command-error.js";
import { findPortHolders } from "../doctor/port-holders.js";
import { EXIT_CODE } from "../exit-codes.js";
import { runCommand } from "../invocation.js";
import { formatHostPort } from "../lan-addresses.js";
import { startBanner } from "../serve/banner.js";
import {
  clusterFlagHelp,
  clusterFlagSpec,
  clusterFlags,
  isWorker,
  isWorkerPrimary,
  runWorkerPrimary,
} from "../serve/cluster-flags.js";
import { createOperatorConsole } from "../serve/console.js";
import {
  checkDataFitsWorkers,
  dataFlagHelp,
  dataFlagSpec,
  setupData,
} from "../serve/data-setup.js";
import { createLogger, LOG_FORMAT, type LogFormat } from "../serve/logger.js";
import {
  operatorFlagHelp,
  operatorFlagSpec,
  operatorServerOptions,
  setupOperators,
} from "../serve/operators-setup.js";
import { policyFlagHelp, policyFlagSpec } from "../serve/policy-flags.js";
import { setupPolicy } from "../serve/policy-setup.js";
import { serverFlagHelp, serverFlagSpec, serverOptionsFromFlags } from "../serve/server-flags.js";
import { watchServerEvents } from "../serve/server-log.js";
import { setupTls } from "../serve/tls-setup.js";
import { findWebApp } from "../serve/web-app.js";
import { createLineUi } from "../terminal/line-ui.js";
import { UsageError } from "../usage-error.js";
import type { Command } from "./command.js";

const HELP = `Usage: tcpchat serve [--port N] [--host ADDR] [options]
       tcpchat [options]            (serve is the default command)

Runs a chat server. nc, telnet, \`tcpchat connect\` and the TUI all join on the same port.
The console (this terminal) shows every room's traffic; a typed line is said in the default
room as the operator. Logs go to stderr. Ctrl+C shuts down gracefully (clients are told and
flushed); a second Ctrl+C exits at once. SIGHUP reloads --policy FILE, --operators FILE and
the TLS certificate.

Listening:
  --port N              TCP port (default ${DEFAULT_PORT}; 0 picks a free one)
  --host ADDR           listen on this address only (default: every interface, IPv4 and IPv6);
                        127.0.0.1 means only this machine can connect
  --log-format F        text (default) or json (one JSON object per line on stderr)
  --no-console          do not read operator commands from stdin

TLS (on the same port: plain text, JSON and TLS clients all connect to it):
  --tls-cert FILE       PEM certificate chain (Let's Encrypt: fullchain.pem)
  --tls-key FILE        PEM private key (Let's Encrypt: privkey.pem); both files are
                        reloaded when they change and on SIGHUP, without dropping anyone
  --tls-only            refuse plaintext connections (CHAT_ERR_TLS_REQUIRED)

HTTP and WebSocket (on the same port):
  --http                serve GET /healthz, GET /metrics (Prometheus) and a page at /
  --web-root DIR        serve DIR at / (implies --http; default: the built chat page)
  --websocket           take WebSocket clients at /ws (JSON lines; implies --http)
  --ws-origin ORIGIN    only pages from ORIGIN may open a WebSocket; repeatable
                        (https://chat.example.org); programs without Origin still may

Cluster (servers that share rooms, presence, nicks and DMs through Redis):
${clusterFlagHelp()}

Data (history, bans, topics and accounts survive a restart):
${dataFlagHelp()}

Operators and accounts:
${operatorFlagHelp()}

Limits (every one has a default suited to a LAN chat):
${serverFlagHelp()}

Accept policy (who may connect; checked before a session exists):
${policyFlagHelp()}

Console commands: /say /kick /ban /unban /bans /topic /who /rooms /stats /shutdown /help

Examples:
  tcpchat serve                                  every interface, port 3000
  tcpchat serve --port 4000 --host 127.0.0.1     this machine only
  tcpchat serve --allow 192.168.1.0/24 --max-per-address 4 --connect-rate 5/s
  tcpchat serve --policy policy.toml --log-format json 2>server.log
  tcpchat serve --tls-cert fullchain.pem --tls-key privkey.pem
  tcpchat serve --redis redis://127.0.0.1:6379 --workers 4
  pnpm --filter cli start -- --port 4000

Exit codes: 0 stopped normally, 1 failure, 2 bad flag or value (or the port needs privileges,
or --host is not an address of this machine), 10 the port is already in use, 130 forced by a
second Ctrl+C.`;

/** `tcpchat serve`: the server, its start banner, the operator console, logs and signals. */
export const serveCommand: Command = {
  name: "serve",
  summary: "run a chat server with an operator console (default command)",
  help: HELP,
  async run(argv, io) {
    const { flags, positionals } = parseCommandArgs("serve", argv, {
      port: { type: "string", short: "p" },
      host: { type: "string" },
      "log-format": { type: "string" },
      "no-console": { type: "boolean" },
      "tls-cert": { type: "string" },
      "tls-key": { type: "string" },
      "tls-only": { type: "boolean" },
      http: { type: "boolean" },
      "web-root": { type: "string" },
      websocket: { type: "boolean" },
      "ws-origin": { type: "string", multiple: true },
      ...serverFlagSpec(),
      ...policyFlagSpec(),
      ...clusterFlagSpec(),
      ...dataFlagSpec(),
      ...operatorFlagSpec(),
    });
    if (positionals.length > 0) {
      throw new UsageError(
        `serve takes no arguments, got "${positionals[0]}". See: tcpchat serve --help`,
      );
    }
    const port = parsePort("--port", stringFlag(flags, "port") ?? String(DEFAULT_PORT), true);
    const host = stringFlag(flags, "host");
    const clustering = clusterFlags(flags);
    checkDataFitsWorkers(flags, clustering.workers);
    // Logs go to stderr; while the console's prompt is on the same terminal, they go above it.
    let writeLog = (text: string): void => void io.stderr.write(text);
    const logger = createLogger(parseLogFormat(flags), { write: (text: string) => writeLog(text) });
    if (isWorkerPrimary(clustering)) return runWorkerPrimary(clustering.workers, logger);
    const serverOptions = { ...serverOptionsFromFlags(flags), ...operatorServerOptions(flags) };
    const tls = startupStep(() => setupTls(flags, logger));
    let data: ReturnType<typeof setupData>;
    try {
      data = setupData(flags, logger, clustering.workers);
    } catch (error) {
      tls.close();
      throw error;
    }
    let policy: Awaited<ReturnType<typeof setupPolicy>>;
    try {
      policy = await setupPolicy(flags, logger, { onAutomaticBan: data.saveAutomaticBan });
    } catch (error) {
      data.close();
      tls.close();
      throw error;
    }
    let operators: Awaited<ReturnType<typeof setupOperators>>;
    try {
      operators = await setupOperators(flags, data.store, logger);
    } catch (error) {
      policy.close();
      data.close();
      tls.close();
      throw error;
    }
    const restoredBans = data.restoreBans(policy.bans);
    const server = startupStep<ChatServer>(() =>
      createServer({
        ...serverOptions,
        ...tls.options,
        ...webOptions(flags),
        ...(clustering.redis === undefined ? {} : { redis: clustering.redis }),
        policy: policy.policy,
        store: data.store,
        history: data.history,
      }),
    );
    data.watch(server);
    tls.attach(server);
    // A failed listen also arrives as an "error" event; listen's rejection reports it (once,
    // explained), so the event is logged only once the server is up.
    const ignoreListenError = (): void => {};
    server.on("error", ignoreListenError);

    let bound: Awaited<ReturnType<typeof server.listen>>;
    try {
      bound = await server.listen(port, host);
    } catch (error) {
      policy.close();
      tls.close();
      await server.close({ graceMs: 0 });
      data.close();
      throw await listenError(error, port, host);
    }
    server.off("error", ignoreListenError);
    operators.apply(server);
    server.on("error", (error: Error) => logger.error("server-error", error.message));
    const stopServerLog = watchServerEvents(server, logger);
    // Workers share one port: the first one shows the banner for all of them.
    if (!isWorker() || cluster.worker?.id === 1) {
      io.stdout.write(
        `${startBanner(bound, SERVER_SOFTWARE, { data: data.description, console: flags["no-console"] !== true && !isWorker() })}\n${chatPageLine(flags, bound)}\n`,
      );
    }
    logger.info("listening", `listening on ${formatHostPort(bound.address, bound.port)}`, {
      address: bound.address,
      port: bound.port,
      policy: policy.describe(),
      tls: tls.describe(),
      http: describeWeb(flags),
      ...(server.cluster === undefined ? {} : { node: server.cluster.nodeId }),
      data: data.description,
      restoredBans,
    });

    return new Promise<number>((resolve) => {
      let stopping = false;
      const shutdown = (graceMs?: number, reason = "the operator stopped the server"): void => {
        if (stopping) return;
        stopping = true;
        const grace = graceMs ?? server.settings.shutdownGraceMs;
        logger.info(
          "shutdown",
          `shutting down: telling ${server.stats().connections} clients, up to ${grace} ms to flush`,
        );
        server.close({ graceMs: grace, reason }).then(() => {
          logger.info("closed", "server closed");
          finish(EXIT_CODE.ok);
        });
      };
      const interrupt = (): void => {
        if (!stopping) {
          ui?.print("*** shutting down gracefully; Ctrl+C again to exit at once");
          shutdown();
          return;
        }
        logger.warn("forced", "second interrupt: exiting without waiting for clients");
        finish(EXIT_CODE.interrupted);
      };
      const onSigterm = () => shutdown(undefined, "the server is stopping");
      const onSighup = () => {
        void policy.reload("SIGHUP");
        void operators.reload("SIGHUP");
        tls.reload("SIGHUP");
      };
      process.on("SIGINT", interrupt);
      process.on("SIGTERM", onSigterm);
      process.on("SIGHUP", onSighup);

      // Workers never read stdin: one terminal cannot be N consoles.
      const consoleEnabled = flags["no-console"] !== true && !isWorker();
      const ui = consoleEnabled
        ? createLineUi({
            input: process.stdin,
            output: process.stdout,
            prompt: "operator> ",
            onLine: (line) => operator.handle(line),
            onInterrupt: interrupt,
            // What the operator says comes back as room traffic, with a timestamp.
            eraseSubmitted: (line) =>
              line.trim() !== "" && (!line.startsWith("/") || line.startsWith("//")),
            onEnd: () => {
              // A server started from a script with stdin at EOF must keep serving.
              if (!stopping)
                logger.info(
                  "console",
                  "console input ended; the server keeps running (SIGINT or SIGTERM stops it)",
                );
            },
          })
        : undefined;
      const print = (text: string) => (ui ? ui.print(text) : io.stdout.write(`${text}\n`));
      if (ui?.interactive && process.stderr.isTTY)
        writeLog = (text) => ui.print(text.replace(/\n$/, ""));
      const operator = createOperatorConsole({
        server,
        bans: data.persistBans(policy.bans),
        print,
        shutdown: (graceMs) => shutdown(graceMs),
      });

      let finished = false;
      function finish(code: number): void {
        if (finished) return;
        finished = true;
        process.off("SIGINT", interrupt);
        process.off("SIGTERM", onSigterm);
        process.off("SIGHUP", onSighup);
        operator.stop();
        stopServerLog();
        ui?.close();
        policy.close();
        tls.close();
        data.close();
        resolve(code);
      }
    });
  },
};

async function portInUseError(where: string, port: number): Promise<CommandError> {
  const holders = await findPortHolders(port);
  const heldBy =
    holders.length > 0
      ? `: it is held by ${holders.map((h) => `pid ${h.pid} (${h.command})`).join(", ")}`
      : ": another program listens on it";
  const see =
    holders.length > 0
      ? ""
      : ` See what holds it with \`${runCommand()} doctor --local ${port}\` or \`ss -ltnp 'sport = :${port}'\`.`;
  return new CommandError(`${where} is already in use${heldBy}.`, {
    hint: `Pick another port with --port (--port 0 picks a free one), or stop that program.${see}`,
    exitCode: EXIT_CODE.portInUse,
  });
}

/** HTTP and WebSocket options from `--http --web-root DIR --websocket --ws-origin ORIGIN`. */
function webOptions(flags: FlagValues): Pick<ChatServerOptions, "http" | "webSocket"> {
  const webRoot = stringFlag(flags, "web-root");
  const origins = listFlag(flags, "ws-origin");
  const webSocket = flags.websocket === true;
  if (origins.length > 0 && !webSocket) {
    throw new UsageError("--ws-origin limits WebSocket clients: add --websocket");
  }
  for (const origin of origins) {
    if (!/^https?:\/\/[^/\s]+$/.test(origin)) {
      throw new UsageError(
        `--ws-origin takes an origin such as https://chat.example.org (scheme and host, no path), got "${origin}"`,
      );
    }
  }
  if (webRoot !== undefined && !existsSync(webRoot)) {
    throw new UsageError(`--web-root ${webRoot} does not exist`);
  }
  // Without --web-root, the built browser chat is the page at `/` when there is one.
  const staticDir = webRoot ?? findWebApp();
  const wantsHttp = webRoot !== undefined || flags.http === true || webSocket;
  const http = !wantsHttp ? false : staticDir !== undefined ? { staticDir } : true;
  return {
    ...(http === false ? {} : { http }),
    ...(webSocket ? { webSocket: origins.length > 0 ? { allowedOrigins: origins } : true } : {}),
  };
}

/** "Chat in a browser: URL" when the built chat page is served with WebSocket, else nothing. */
function chatPageLine(flags: FlagValues, bound: { address: string; port: number }): string {
  if (flags.websocket !== true || stringFlag(flags, "web-root") !== undefined) return "";
  if (findWebApp() === undefined) return "";
  const wildcard = bound.address === "::" || bound.address === "0.0.0.0";
  const host = formatHostPort(wildcard ? "localhost" : bound.address, bound.port);
  return `Chat in a browser: http://${host}/\n`;
}

function describeWeb(flags: FlagValues): string {
  const parts: string[] = [];
  if (
    flags.http === true ||
    stringFlag(flags, "web-root") !== undefined ||
    flags.websocket === true
  ) {
    parts.push("http");
  }
  if (flags.websocket === true) parts.push("websocket");
  return parts.length === 0 ? "off" : parts.join("+");
}

/** Runs a startup step; a TLS certificate that does not load is a usage error (exit 2). */
function startupStep<T>(step: () => T): T {
  try {
    return step();
  } catch (error) {
    if (error instanceof ChatError && error.code === "CHAT_ERR_TLS_CREDENTIALS") {
      throw new UsageError(`${error.code}: ${error.message} (hint: ${error.hint})`);
    }
    throw error;
  }
}

function parseLogFormat(flags: FlagValues): LogFormat {
  const raw = stringFlag(flags, "log-format") ?? LOG_FORMAT.text;
  if (raw !== LOG_FORMAT.text && raw !== LOG_FORMAT.json) {
    throw new UsageError(`--log-format must be text or json, got "${raw}"`);
  }
  return raw;
}

async function listenError(error: unknown, port: number, host: string | undefined): Promise<Error> {
  if (error instanceof ChatError && error.code === "CHAT_ERR_REDIS_UNREACHABLE") {
    return new CommandError(`${error.code}: ${error.message}`, {
      hint: error.hint,
      exitCode: EXIT_CODE.failure,
    });
  }
  const code = (error as NodeJS.ErrnoException).code;
  const where = host === undefined ? `port ${port}` : formatHostPort(host, port);
  switch (code) {
    case "EADDRINUSE":
      return portInUseError(where, port);
    case "EACCES":
      return new UsageError(
        `no permission to listen on ${where}: ports below 1024 need privileges. Use a port from 1024 up, such as the default ${DEFAULT_PORT}`,
      );
    case "EADDRNOTAVAIL":
      return new UsageError(
        `${host} is not an address of this machine, so the server cannot listen on it. Leave out --host to listen on every interface`,
      );
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return new UsageError(`--host ${host} does not resolve to an address`);
    default:
      return error instanceof Error ? error : new Error(String(error));
  }
}
