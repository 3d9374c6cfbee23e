/**
 * Load-generator worker thread: holds many client sockets, sends, and counts what arrives.
 * The main thread sends requests (see protocol.ts); every request gets one reply.
 */
import { connect, type Socket } from "node:net";
import { parentPort, workerData } from "node:worker_threads";
import type * as hdr from "hdr-histogram-js";
import { nowUs } from "../clock.js";
import { createLatencyHistogram, encodeHistogram } from "../latency.js";
import { LineScanner } from "../line-scanner.js";
import { decodeMessage, decodeSetup, MessageEncoder, setupLine } from "../message.js";
import type {
  BroadcastRequest,
  BroadcastResult,
  CloseAllResult,
  ConnectRequest,
  ConnectResult,
  CountsRequest,
  CountsResult,
  EchoRequest,
  EchoResult,
  JoinPairsRequest,
  JoinPairsResult,
  WorkerInit,
  WorkerProgress,
  WorkerReply,
  WorkerRequest,
} from "./protocol.js";

interface Client {
  id: number;
  socket: Socket;
  ready: boolean;
  closed: boolean;
  scanner: LineScanner;
  /** Reacts after each chunk has been scanned (senders top up their window here). */
  afterChunk: (() => void) | undefined;
}

const init = workerData as WorkerInit;
const port = parentPort!;
const clients = new Map<number, Client>();
const t0Us = init.t0Us;
/** Time of the chunk being handled, read once per chunk rather than once per line. */
let chunkNowUs = 0;
let lastDeliveryUs = 0;
let closedSinceRun = 0;
let progress: WorkerProgress = { kind: "progress", ready: 0, sent: 0, delivered: 0, roundTrips: 0 };
let run: RunState = newRunState();

interface RunState {
  histogram: hdr.Histogram;
  parsed: number;
  gaps: number;
  duplicates: number;
  /** Per parser: sender id -> last sequence number seen. */
  lastSeq: Map<number, Map<number, number>>;
  paused: Set<number>;
  /** Senders that do not receive their own messages (servers without self-echo). */
  ownStream: Set<number>;
  /** Messages each local sender sent in this run. */
  sent: Map<number, number>;
}

function newRunState(): RunState {
  return {
    histogram: createLatencyHistogram(),
    parsed: 0,
    gaps: 0,
    duplicates: 0,
    lastSeq: new Map(),
    paused: new Set(),
    ownStream: new Set(),
    sent: new Map(),
  };
}

function countingScanner(): LineScanner {
  return new LineScanner(2);
}

function onData(client: Client, chunk: Buffer): void {
  chunkNowUs = nowUs();
  if (client.scanner.push(chunk) > 0) lastDeliveryUs = chunkNowUs;
  client.afterChunk?.();
}

