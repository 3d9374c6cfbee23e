export { ChatHub, type CloseReason, type HubEvents, type HubSettings } from "./hub.js";
export { SESSION_STATE, Session, type SessionInfo, type SessionState } from "./session.js";
export type { HubStats } from "./stats.js";
export type { Endpoint, Transport } from "./transport.js";
