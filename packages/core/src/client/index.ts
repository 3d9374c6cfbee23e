export {
  ChatClient,
  type ChatClientEvents,
  type ChatClientOptions,
  CLIENT_STATE,
  type ClientState,
  type CloseEvent,
  clientLineLimit,
  createClient,
  type ForeignConnection,
  FRAME_EVENT_PREFIX,
  type ReconnectingEvent,
  takeForeignConnection,
} from "./chat-client.js";
export { classifyConnectError, tlsErrorCode } from "./classify-error.js";
export { backoffDelay, type ReconnectOptions } from "./reconnect.js";
