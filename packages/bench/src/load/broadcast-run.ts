import { nowUs } from "../clock.js";
import { createLatencyHistogram, encodeHistogram } from "../latency.js";
import { LineScanner } from "../line-scanner.js";
import { decodeMessage, MessageEncoder } from "../message.js";
import type { BroadcastRequest, BroadcastResult, CountsRequest, CountsResult } from "./protocol.js";
import {
  type Client,
  countingScanner,
  newRunState,
  type WorkerState,
  writeLines,
} from "./worker-state.js";

/** What one sender of a run keeps. */
interface SenderState {
  client: Client;
  seq: number;
  echoed: number;
  stopped: boolean;
  /** Open loop: sends what is due by now. */
  tick?: () => void;
}

/**
 * The broadcast runs of one worker: prepare (fresh counters and scanners), start (send until
 * the time or count bound), stop early, and counts. All workers prepare before any starts, or
 * the first messages would reach clients still counting for the last run.
 */
export class BroadcastRunner {
  #prepared: (() => Promise<BroadcastResult>) | undefined;
  #stop: (() => void) | undefined;
  /** Closed loop: what a sender does when one of its own messages comes back. */
  readonly #echoHooks = new Map<number, () => void>();

  constructor(private readonly state: WorkerState) {}

  /** Sets the run up; it begins with {@link start}. */
  prepare(req: BroadcastRequest): void {
    this.#prepared = this.#setUp(req);
  }

  /** Starts the prepared run; resolves when this worker's senders stop. */
  start(): Promise<BroadcastResult> {
    const start = this.#prepared;
    this.#prepared = undefined;
    if (!start) return Promise.reject(new Error("broadcast-start without broadcast"));
    return start();
  }

  /** Ends the running broadcast now, as if its time had run out. */
  stop(): void {
    this.#stop?.();
  }

  /** Delivery counts so far, and sequence checks against what each sender sent. */
  counts(req: CountsRequest): CountsResult {
    const { clients, run } = this.state;
    let delivered = 0;
    let receivers = 0;
    let min = Number.POSITIVE_INFINITY;
    let max = 0;
    let receiversOff = 0;
    for (const client of clients.values()) {
      if (run.paused.has(client.id)) continue;
      const n = client.scanner.count;
      const own = run.ownStream.has(client.id) ? (run.sent.get(client.id) ?? 0) : 0;
      if (req.expectedPerReceiver !== undefined && n !== req.expectedPerReceiver - own) {
        receiversOff++;
      }
      delivered += n;
      receivers++;
      if (n < min) min = n;
      if (n > max) max = n;
    }
    let mismatched = 0;
    let checkedStreams = 0;
    if (req.expectedPerSender) {
      for (const [client, lastSeq] of run.lastSeq) {
        if (run.paused.has(client)) continue;
        for (const [sender, expected] of Object.entries(req.expectedPerSender)) {
          if (Number(sender) === client && run.ownStream.has(client)) continue;
          checkedStreams++;
          if ((lastSeq.get(Number(sender)) ?? -1) !== expected - 1) mismatched++;
        }
      }
    }
    return {
      delivered,
      receivers,
      minPerReceiver: receivers === 0 ? 0 : min,
      maxPerReceiver: max,
      closed: this.state.closedSinceRun,
      lastDeliveryUs: this.state.lastDeliveryUs,
      histogram: encodeHistogram(run.histogram),
      parsed: run.parsed,
      gaps: run.gaps,
      duplicates: run.duplicates,
      mismatched,
      checkedStreams,
      receiversOff,
    };
  }

