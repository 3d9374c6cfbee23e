/**
 * Load-generator worker thread: holds many client sockets, sends, and counts what arrives.
 * The main thread sends requests (see protocol.ts); every request gets one reply.
 */
import { parentPort, workerData } from "node:worker_threads";
import { BroadcastRunner } from "./broadcast-run.js";
import { closeClients, connectClients } from "./connections.js";
import { joinPairs, runEcho } from "./echo-run.js";
import { probeRoom } from "./probe-run.js";
import type { WorkerInit, WorkerReply, WorkerRequest } from "./protocol.js";
import { WorkerState } from "./worker-state.js";

const init = workerData as WorkerInit;
const port = parentPort!;
const state = new WorkerState(init.t0Us);
const broadcasts = new BroadcastRunner(state);

async function handle(req: WorkerRequest): Promise<unknown> {
  switch (req.op) {
    case "connect":
      return connectClients(state, req);
    case "join-pairs":
      return joinPairs(state, req);
    case "probe":
      return probeRoom(state, req);
    case "broadcast":
      broadcasts.prepare(req);
      return null;
    case "broadcast-start":
      return broadcasts.start();
    case "broadcast-stop":
      broadcasts.stop();
      return null;
    case "counts":
      return broadcasts.counts(req);
    case "echo":
      return runEcho(state, req);
    case "close-all":
      return closeClients(state, req.ids);
  }
}

port.on("message", (message: { id: number; req: WorkerRequest }) => {
  handle(message.req).then(
    (result) =>
      port.postMessage({ kind: "reply", id: message.id, ok: true, result } satisfies WorkerReply),
    (err: unknown) =>
      port.postMessage({
        kind: "reply",
        id: message.id,
        ok: false,
        error: err instanceof Error ? (err.stack ?? err.message) : String(err),
      } satisfies WorkerReply),
  );
});

setInterval(() => {
  let delivered = 0;
  for (const client of state.clients.values()) delivered += client.scanner.count;
  state.progress.delivered = delivered;
  port.postMessage(state.progress);
}, 500).unref();
