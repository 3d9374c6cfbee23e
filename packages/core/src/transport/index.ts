export { connectTcp, type TcpConnectOptions } from "./tcp-connect.js";
export {
  createTcpListener,
  type TcpListenerOptions,
  type TcpServer,
  type TcpSocket,
} from "./tcp-listener.js";
export { endWithin, normalizeAddress, TcpTransport } from "./tcp-transport.js";