  /** A scanner that decodes every message: latency, sequence checks, then `onMessage`. */
  #parserScanner(
    client: Client,
    size: number,
    nodeBlock: number | undefined,
    onMessage: (sender: number) => void,
  ): LineScanner {
    const clientId = client.id;
    const state = this.state;
    const run = state.run;
    const lastSeq = new Map<number, number>();
    run.lastSeq.set(clientId, lastSeq);
    const node = nodeBlock === undefined ? 0 : Math.floor(clientId / nodeBlock);
    return new LineScanner(size + 2, (buf, start, end) => {
      if (end - start < size) return;
      const message = decodeMessage(buf, end, size);
      if (message === null) return;
      run.parsed++;
      if (nodeBlock === undefined || Math.floor(message.sender / nodeBlock) !== node) {
        const latency = state.chunkNowUs - state.t0Us - message.sentAtUs;
        run.histogram.recordValue(latency < 1 ? 1 : Math.round(latency));
      }
      const last = lastSeq.get(message.sender) ?? -1;
      if (message.seq === last + 1) lastSeq.set(message.sender, message.seq);
      else if (message.seq <= last) run.duplicates++;
      else {
        run.gaps += message.seq - last - 1;
        lastSeq.set(message.sender, message.seq);
      }
      onMessage(message.sender);
    }).trailedBy(client.lineTrailer);
  }

  #setUp(req: BroadcastRequest): () => Promise<BroadcastResult> {
    const state = this.state;
    state.run = newRunState();
    const run = state.run;
    state.progress.sent = 0;
    state.closedSinceRun = 0;
    state.lastDeliveryUs = 0;
    const encoder = new MessageEncoder(req.size);
    const senders = new Set(req.senders);
    const parsers = new Set(req.parsers);
    for (const id of req.paused) {
      run.paused.add(id);
      state.clients.get(id)?.socket.pause();
    }
    for (const client of state.clients.values()) {
      client.afterChunk = undefined;
      if (!parsers.has(client.id) && !senders.has(client.id))
        client.scanner = countingScanner(client.lineTrailer);
    }
    this.#echoHooks.clear();
    // Closed loop: a sender learns that a message went round when a watcher in this worker sees
    // it: the sender itself, or, for servers that do not send senders their own lines, another
    // client (so the window still bounds what is in flight).
    const watcherOf = new Map<number, number>();
    const others = [...state.clients.keys()].filter(
      (id) => !senders.has(id) && !run.paused.has(id),
    );
    for (const id of senders) {
      watcherOf.set(id, req.selfEcho ? id : (others[0] ?? id));
      if (!req.selfEcho) run.ownStream.add(id);
    }
    for (const id of new Set([...parsers, ...senders, ...watcherOf.values()])) {
      const client = state.clients.get(id);
      if (client && !run.paused.has(id)) {
        client.scanner = this.#parserScanner(client, req.size, req.nodeBlock, (sender) => {
          if (watcherOf.get(sender) === id) this.#echoHooks.get(sender)?.();
        });
      }
    }
    return () => this.#send(req, encoder);
  }

  #send(req: BroadcastRequest, encoder: MessageEncoder): Promise<BroadcastResult> {
    const state = this.state;
    const t0Us = state.t0Us;
    const sent: Record<number, number> = {};
    const sendLag = createLatencyHistogram();
    const startUs = nowUs();
    const stopAtUs = startUs + req.durationMs * 1000;
    return new Promise((resolve) => {
      let active = 0;
      let ticker: NodeJS.Timeout | undefined;
      let finished = false;
      const finish = (): void => {
        if (finished) return;
        finished = true;
        this.#stop = undefined;
        clearTimeout(stopTimer);
        if (ticker) clearInterval(ticker);
        for (const client of state.clients.values()) client.afterChunk = undefined;
        resolve({ sent, startUs, endUs: nowUs(), sendLag: encodeHistogram(sendLag) });
      };
      const stopTimer = setTimeout(finish, req.durationMs + 5);
      this.#stop = finish;
      const senderStates: SenderState[] = [];
      for (const id of req.senders) {
        const client = state.clients.get(id);
        if (!client || client.closed) continue;
        sent[id] = 0;
        active++;
        const sender: SenderState = { client, seq: 0, echoed: 0, stopped: false };
        senderStates.push(sender);
        const send = (count: number, stampUs: (i: number) => number): void => {
          if (count <= 0) return;
          writeLines(client, encoder.encode(id, sender.seq, count, stampUs));
          sender.seq += count;
          sent[id] = sender.seq;
          state.run.sent.set(id, sender.seq);
          state.progress.sent += count;
        };
        const stop = (): void => {
          if (sender.stopped) return;
          sender.stopped = true;
          if (--active === 0) finish();
        };
        if (req.mode === "closed") {
          this.#echoHooks.set(id, () => sender.echoed++);
          client.afterChunk = () => {
            if (sender.stopped) return;
            if (state.chunkNowUs >= stopAtUs || sender.seq >= req.maxMessagesPerSender) {
              stop();
              return;
            }
            const room = Math.min(
              req.window - (sender.seq - sender.echoed),
              req.maxMessagesPerSender - sender.seq,
            );
            const now = state.chunkNowUs - t0Us;
            send(room, () => now);
          };
          const now = nowUs() - t0Us;
          send(Math.min(req.window, req.maxMessagesPerSender), () => now);
        } else {
          const intervalUs = 1e6 / req.ratePerSender;
          sender.tick = () => {
            if (sender.stopped) return;
            const now = nowUs();
            // Message i is due at startUs + i * intervalUs: by now, every i up to the elapsed
            // time's count of intervals is due (i = 0 at once). Without the + 1 each message
            // left one interval late, which at chat rates (one per 150 ms) was most of its latency.
            const due = Math.min(
              req.maxMessagesPerSender,
              Math.floor(((Math.min(now, stopAtUs) - startUs) * req.ratePerSender) / 1e6) + 1,
            );
            const first = sender.seq;
            if (due > first) {
              const lag = now - (startUs + first * intervalUs);
              sendLag.recordValue(lag < 1 ? 1 : Math.round(lag));
            }
            // Stamped with the time each message was due, not when it left: a stall in the
            // server or here shows up as latency instead of being hidden (no coordinated
            // omission).
            send(due - first, (i) => startUs - t0Us + (first + i) * intervalUs);
            if (now >= stopAtUs || sender.seq >= req.maxMessagesPerSender) stop();
          };
        }
      }
      if (req.mode === "open") {
        const tick = () => {
          for (const sender of senderStates) sender.tick?.();
        };
        ticker = setInterval(tick, 1);
        tick();
      }
      if (active === 0) finish();
    });
  }
}
