import { connect, type Socket } from "node:net";
import { connect as connectTls } from "node:tls";
import { nowUs } from "../clock.js";
import { createLatencyHistogram, encodeHistogram } from "../latency.js";
import { startJsonLinesClient } from "./json-client.js";
import type { CloseAllResult, ConnectRequest, ConnectResult } from "./protocol.js";
import { LOAD_TRANSPORTS } from "./transport-kind.js";
import { type Client, countingScanner, emptyProgress, type WorkerState } from "./worker-state.js";
import { startWebSocketClient } from "./ws-client.js";

/**
 * Opens the socket of one client: plain TCP, or TLS trusting the run's certificate. Text and
 * WebSocket clients over plain TCP read with `onread`: each read lands in the worker's one
 * buffer and is handed to `onBytes` before the next read (no Buffer allocated per read, no
 * `'data'` event); TLS and JSON-line clients keep `'data'` events.
 */
function openSocket(
  state: WorkerState,
  req: ConnectRequest,
  onBytes: (chunk: Buffer) => void,
): Socket {
  if (req.transport === LOAD_TRANSPORTS.tls) {
    // No session is passed in: every client makes a full handshake, not a resumption.
    return connectTls({ host: req.host, port: req.port, ca: req.tlsCa });
  }
  if (req.transport === LOAD_TRANSPORTS.json) {
    return connect({ host: req.host, port: req.port, localAddress: req.localAddress });
  }
  const buffer = state.readBuffer;
  return connect({
    host: req.host,
    port: req.port,
    localAddress: req.localAddress,
    onread: {
      buffer,
      callback: (n) => {
        onBytes(buffer.subarray(0, n));
        return true;
      },
    },
  });
}