function connectClients(req: ConnectRequest): Promise<ConnectResult> {
  const histogram = createLatencyHistogram();
  const failures: Record<string, number> = {};
  let ready = 0;
  let failed = 0;
  let lastReadyUs = 0;
  const startUs = nowUs();
  return new Promise((resolve) => {
    let pending = req.clients.length;
    const timer = setTimeout(finish, req.timeoutMs);
    function finish(): void {
      clearTimeout(timer);
      for (const client of clients.values()) {
        if (!client.ready && !client.closed && req.clients.includes(client.id)) {
          failures["timeout"] = (failures["timeout"] ?? 0) + 1;
          failed++;
          client.socket.destroy();
          clients.delete(client.id);
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
        progress.ready++;
        lastReadyUs = nowUs();
        histogram.recordValue(Math.max(1, Math.round(lastReadyUs - startUs)));
      } else {
        failed++;
        failures[reason] = (failures[reason] ?? 0) + 1;
        client.socket.destroy();
        // A client that never became ready takes no part in the runs that follow.
        clients.delete(client.id);
      }
      if (--pending === 0) finish();
    }
    if (pending === 0) finish();
    for (const id of req.clients) {
      const socket = connect({ host: req.host, port: req.port, localAddress: req.localAddress });
      const client: Client = {
        id,
        socket,
        ready: false,
        closed: false,
        scanner: countingScanner(),
        afterChunk: undefined,
      };
      clients.set(id, client);
      let greeting = "";
      const onGreeting = (chunk: Buffer): void => {
        greeting += chunk.toString("latin1");
        const lf = greeting.indexOf("\n");
        if (lf === -1 && greeting.length < 4096) return;
        socket.off("data", onGreeting);
        socket.on("data", (data: Buffer) => onData(client, data));
        const line = greeting.slice(0, lf === -1 ? 80 : lf).replace(/\r$/, "");
        settle(
          client,
          line.startsWith(req.greetingPrefix)
            ? null
            : `unexpected first line: ${line.slice(0, 60)}`,
        );
        if (lf !== -1 && lf + 1 < greeting.length) {
          onData(client, Buffer.from(greeting.slice(lf + 1), "latin1"));
        }
      };
      socket.on("connect", () => {
        socket.setNoDelay(true);
        if (req.readyOn === "connect") {
          socket.on("data", (data: Buffer) => onData(client, data));
          settle(client, null);
        } else {
          socket.on("data", onGreeting);
        }
      });
      socket.on("error", (err: NodeJS.ErrnoException) => {
        if (!client.ready) settle(client, err.code ?? err.message);
      });
      socket.on("close", () => {
        client.closed = true;
        closedSinceRun++;
        if (!client.ready) settle(client, "closed before ready");
      });
    }
  });
}

function joinPairs(req: JoinPairsRequest): Promise<JoinPairsResult> {
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
          const client = clients.get(id);
          if (client) client.scanner = countingScanner();
        }
      }
      resolve({ joined: req.pairs.length - failedPairs, failed: failedPairs });
    }
    for (const pair of req.pairs) {
      const a = clients.get(pair.a);
      const b = clients.get(pair.b);
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
        });
        // The server handles one connection's lines in order: once the client sees its own
        // setup line come back, the server has put it in the room.
        client.socket.write(`/join ${pair.room}\n${setupLine(client.id)}`);
      }
    }
    if (waiting.size === 0) done();
  });
}

function parserScanner(
  clientId: number,
  size: number,
  onMessage?: (sender: number) => void,
): LineScanner {
  const lastSeq = new Map<number, number>();
  run.lastSeq.set(clientId, lastSeq);
  return new LineScanner(size + 2, (buf, start, end) => {
    if (end - start < size) return;
    const message = decodeMessage(buf, end, size);
    if (message === null) return;
    run.parsed++;
    const latency = chunkNowUs - t0Us - message.sentAtUs;
    run.histogram.recordValue(latency < 1 ? 1 : Math.round(latency));
    const last = lastSeq.get(message.sender) ?? -1;
    if (message.seq === last + 1) lastSeq.set(message.sender, message.seq);
    else if (message.seq <= last) run.duplicates++;
    else {
      run.gaps += message.seq - last - 1;
      lastSeq.set(message.sender, message.seq);
    }
    onMessage?.(message.sender);
  });
}

/** The broadcast run set up by the last prepare request, waiting for its start request. */
let prepared: (() => Promise<BroadcastResult>) | undefined;

/**
 * Sets a broadcast run up: fresh counters and scanners on every client. All workers prepare
 * before any starts, or the first messages would reach clients still counting for the last run.
 */
function prepareBroadcast(req: BroadcastRequest): void {
  prepared = broadcast(req);
}

function startBroadcast(): Promise<BroadcastResult> {
  const start = prepared;
  prepared = undefined;
  if (!start) return Promise.reject(new Error("broadcast-start without broadcast"));
  return start();
}

