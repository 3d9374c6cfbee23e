import type { Socket } from "node:net";
import { JSON_HELLO, JSON_MESSAGE_TRAILER, textLinesToJsonRequests } from "./json-requests.js";
import type { Client, WorkerState } from "./worker-state.js";
import {
  checkUpgradeResponse,
  encodeClientFrame,
  encodeClientMessages,
  upgradeRequest,
  WS_OPCODES,
  WsFrameReader,
} from "./ws-frames.js";

/** Largest HTTP response head the client reads before it gives up on the upgrade. */
const MAX_HEAD_BYTES = 8192;
/** Largest amount of text read while waiting for `welcome`. */
const MAX_WELCOME_BYTES = 65536;

/** Where and how a WebSocket client upgrades. */
export interface WebSocketTarget {
  host: string;
  port: number;
  /** Upgrade path (tcpchat: `/ws`). */
  path: string;
}

/**
 * Makes a connected socket a WebSocket client of tcpchat: upgrades, sends `hello`, and calls
 * `settle(null)` once `welcome` arrives (or `settle(reason)` on failure). From then on the
 * payload of every frame goes to the client's scanner; pings are answered. `listen` installs
 * the handler of the socket's bytes (a `'data'` listener, or the worker's `onread` callback:
 * nothing here keeps a chunk after it returns).
 */
export function startWebSocketClient(
  state: WorkerState,
  client: Client,
  target: WebSocketTarget,
  settle: (reason: string | null) => void,
  listen: (handler: (chunk: Buffer) => void) => void,
): void {
  const socket: Socket = client.socket;
  client.lineTrailer = JSON_MESSAGE_TRAILER;
  client.encodeLines = (lines) => encodeClientMessages(textLinesToJsonRequests(lines));
  const { request, accept } = upgradeRequest(target.host, target.port, target.path);
  let head: string | undefined = "";
  let welcome = "";
  let count: ((piece: Buffer) => void) | undefined;
  const reader = new WsFrameReader({
    data(buf, start, end) {
      if (count !== undefined) {
        count(buf.subarray(start, end));
        return;
      }
      if (client.ready) return;
      welcome += buf.toString("utf8", start, end);
      if (welcome.includes('"type":"welcome"')) {
        welcome = "";
        settle(null);
      } else if (welcome.length > MAX_WELCOME_BYTES) {
        settle("no welcome");
      }
    },
    control(opcode, payload) {
      if (opcode === WS_OPCODES.ping && !socket.destroyed) {
        socket.write(encodeClientFrame(payload, WS_OPCODES.pong));
      }
    },
    error(reason) {
      if (!client.ready) settle(reason);
      socket.destroy();
    },
  });
  const frames = (chunk: Buffer): void => {
    if (!client.ready) {
      reader.push(chunk);
      return;
    }
    state.onPieces(client, (counter) => {
      count = counter;
      reader.push(chunk);
      count = undefined;
    });
  };
  listen((chunk: Buffer) => {
    if (head === undefined) {
      frames(chunk);
      return;
    }
    head += chunk.toString("latin1");
    const end = head.indexOf("\r\n\r\n");
    if (end === -1) {
      if (head.length > MAX_HEAD_BYTES) settle("upgrade answer too long");
      return;
    }
    const problem = checkUpgradeResponse(head.slice(0, end + 2), accept);
    const rest = Buffer.byteLength(head, "latin1") - (end + 4);
    head = undefined;
    if (problem !== null) {
      settle(problem);
      return;
    }
    socket.write(encodeClientFrame(Buffer.from(JSON_HELLO, "utf8")));
    if (rest > 0) frames(chunk.subarray(chunk.length - rest));
  });
  socket.write(request);
}