/** Opens the requested connections and waits until each is ready, has failed or timed out. */
export function connectClients(state: WorkerState, req: ConnectRequest): Promise<ConnectResult> {
  const histogram = createLatencyHistogram();
  const failures: Record<string, number> = {};
  let ready = 0;
  let failed = 0;
  let lastReadyUs = 0;
  let handshakes = 0;
  let lastHandshakeUs = 0;
  const startUs = nowUs();
  return new Promise((resolve) => {
    let pending = req.clients.length;
    const timer = setTimeout(finish, req.timeoutMs);
    /** Clients opened so far, in order: at most `req.window` of them connecting at once. */
    let opened = 0;
    function finish(): void {
      clearTimeout(timer);
      if (pending > 0 && opened < req.clients.length) {
        // Clients the window never let open ran out of time too.
        failures["timeout"] = (failures["timeout"] ?? 0) + req.clients.length - opened;
        failed += req.clients.length - opened;
      }
      for (const client of state.clients.values()) {
        if (!client.ready && !client.closed && req.clients.includes(client.id)) {
          failures["timeout"] = (failures["timeout"] ?? 0) + 1;
          failed++;
          client.socket.destroy();
          state.clients.delete(client.id);
        }
      }
      pending = -1;
      resolve({
        ready,
        failed,
        failures,
        startUs,
        lastReadyUs,
        histogram: encodeHistogram(histogram),
        ...(req.transport === LOAD_TRANSPORTS.tls ? { handshakes, lastHandshakeUs } : {}),
      });
    }
    const settled = new Set<number>();
    function settle(client: Client, reason: string | null): void {
      // An error is followed by a close: the first one decides.
      if (pending < 0 || settled.has(client.id)) return;
      settled.add(client.id);
      if (reason === null) {
        client.ready = true;
        if (req.pause) client.socket.pause();
        ready++;
        state.progress.ready++;
        lastReadyUs = nowUs();
        histogram.recordValue(Math.max(1, Math.round(lastReadyUs - startUs)));
      } else {
        failed++;
        failures[reason] = (failures[reason] ?? 0) + 1;
        client.socket.destroy();
        // A client that never became ready takes no part in the runs that follow.
        state.clients.delete(client.id);
      }
      if (--pending === 0) finish();
      else openMore();
    }
    if (pending === 0) finish();
    openMore();
    function openMore(): void {
      const window = req.window ?? 0;
      while (
        pending > 0 &&
        opened < req.clients.length &&
        (window === 0 || opened - (ready + failed) < window)
      ) {
        open(req.clients[opened++]!);
      }
    }
    function open(id: number): void {
      // Text over plain TCP reads through `onBytes`: nothing until the handshake is over, then
      // the greeting, then the counters. The other transports use 'data' listeners instead.
      let onBytes: (chunk: Buffer) => void = ignoreBytes;
      const readsViaOnread =
        req.transport !== LOAD_TRANSPORTS.tls && req.transport !== LOAD_TRANSPORTS.json;
      const socket = openSocket(state, req, (chunk) => onBytes(chunk));
      const listen = (handler: (chunk: Buffer) => void): void => {
        if (readsViaOnread) onBytes = handler;
        else socket.on("data", handler);
      };
      const client: Client = {
        id,
        socket,
        ready: false,
        closed: false,
        scanner: countingScanner(),
        afterChunk: undefined,
      };
      state.clients.set(id, client);
      let greeting = "";
      const onGreeting = (chunk: Buffer): void => {
        greeting += chunk.toString("latin1");
        const lf = greeting.indexOf("\n");
        if (lf === -1 && greeting.length < 4096) return;
        if (readsViaOnread) onBytes = (data) => state.onData(client, data);
        else {
          socket.off("data", onGreeting);
          socket.on("data", (data: Buffer) => state.onData(client, data));
        }
        const line = greeting.slice(0, lf === -1 ? 80 : lf).replace(/\r$/, "");
        settle(
          client,
          line.startsWith(req.greetingPrefix)
            ? null
            : `unexpected first line: ${line.slice(0, 60)}`,
        );
        if (lf !== -1 && lf + 1 < greeting.length) {
          state.onData(client, Buffer.from(greeting.slice(lf + 1), "latin1"));
        }
      };
      if (req.transport === LOAD_TRANSPORTS.tls) {
        socket.on("secureConnect", () => {
          handshakes++;
          lastHandshakeUs = nowUs();
        });
      }
      socket.on("connect", () => {
        socket.setNoDelay(true);
        if (req.transport === LOAD_TRANSPORTS.ws) {
          const target = { host: req.host, port: req.port, path: req.wsPath ?? "/ws" };
          startWebSocketClient(state, client, target, (reason) => settle(client, reason), listen);
        } else if (req.transport === LOAD_TRANSPORTS.json) {
          startJsonLinesClient(state, client, (reason) => settle(client, reason));
        } else if (req.readyOn === "connect") {
          listen((data) => state.onData(client, data));
          settle(client, null);
        } else {
          listen(onGreeting);
        }
      });
      socket.on("error", (err: NodeJS.ErrnoException) => {
        if (!client.ready) settle(client, err.code ?? err.message);
      });
      socket.on("close", () => {
        client.closed = true;
        state.closedSinceRun++;
        if (!client.ready) settle(client, "closed before ready");
      });
    }
  });
}

function ignoreBytes(_chunk: Buffer): void {}

/** How long a client waits for the server to close after its FIN before it destroys the socket. */
const CLOSE_GRACE_MS = 3000;

/** Closes the given clients (default: all of them) and waits until their sockets are closed. */
export function closeClients(state: WorkerState, ids?: number[]): Promise<CloseAllResult> {
  const all = ids
    ? ids.flatMap((id) => {
        const client = state.clients.get(id);
        return client ? [client] : [];
      })
    : [...state.clients.values()];
  for (const client of all) state.clients.delete(client.id);
  if (!ids) {
    state.peers.clear();
    state.progress = emptyProgress();
  }
  return Promise.all(
    all.map(
      (client) =>
        new Promise<void>((resolve) => {
          const socket = client.socket;
          if (client.closed || socket.destroyed) return resolve();
          socket.once("close", () => resolve());
          if (state.run.paused.has(client.id) || socket.isPaused()) {
            socket.destroy();
            return;
          }
          // A clean close (FIN, then read to the end): destroying a socket with unread data
          // resets it, and some servers (ncat --chat) quit when an accepted peer is already reset.
          socket.end();
          setTimeout(() => socket.destroy(), CLOSE_GRACE_MS).unref();
        }),
    ),
  ).then(() => ({ closed: all.length }));
}
