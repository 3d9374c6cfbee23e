export { HttpHandler, type HttpHandlerOptions } from "./http-handler.js";
export {
  classifyFirstBytes,
  FIRST_BYTES,
  type FirstBytes,
  HTTP_METHOD_PREFIXES,
  SNIFF_MAX_BYTES,
} from "./sniff.js";
export { FirstBytesSniffer, type SniffedKind, type SniffResult } from "./sniffer.js";
export { connectTcp, type TcpConnectOptions, type TlsClientOptions } from "./tcp-connect.js";
export {
  createTcpListener,
  type TcpListenerOptions,
  type TcpServer,
  type TcpSocket,
} from "./tcp-listener.js";
export { endWithin, normalizeAddress, TcpTransport } from "./tcp-transport.js";
export { inspectTls, type TlsInspection, type TlsInspectOptions } from "./tls-inspect.js";
export {
  rawSocketOf,
  secureContextOptions,
  type TlsCredentials,
  type TlsSocket,
  TlsUnwrapper,
  type TlsUnwrapperOptions,
} from "./tls-unwrap.js";
export {
  WebSocketGateway,
  type WebSocketGatewayOptions,
  WebSocketTransport,
} from "./websocket.js";
export { answerUpgrade, type HandshakeAnswer } from "./websocket-handshake.js";
