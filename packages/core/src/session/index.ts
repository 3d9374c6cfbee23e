export type { AccountSettings } from "./accounts.js";
export { ChatHub, type CloseReason, type HubEvents, type HubSettings } from "./hub.js";
export type { LoginThrottleOptions } from "./login-throttle.js";
export type { PasswordGateOptions } from "./password-gate.js";
export { SESSION_STATE, Session, type SessionInfo, type SessionState } from "./session.js";
export type { HubStats } from "./stats.js";
export type { Endpoint, Transport } from "./transport.js";
