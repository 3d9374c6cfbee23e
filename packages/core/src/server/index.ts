export {
  ChatServer,
  type ChatServerOptions,
  createServer,
  type HistoryOptions,
  type HttpOptions,
  type ListenAddress,
  type ServerStats,
  type WebSocketOptions,
} from "./chat-server.js";
export { loadOperatorsFile, parseOperatorsFile } from "./operators-file.js";
