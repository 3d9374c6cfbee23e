/**
 * The framing of requests to the native load generator (native/request.h): one line per
 * request, `ID OP key=value ...`, values percent-encoded, lists comma-separated. A line the C
 * side can split with strtok instead of parsing JSON.
 */
import type { WorkerRequest } from "./protocol.js";

type FieldValue = string | number | boolean | readonly number[] | undefined;

/** ` key=value` (percent-encoded; booleans as 1/0), ` key=1,2,3` for a list, or nothing. */
function field(key: string, value: FieldValue): string {
  if (value === undefined) return "";
  if (Array.isArray(value)) return ` ${key}=${value.join(",")}`;
  const text = typeof value === "boolean" ? (value ? "1" : "0") : String(value);
  return ` ${key}=${encodeURIComponent(text)}`;
}

/** The fields of each request that are written as they are, in this order. */
const PLAIN_FIELDS = {
  connect: [
    "host",
    "port",
    "clients",
    "readyOn",
    "greetingPrefix",
    "timeoutMs",
    "localAddress",
    "pause",
    "transport",
    "wsPath",
    "window",
  ],
  broadcast: [
    "mode",
    "senders",
    "parsers",
    "paused",
    "size",
    "selfEcho",
    "window",
    "ratePerSender",
    "durationMs",
    "maxMessagesPerSender",
    "nodeBlock",
  ],
  echo: ["size", "durationMs", "maxRoundTripsPerPair"],
  probe: ["clients", "senders", "timeoutMs"],
  "close-all": ["ids"],
  "broadcast-start": [],
  "broadcast-stop": [],
} as const satisfies {
  [Op in Exclude<WorkerRequest["op"], "join-pairs" | "counts">]: ReadonlyArray<
    keyof Extract<WorkerRequest, { op: Op }>
  >;
};

/** The request line (with its LF) for request `id`. */
export function encodeNativeRequest(id: number, req: WorkerRequest): string {
  let line = `${id} ${req.op}`;
  switch (req.op) {
    case "join-pairs":
      line += ` pairs=${req.pairs.map((p) => `${p.a}:${p.b}:${encodeURIComponent(p.room)}`).join(",")}`;
      line += field("timeoutMs", req.timeoutMs);
      break;
    case "counts":
      if (req.expectedPerSender) {
        line += ` expectedPerSender=${Object.entries(req.expectedPerSender)
          .map(([sender, n]) => `${sender}:${n}`)
          .join(",")}`;
      }
      line += field("expectedPerReceiver", req.expectedPerReceiver);
      break;
    default: {
      const values = req as unknown as Record<string, FieldValue>;
      for (const key of PLAIN_FIELDS[req.op]) line += field(key, values[key]);
    }
  }
  return `${line}\n`;
}
