import { LineScanner } from "../line-scanner.js";
import { decodeSetup, setupLine } from "../message.js";
import type { ProbeRequest, ProbeResult } from "./protocol.js";
import { countingScanner, type WorkerState, writeLines } from "./worker-state.js";

/**
 * One round of the readiness probe: the senders write a setup line each, and every listed
 * client waits for a setup line to come through the room. Any client's line will do: a server
 * relays a line only to the clients it has accepted, so hearing one proves this client is in.
 */
export function probeRoom(state: WorkerState, req: ProbeRequest): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const waiting = new Set<number>();
    let finished = false;
    const timer = setTimeout(done, req.timeoutMs);
    function done(): void {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      for (const id of req.clients) {
        const client = state.clients.get(id);
        if (client) client.scanner = countingScanner(client.lineTrailer);
      }
      resolve({ unheard: [...waiting] });
    }
    for (const id of req.clients) {
      const client = state.clients.get(id);
      // Dropped by connect (never ready) or closed since: it cannot hear anything.
      if (!client || client.closed) continue;
      waiting.add(id);
      client.scanner = new LineScanner(16, (buf, start, end) => {
        if (end - start >= 8 && decodeSetup(buf, end) >= 0 && waiting.delete(id)) {
          if (waiting.size === 0) done();
        }
      }).trailedBy(client.lineTrailer);
    }
    for (const id of req.senders) {
      const client = state.clients.get(id);
      if (client && !client.closed) writeLines(client, setupLine(id));
    }
    if (waiting.size === 0) done();
  });
}
