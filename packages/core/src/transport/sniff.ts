/**
 * What the first bytes of a connection say it is (protocol spec, "One port"). Pure: no sockets,
 * no timers, so it is tested whole and byte by byte.
 */
export const FIRST_BYTES = {
  /** 0x16: a TLS handshake record (ClientHello). */
  tls: "tls",
  /** An HTTP/1 request line (`GET `, `POST `, ...): a page, a probe or a WebSocket upgrade. */
  http: "http",
  /** `{`: a structured client's JSON hello. */
  json: "json",
  /** Anything else: a person at nc or telnet, or a line program. */
  text: "text",
  /** The bytes so far are the start of an HTTP method: wait for more (or for the deadline). */
  needMore: "need-more",
} as const;
export type FirstBytes = (typeof FIRST_BYTES)[keyof typeof FIRST_BYTES];

/** Request-line prefixes taken as HTTP, method and space (the methods a browser or probe sends). */
export const HTTP_METHOD_PREFIXES: readonly string[] = [
  "GET ",
  "POST ",
  "HEAD ",
  "PUT ",
  "DELETE ",
  "OPTIONS ",
  "PATCH ",
];
const PREFIX_BYTES = HTTP_METHOD_PREFIXES.map((prefix) => Buffer.from(prefix, "latin1"));
/** Most bytes the classifier ever needs to decide (`OPTIONS `). */
export const SNIFF_MAX_BYTES = Math.max(...PREFIX_BYTES.map((prefix) => prefix.length));

/**
 * Classifies the first bytes of a connection. Returns `need-more` only while the bytes are a
 * strict prefix of an HTTP method; a caller that hits its deadline then takes them as text.
 */
export function classifyFirstBytes(bytes: Uint8Array): FirstBytes {
  if (bytes.length === 0) return FIRST_BYTES.needMore;
  const first = bytes[0];
  if (first === 0x16) return FIRST_BYTES.tls;
  if (first === 0x7b /* { */) return FIRST_BYTES.json;
  let partial = false;
  for (const prefix of PREFIX_BYTES) {
    const compared = Math.min(prefix.length, bytes.length);
    let matches = true;
    for (let i = 0; i < compared; i += 1) {
      if (bytes[i] !== prefix[i]) {
        matches = false;
        break;
      }
    }
    if (!matches) continue;
    if (bytes.length >= prefix.length) return FIRST_BYTES.http;
    partial = true;
  }
  return partial ? FIRST_BYTES.needMore : FIRST_BYTES.text;
}
