/** How the load generator's clients reach the server. */
export const LOAD_TRANSPORTS = {
  /** Plain TCP, text lines (what `nc` does). */
  tcp: "tcp",
  /**
   * Plain TCP, JSON lines (structured mode, what `ChatClient` speaks): the same bytes as `ws`
   * without the WebSocket framing, so the two figures tell JSON's cost from WebSocket's.
   */
  json: "json",
  /** WebSocket on `/ws` of the same port: JSON lines in text frames (what the browser chat does). */
  ws: "ws",
  /** TLS on the same port, text lines inside (what `tcpchat connect --tls` does). */
  tls: "tls",
} as const;
/** One transport. */
export type LoadTransport = (typeof LOAD_TRANSPORTS)[keyof typeof LOAD_TRANSPORTS];
/** Every transport, in the order the bench measures them. */
export const LOAD_TRANSPORT_LIST: readonly LoadTransport[] = Object.values(LOAD_TRANSPORTS);
