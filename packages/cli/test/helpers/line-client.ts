import { mkdtempSync, rmSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { waitUntil } from "./cli-process.js";

const sockets: Socket[] = [];
const dirs: string[] = [];

/** A fresh temporary directory, removed by {@link cleanUpLineClients}. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `tcpchat-${prefix}-`));
  dirs.push(dir);
  return dir;
}

/** A raw line client (what nc is), from `localAddress`, collecting every line it hears. */
export function lineClient(port: number, localAddress = "127.0.0.1") {
  const socket = connect({ host: "127.0.0.1", port, localAddress });
  sockets.push(socket);
  let text = "";
  socket.setEncoding("utf8");
  socket.on("data", (chunk: string) => (text += chunk));
  socket.on("error", () => {});
  const lines = () => text.split("\n");
  return {
    send: (line: string) => socket.write(`${line}\n`),
    lines,
    /** The first line matching `pattern` from line `from` on; the text so far if none comes. */
    waitFor: async (pattern: RegExp, from = 0) => {
      const find = () =>
        lines()
          .slice(from)
          .find((line) => pattern.test(line));
      await waitUntil(() => find() !== undefined, `a line matching ${pattern}`).catch(
        (error: Error) => {
          throw new Error(`${error.message}; got:\n${text}`);
        },
      );
      return find()!;
    },
    close: () => socket.destroy(),
  };
}

/** A client made by {@link lineClient}. */
export type LineClient = ReturnType<typeof lineClient>;

/** Sends a line and waits for the first line after it that matches. */
export async function ask(client: LineClient, line: string, answer: RegExp): Promise<string> {
  const from = client.lines().length - 1;
  client.send(line);
  return client.waitFor(answer, from);
}

/** Closes every line client and removes every temporary directory (call after each test). */
export function cleanUpLineClients(): void {
  for (const socket of sockets.splice(0)) socket.destroy();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** A {@link lineClient} (from `localAddress`) that is in the lobby under `nick`. */
export async function namedClient(
  port: number,
  nick: string,
  localAddress?: string,
): Promise<LineClient> {
  const client = lineClient(port, localAddress);
  await client.waitFor(/you are \S+ in/);
  await ask(client, `/nick ${nick}`, new RegExp(`known as ${nick}$`));
  return client;
}

/**
 * A {@link namedClient} that has registered `nick` with `password`; with `login`, it has also
 * logged in to the account (as an operator must before using its rights).
 */
export async function registeredClient(
  port: number,
  nick: string,
  password: string,
  { login = false }: { login?: boolean } = {},
): Promise<LineClient> {
  const client = await namedClient(port, nick);
  await ask(client, `/register ${password}`, new RegExp(`^\\*\\*\\* registered ${nick}`));
  if (login) {
    await ask(client, `/login ${nick} ${password}`, new RegExp(`^\\*\\*\\* logged in as ${nick}$`));
  }
  return client;
}
