import { JSON_HELLO, JSON_MESSAGE_TRAILER, textLinesToJsonRequests } from "./json-requests.js";
import type { Client, WorkerState } from "./worker-state.js";

/** Largest amount of text read while waiting for `welcome`. */
const MAX_WELCOME_BYTES = 65536;

/**
 * Makes a connected socket a structured-mode (JSON lines) client over plain TCP: sends `hello`
 * at once and calls `settle(null)` on the `welcome` line (a server that greets before it reads
 * sends its text greeting first; it is skipped). Then every line goes to the client's scanner.
 */
export function startJsonLinesClient(
  state: WorkerState,
  client: Client,
  settle: (reason: string | null) => void,
): void {
  const socket = client.socket;
  client.lineTrailer = JSON_MESSAGE_TRAILER;
  client.encodeLines = textLinesToJsonRequests;
  let seen = "";
  const beforeWelcome = (chunk: Buffer): void => {
    seen += chunk.toString("utf8");
    const at = seen.indexOf('"type":"welcome"');
    if (at === -1) {
      if (seen.length > MAX_WELCOME_BYTES) settle("no welcome");
      return;
    }
    socket.off("data", beforeWelcome);
    socket.on("data", (data: Buffer) => state.onData(client, data));
    settle(null);
  };
  socket.on("data", beforeWelcome);
  socket.write(JSON_HELLO);
}
