export {
  ChatServer,
  type ChatServerOptions,
  createServer,
  type HttpOptions,
  type ListenAddress,
  type ServerStats,
  type WebSocketOptions,
} from "./chat-server.js";
