/** Shared setup for the end-to-end tests: a real server, the built TUI in tmux, a 2nd client. */
import { existsSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import {
  type ChatClient,
  type ChatClientEvents,
  type ChatServer,
  createClient,
  createServer,
} from "@tcpchat/core";
import { TmuxPane } from "./tmux.js";

const here = dirname(fileURLToPath(import.meta.url));
/** The built TUI; `pnpm test` builds it first (turbo: test depends on build). */
export const TUI_MAIN = resolve(here, "../dist/main.js");

/** Fails early with a useful message when the TUI (or core's dist it runs on) is not built. */
export function requireBuild(): void {
  const coreDist = resolve(here, "../../core/dist/index.js");
  if (!existsSync(TUI_MAIN) || !existsSync(coreDist)) {
    throw new Error(
      "build first: pnpm --filter @tcpchat/tui... build (or run pnpm test via turbo)",
    );
  }
}

/** Things to close after a test, closed in reverse order. */
export class Cleanup {
  private readonly steps: Array<() => Promise<unknown> | unknown> = [];
  add(step: () => Promise<unknown> | unknown): void {
    this.steps.push(step);
  }
  async run(): Promise<void> {
    for (const step of this.steps.reverse()) await Promise.resolve(step()).catch(() => {});
    this.steps.length = 0;
  }
}

/** Starts a server on 127.0.0.1 (port 0 = any free port). */
export async function startServer(
  cleanup: Cleanup,
  port = 0,
  options: Parameters<typeof createServer>[0] = {},
): Promise<{ server: ChatServer; port: number }> {
  const server = createServer({ shutdownGraceMs: 200, ...options });
  const address = await server.listen(port, "127.0.0.1");
  cleanup.add(() => server.close({ graceMs: 0 }));
  return { server, port: address.port };
}

/** Connects a second client as `nick`. */
export async function startClient(
  cleanup: Cleanup,
  port: number,
  nick: string,
): Promise<ChatClient> {
  const client = createClient({ port, nick });
  cleanup.add(() => client.quit());
  await client.connect();
  return client;
}

/** Runs the built TUI in tmux against 127.0.0.1:port. */
export async function startTui(
  cleanup: Cleanup,
  options: {
    port: number;
    nick: string;
    columns?: number;
    rows?: number;
    recordTo?: string;
    /** More arguments for the TUI (`--tls`, `--ca FILE`, ...). */
    extraArgs?: string[];
  },
): Promise<TmuxPane> {
  const pane = await TmuxPane.start({
    // The shell prints the exit status once the TUI has handed the terminal back.
    command: [
      "sh",
      "-c",
      '"$@"; echo "tui exited with status $?"',
      "sh",
      process.execPath,
      TUI_MAIN,
      `127.0.0.1:${options.port}`,
      "--nick",
      options.nick,
      ...(options.extraArgs ?? []),
    ],
    columns: options.columns ?? 100,
    rows: options.rows ?? 30,
    ...(options.recordTo === undefined ? {} : { recordTo: options.recordTo }),
  });
  cleanup.add(() => pane.kill());
  return pane;
}

/**
 * Resolves with the first `event` of the client whose argument passes `match`, or fails after
 * `timeoutMs`. Typed by the client's event map: a misspelt event does not compile.
 */
export function nextClientEvent<K extends keyof ChatClientEvents>(
  client: ChatClient,
  event: K,
  match: (value: ChatClientEvents[K][0]) => boolean,
  timeoutMs = 10_000,
): Promise<ChatClientEvents[K][0]> {
  // The event map's listener types are too precise to write generically; call sites are typed.
  const emitter = client as unknown as {
    on(event: string, fn: (value: unknown) => void): void;
    off(event: string, fn: (value: unknown) => void): void;
  };
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => {
      emitter.off(event, listener);
      reject(new Error(`timed out waiting for ${event}`));
    }, timeoutMs);
    const listener = (value: unknown) => {
      if (!match(value as ChatClientEvents[K][0])) return;
      clearTimeout(timer);
      emitter.off(event, listener);
      resolvePromise(value as ChatClientEvents[K][0]);
    };
    emitter.on(event, listener);
  });
}

/** Resolves with the first `event` whose argument passes `match`, or fails after `timeoutMs`. */
export function nextEvent<T>(
  emitter: {
    on(event: string, fn: (value: T) => void): unknown;
    off(event: string, fn: (value: T) => void): unknown;
  },
  event: string,
  match: (value: T) => boolean,
  timeoutMs = 10_000,
): Promise<T> {
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => {
      emitter.off(event, listener);
      reject(new Error(`timed out waiting for ${event}`));
    }, timeoutMs);
    const listener = (value: T) => {
      if (!match(value)) return;
      clearTimeout(timer);
      emitter.off(event, listener);
      resolvePromise(value);
    };
    emitter.on(event, listener);
  });
}

/** A port nothing listens on (bound, then released). */
export async function freePort(): Promise<number> {
  const server = createServer();
  const { port } = await server.listen(0, "127.0.0.1");
  await server.close({ graceMs: 0 });
  return port;
}
