import { nowUs } from "../clock.js";
import { createLatencyHistogram, encodeHistogram } from "../latency.js";
import { LineScanner } from "../line-scanner.js";
import { decodeMessage, decodeSetup, MessageEncoder, setupLine } from "../message.js";
import type { EchoRequest, EchoResult, JoinPairsRequest, JoinPairsResult } from "./protocol.js";
import { countingScanner, type WorkerState, writeLines } from "./worker-state.js";

/**
 * Puts each pair in its room (`/join ROOM`) and waits until both ends are in: a client is in
 * once its own setup line comes back through the room.
 */
export function joinPairs(state: WorkerState, req: JoinPairsRequest): Promise<JoinPairsResult> {
  for (const pair of req.pairs) state.peers.set(pair.a, pair.b);
  return new Promise((resolve) => {
    const waiting = new Set<number>();
    let failedPairs = 0;
    const timer = setTimeout(done, req.timeoutMs);
    function done(): void {
      clearTimeout(timer);
      const missing = new Set<number>();
      for (const pair of req.pairs) {
        if (waiting.has(pair.a) || waiting.has(pair.b)) missing.add(pair.a);
      }
      failedPairs += missing.size;
      for (const pair of req.pairs) {
        for (const id of [pair.a, pair.b]) {
          const client = state.clients.get(id);
          if (client) client.scanner = countingScanner(client.lineTrailer);
        }
      }
      resolve({ joined: req.pairs.length - failedPairs, failed: failedPairs });
    }
    for (const pair of req.pairs) {
      const a = state.clients.get(pair.a);
      const b = state.clients.get(pair.b);
      if (!a || !b || a.closed || b.closed) {
        failedPairs++;
        continue;
      }
      for (const client of [a, b]) {
        waiting.add(client.id);
        client.scanner = new LineScanner(16, (buf, start, end) => {
          if (
            end - start >= 8 &&
            decodeSetup(buf, end) === client.id &&
            waiting.delete(client.id)
          ) {
            if (waiting.size === 0) done();
          }
        }).trailedBy(client.lineTrailer);
        // The server handles one connection's lines in order: once the client sees its own
        // setup line come back, the server has put it in the room.
        writeLines(client, `/join ${pair.room}\n${setupLine(client.id)}`);
      }
    }
    if (waiting.size === 0) done();
  });
}

/**
 * Round trips in every joined pair until the time is up: A sends, B answers when A's message
 * arrives, A sends the next when B's answer arrives.
 */
export function runEcho(state: WorkerState, req: EchoRequest): Promise<EchoResult> {
  const encoder = new MessageEncoder(req.size);
  const histogram = createLatencyHistogram();
  const startUs = nowUs();
  const stopAtUs = startUs + req.durationMs * 1000;
  let roundTrips = 0;
  let endUs = startUs;
  return new Promise((resolve) => {
    let active = 0;
    let finished = false;
    const grace = setTimeout(finish, req.durationMs + 5000);
    function finish(): void {
      if (finished) return;
      finished = true;
      clearTimeout(grace);
      resolve({
        roundTrips,
        startUs,
        endUs,
        histogram: encodeHistogram(histogram),
        unfinishedPairs: active,
      });
    }
    for (const [aId, bId] of state.peers) {
      const a = state.clients.get(aId);
      const b = state.clients.get(bId);
      if (!a || !b || a.closed || b.closed) continue;
      active++;
      let seq = 0;
      let stopped = false;
      const sendNext = (): void => {
        const now = nowUs() - state.t0Us;
        writeLines(
          a,
          encoder.encode(aId, seq, 1, () => now),
        );
      };
      a.scanner = new LineScanner(req.size + 2, (buf, _start, end) => {
        const message = decodeMessage(buf, end, req.size);
        if (stopped || message === null || message.sender !== bId || message.seq !== seq) return;
        const rtt = state.chunkNowUs - state.t0Us - message.sentAtUs;
        histogram.recordValue(rtt < 1 ? 1 : Math.round(rtt));
        roundTrips++;
        state.progress.roundTrips++;
        endUs = state.chunkNowUs;
        seq++;
        if (state.chunkNowUs >= stopAtUs || seq >= req.maxRoundTripsPerPair) {
          stopped = true;
          if (--active === 0) finish();
        } else sendNext();
      }).trailedBy(a.lineTrailer);
      b.scanner = new LineScanner(req.size + 2, (buf, _start, end) => {
        const message = decodeMessage(buf, end, req.size);
        if (message === null || message.sender !== aId) return;
        writeLines(
          b,
          encoder.encode(bId, message.seq, 1, () => message.sentAtUs),
        );
      }).trailedBy(b.lineTrailer);
      sendNext();
    }
    if (active === 0) finish();
  });
}
