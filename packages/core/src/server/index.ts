export {
  ChatServer,
  type ChatServerOptions,
  createServer,
  type ListenAddress,
  type ServerStats,
} from "./chat-server.js";