function broadcast(req: BroadcastRequest): () => Promise<BroadcastResult> {
  run = newRunState();
  progress.sent = 0;
  closedSinceRun = 0;
  lastDeliveryUs = 0;
  const encoder = new MessageEncoder(req.size);
  const senders = new Set(req.senders);
  const parsers = new Set(req.parsers);
  for (const id of req.paused) {
    run.paused.add(id);
    clients.get(id)?.socket.pause();
  }
  for (const client of clients.values()) {
    client.afterChunk = undefined;
    if (!parsers.has(client.id) && !senders.has(client.id)) client.scanner = countingScanner();
  }
  echoHooks.clear();
  // Closed loop: a sender learns that a message went round when a watcher in this worker sees
  // it: the sender itself, or, for servers that do not send senders their own lines, another
  // client (so the window still bounds what is in flight).
  const watcherOf = new Map<number, number>();
  const others = [...clients.keys()].filter((id) => !senders.has(id) && !run.paused.has(id));
  for (const id of senders) {
    watcherOf.set(id, req.selfEcho ? id : (others[0] ?? id));
    if (!req.selfEcho) run.ownStream.add(id);
  }
  for (const id of new Set([...parsers, ...senders, ...watcherOf.values()])) {
    const client = clients.get(id);
    if (client && !run.paused.has(id)) {
      client.scanner = parserScanner(id, req.size, (sender) => {
        if (watcherOf.get(sender) === id) echoHooks.get(sender)?.();
      });
    }
  }
  return () => sendBroadcast(req, encoder);
}

/** Ends the running broadcast early (set while one runs). */
let stopBroadcast: (() => void) | undefined;

/** Closed loop: what a sender does when one of its own messages comes back. */
const echoHooks = new Map<number, () => void>();

function sendBroadcast(req: BroadcastRequest, encoder: MessageEncoder): Promise<BroadcastResult> {
  const sent: Record<number, number> = {};
  const sendLag = createLatencyHistogram();
  const startUs = nowUs();
  const stopAtUs = startUs + req.durationMs * 1000;
  return new Promise((resolve) => {
    let active = 0;
    let ticker: NodeJS.Timeout | undefined;
    const stopTimer = setTimeout(finish, req.durationMs + 5);
    let finished = false;
    stopBroadcast = finish;
    function finish(): void {
      if (finished) return;
      finished = true;
      stopBroadcast = undefined;
      clearTimeout(stopTimer);
      if (ticker) clearInterval(ticker);
      for (const client of clients.values()) client.afterChunk = undefined;
      resolve({ sent, startUs, endUs: nowUs(), sendLag: encodeHistogram(sendLag) });
    }
    const senderStates: Array<{ client: Client; seq: number }> = [];
    for (const id of req.senders) {
      const client = clients.get(id);
      if (!client || client.closed) continue;
      sent[id] = 0;
      active++;
      const state = { client, seq: 0, echoed: 0, stopped: false };
      senderStates.push(state);
      const send = (count: number, stampUs: (i: number) => number): void => {
        if (count <= 0) return;
        client.socket.write(encoder.encode(id, state.seq, count, stampUs));
        state.seq += count;
        sent[id] = state.seq;
        run.sent.set(id, state.seq);
        progress.sent += count;
      };
      const stop = (): void => {
        if (state.stopped) return;
        state.stopped = true;
        if (--active === 0) finish();
      };
      if (req.mode === "closed") {
        echoHooks.set(id, () => state.echoed++);
        client.afterChunk = () => {
          if (state.stopped) return;
          if (chunkNowUs >= stopAtUs || state.seq >= req.maxMessagesPerSender) return stop();
          const room = Math.min(
            req.window - (state.seq - state.echoed),
            req.maxMessagesPerSender - state.seq,
          );
          const now = chunkNowUs - t0Us;
          send(room, () => now);
        };
        const now = nowUs() - t0Us;
        send(Math.min(req.window, req.maxMessagesPerSender), () => now);
      } else {
        (state as { tick?: () => void }).tick = () => {
          if (state.stopped) return;
          const now = nowUs();
          const due = Math.min(
            req.maxMessagesPerSender,
            Math.floor(((Math.min(now, stopAtUs) - startUs) * req.ratePerSender) / 1e6),
          );
          const intervalUs = 1e6 / req.ratePerSender;
          const first = state.seq;
          if (due > first) {
            const lag = now - (startUs + first * intervalUs);
            sendLag.recordValue(lag < 1 ? 1 : Math.round(lag));
          }
          // Stamped with the time each message was due, not when it left: a stall in the server
          // or here shows up as latency instead of being hidden (no coordinated omission).
          send(due - first, (i) => startUs - t0Us + (first + i) * intervalUs);
          if (now >= stopAtUs || state.seq >= req.maxMessagesPerSender) stop();
        };
      }
    }
    if (req.mode === "open") {
      const tick = () => {
        for (const state of senderStates) (state as { tick?: () => void }).tick?.();
      };
      ticker = setInterval(tick, 1);
      tick();
    }
    if (active === 0) finish();
  });
}

