/**
 * @tcpchat/core: the protocol core of tcpchat. Framing, protocol, sessions, accept policy,
 * the multi-client `ChatServer` and the structured-mode `ChatClient`.
 * @packageDocumentation
 */

export * from "./client/index.js";
export type { ClusterNodeInfo, ClusterOptions, ClusterStats } from "./cluster/redis-cluster.js";
export * from "./defaults.js";
export * from "./errors.js";
export * from "./framing/index.js";
export * from "./policy/index.js";
export * from "./protocol/index.js";
export * from "./server/index.js";
export type {
  AccountSettings,
  HubSettings,
  LoginThrottleOptions,
  PasswordGateOptions,
  SessionInfo,
} from "./session/index.js";
export * from "./store/index.js";
export {
  connectTcp,
  inspectTls,
  type TcpConnectOptions,
  type TlsClientOptions,
  type TlsCredentials,
  type TlsInspection,
  type TlsInspectOptions,
} from "./transport/index.js";
