export {
  ChatClient,
  type ChatClientOptions,
  CLIENT_STATE,
  type ClientState,
  createClient,
} from "./chat-client.js";
export { classifyConnectError } from "./classify-error.js";
export { backoffDelay, type ReconnectOptions } from "./reconnect.js";
