import {
  type AcceptDecision,
  type ChatServer,
  createRefusalLogLimiter,
  type PeerInfo,
  type SessionInfo,
} from "@tcpchat/core";
import { formatHostPort } from "../lan-addresses.js";
import type { LogFields, Logger } from "./logger.js";

/** Refusals are logged one by one up to a burst per window, then summed up once per window. */
const REFUSAL_LOG_WINDOW_MS = 10_000;

/** Logs connection-level events: sessions opening and closing, refusals (rate-limited). */
export function watchServerEvents(server: ChatServer, logger: Logger): () => void {
  server.on("session-open", (s: SessionInfo) => {
    logger.info("session-open", `${s.nick} connected from ${formatHostPort(s.address, s.port)}`, {
      session: s.id,
      nick: s.nick,
      address: s.address,
      port: s.port,
    });
  });
  server.on("session-close", (s: SessionInfo, why: { code?: string; reason: string }) => {
    logger.info("session-close", `${s.nick} disconnected: ${why.reason}`, {
      session: s.id,
      nick: s.nick,
      address: s.address,
      mode: s.mode,
      code: why.code,
    });
  });
  // A flood of refused connects must not flood the log: the limiter sums it up.
  const limiter = createRefusalLogLimiter({ intervalMs: REFUSAL_LOG_WINDOW_MS });
  const write = (entries: ReturnType<typeof limiter.flush>): void => {
    for (const entry of entries) {
      const { event, ...fields } = entry.fields as LogFields;
      logger.warn(typeof event === "string" ? event : "refused", entry.text, fields);
    }
  };
  server.on("refused", (peer: PeerInfo, decision: AcceptDecision) => {
    if (!decision.accept) write(limiter.record(peer, decision));
  });
  const timer = setInterval(() => write(limiter.flush()), REFUSAL_LOG_WINDOW_MS);
  timer.unref();
  return () => {
    clearInterval(timer);
    write(limiter.flush(true));
  };
}