function counts(req: CountsRequest): CountsResult {
  let delivered = 0;
  let receivers = 0;
  let min = Number.POSITIVE_INFINITY;
  let max = 0;
  let receiversOff = 0;
  for (const client of clients.values()) {
    if (run.paused.has(client.id)) continue;
    const n = client.scanner.count;
    const own = run.ownStream.has(client.id) ? (run.sent.get(client.id) ?? 0) : 0;
    if (req.expectedPerReceiver !== undefined && n !== req.expectedPerReceiver - own)
      receiversOff++;
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
    closed: closedSinceRun,
    lastDeliveryUs,
    histogram: encodeHistogram(run.histogram),
    parsed: run.parsed,
    gaps: run.gaps,
    duplicates: run.duplicates,
    mismatched,
    checkedStreams,
    receiversOff,
  };
}

/** Pairs as joined by the last join-pairs request: client id -> peer id. */
const peers = new Map<number, number>();

function echo(req: EchoRequest): Promise<EchoResult> {
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
    for (const [aId, bId] of peers) {
      const a = clients.get(aId);
      const b = clients.get(bId);
      if (!a || !b || a.closed || b.closed) continue;
      active++;
      let seq = 0;
      let stopped = false;
      const sendNext = (): void => {
        const now = nowUs() - t0Us;
        a.socket.write(encoder.encode(aId, seq, 1, () => now));
      };
      a.scanner = new LineScanner(req.size + 2, (buf, _start, end) => {
        const message = decodeMessage(buf, end, req.size);
        if (stopped || message === null || message.sender !== bId || message.seq !== seq) return;
        const rtt = chunkNowUs - t0Us - message.sentAtUs;
        histogram.recordValue(rtt < 1 ? 1 : Math.round(rtt));
        roundTrips++;
        progress.roundTrips++;
        endUs = chunkNowUs;
        seq++;
        if (chunkNowUs >= stopAtUs || seq >= req.maxRoundTripsPerPair) {
          stopped = true;
          if (--active === 0) finish();
        } else sendNext();
      });
      b.scanner = new LineScanner(req.size + 2, (buf, _start, end) => {
        const message = decodeMessage(buf, end, req.size);
        if (message === null || message.sender !== aId) return;
        b.socket.write(encoder.encode(bId, message.seq, 1, () => message.sentAtUs));
      });
      sendNext();
    }
    if (active === 0) finish();
  });
}

/** How long a client waits for the server to close after its FIN before it destroys the socket. */
const CLOSE_GRACE_MS = 3000;

function closeAll(ids?: number[]): Promise<CloseAllResult> {
  const all = ids
    ? ids.flatMap((id) => {
        const client = clients.get(id);
        return client ? [client] : [];
      })
    : [...clients.values()];
  for (const client of all) clients.delete(client.id);
  if (!ids) {
    peers.clear();
    progress = { kind: "progress", ready: 0, sent: 0, delivered: 0, roundTrips: 0 };
  }
  return Promise.all(
    all.map(
      (client) =>
        new Promise<void>((resolve) => {
          const socket = client.socket;
          if (client.closed || socket.destroyed) return resolve();
          socket.once("close", () => resolve());
          if (run.paused.has(client.id) || socket.isPaused()) {
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

async function handle(req: WorkerRequest): Promise<unknown> {
  switch (req.op) {
    case "connect":
      return connectClients(req);
    case "join-pairs": {
      for (const pair of req.pairs) {
        peers.set(pair.a, pair.b);
      }
      return joinPairs(req);
    }
    case "broadcast":
      prepareBroadcast(req);
      return null;
    case "broadcast-start":
      return startBroadcast();
    case "broadcast-stop":
      stopBroadcast?.();
      return null;
    case "counts":
      return counts(req);
    case "echo":
      return echo(req);
    case "close-all":
      return closeAll(req.ids);
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
  for (const client of clients.values()) delivered += client.scanner.count;
  progress.delivered = delivered;
  port.postMessage(progress);
}, 500).unref();
