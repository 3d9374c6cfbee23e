import type { ChatErrorCode } from "../errors.js";

/** The remote and local ends of an accepted TCP connection, as the server sees them. */
export interface PeerInfo {
  /** Remote address, normalized: IPv4-mapped IPv6 (`::ffff:1.2.3.4`) becomes `1.2.3.4`. */
  readonly address: string;
  readonly port: number;
  readonly family: "IPv4" | "IPv6";
  readonly localAddress: string;
  readonly localPort: number;
}

/** What the server knows about itself when it asks for a decision. */
export interface ServerLoad {
  /** Sessions open right now (not counting the connection being decided). */
  readonly connections: number;
}

/** The outcome of an accept decision. `rule` names the rule that decided, for logs and `policy check`. */
export type AcceptDecision =
  | { readonly accept: true; readonly rule?: string }
  | {
      readonly accept: false;
      /** A `CHAT_ERR_REFUSED_*` code. */
      readonly code: ChatErrorCode;
      readonly message: string;
      /** When a retry may succeed, in milliseconds from now. */
      readonly retryAfterMs?: number;
      readonly rule: string;
    };

/**
 * Decides, at accept time and before any session state exists, whether a connection may stay.
 * The server calls `released` when a connection it accepted closes, so a policy can keep counts.
 */
export interface AcceptPolicy {
  decide(peer: PeerInfo, load: ServerLoad): AcceptDecision | Promise<AcceptDecision>;
  released?(peer: PeerInfo): void;
  /**
   * The connection cap in force, if any: at the cap the server first closes the oldest
   * connection that never sent a line (see `ChatServerOptions.evictLineless`).
   */
  readonly maxConnections?: number | undefined;
}
