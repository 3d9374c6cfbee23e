/** Live counters of a hub; the server adds connection-level figures to them. */
export interface HubStats {
  sessionsOpened: number;
  peakConnections: number;
  /** Requests parsed (messages, commands, frames). */
  requestsIn: number;
  /** Room and direct messages accepted for delivery. */
  messagesIn: number;
  /** Frames written to receivers (one message to a room of 500 counts 500). */
  deliveries: number;
  bytesIn: number;
  bytesOut: number;
  /** Sessions cut off because their send queue passed the limit. */
  sendQueueCutoffs: number;
  /** Messages refused by the per-session rate limit. */
  rateLimited: number;
  /** Lines discarded as too long or not UTF-8. */
  framingErrors: number;
  /** Times a session's reading was paused because its budget was spent. */
  readPauses: number;
  /** Error replies not sent one by one (summed up instead). */
  errorsSuppressed: number;
  /** Connections closed because a line took too long to arrive. */
  lineTimeouts: number;
  /** Sessions cut off because their writes made no progress (a subset of sendQueueCutoffs). */
  stallCutoffs: number;
  /** Connections that never sent a line, closed at the connection cap to make room. */
  evictions: number;
  /** History and search requests refused: the session's budget or the server's read time spent. */
  readsRefused: number;
  /** Password checks and registrations refused at once because too many were under way. */
  passwordsRefused: number;
  /** Password hashes run: registrations and login checks (an unknown account's decoy included). */
  passwordHashes: number;
}

export function newStats(): HubStats {
  return {
    sessionsOpened: 0,
    peakConnections: 0,
    requestsIn: 0,
    messagesIn: 0,
    deliveries: 0,
    bytesIn: 0,
    bytesOut: 0,
    sendQueueCutoffs: 0,
    rateLimited: 0,
    framingErrors: 0,
    readPauses: 0,
    errorsSuppressed: 0,
    lineTimeouts: 0,
    stallCutoffs: 0,
    evictions: 0,
    readsRefused: 0,
    passwordsRefused: 0,
    passwordHashes: 0,
  };
}
