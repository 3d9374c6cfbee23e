/**
 * The framing of requests to the native load generator (native/request.h): one line per
 * request, `ID OP key=value ...`, values percent-encoded, lists comma-separated. A line the C
 * side can split with strtok instead of parsing JSON.
 */
import type { WorkerRequest } from "./protocol.js";

function field(key: string, value: string | number | boolean | undefined): string {
  if (value === undefined) return "";
  const text = typeof value === "boolean" ? (value ? "1" : "0") : String(value);
  return ` ${key}=${encodeURIComponent(text)}`;
}

function list(key: string, ids: readonly number[]): string {
  return ` ${key}=${ids.join(",")}`;
}

/** The request line (with its LF) for request `id`. */
export function encodeNativeRequest(id: number, req: WorkerRequest): string {
  let line = `${id} ${req.op}`;
  switch (req.op) {
    case "connect":
      line +=
        field("host", req.host) +
        field("port", req.port) +
        list("clients", req.clients) +
        field("readyOn", req.readyOn) +
        field("greetingPrefix", req.greetingPrefix) +
        field("timeoutMs", req.timeoutMs) +
        field("localAddress", req.localAddress) +
        field("pause", req.pause) +
        field("transport", req.transport) +
        field("wsPath", req.wsPath);
      break;
    case "join-pairs":
      line += ` pairs=${req.pairs.map((p) => `${p.a}:${p.b}:${encodeURIComponent(p.room)}`).join(",")}`;
      line += field("timeoutMs", req.timeoutMs);
      break;
    case "broadcast":
      line +=
        field("mode", req.mode) +
        list("senders", req.senders) +
        list("parsers", req.parsers) +
        list("paused", req.paused) +
        field("size", req.size) +
        field("selfEcho", req.selfEcho) +
        field("window", req.window) +
        field("ratePerSender", req.ratePerSender) +
        field("durationMs", req.durationMs) +
        field("maxMessagesPerSender", req.maxMessagesPerSender) +
        field("nodeBlock", req.nodeBlock);
      break;
    case "counts":
      if (req.expectedPerSender) {
        line += ` expectedPerSender=${Object.entries(req.expectedPerSender)
          .map(([sender, n]) => `${sender}:${n}`)
          .join(",")}`;
      }
      line += field("expectedPerReceiver", req.expectedPerReceiver);
      break;
    case "echo":
      line +=
        field("size", req.size) +
        field("durationMs", req.durationMs) +
        field("maxRoundTripsPerPair", req.maxRoundTripsPerPair);
      break;
    case "close-all":
      if (req.ids) line += list("ids", req.ids);
      break;
    case "broadcast-start":
    case "broadcast-stop":
      break;
  }
  return `${line}\n`;
}
