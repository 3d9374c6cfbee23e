export { type DecodedLine, LineDecoder, type LineDecoderOptions } from "./line-decoder.js";
export { encodeLine, isSingleLine } from "./line-encoder.js";
export {
  TELNET_COMMAND,
  TELNET_OPTION,
  type TelnetEvent,
  TelnetFilter,
  type TelnetFilterOptions,
  type TelnetOutput,
} from "./telnet.js";
export {
  encodeCloseFrame,
  encodePongFrame,
  encodeTextFrame,
  encodeTextFrameBytes,
  PING_FRAME,
  textFrameHeaderBytes,
} from "./websocket-frame.js";
export {
  isValidCloseCode,
  WebSocketFrameReader,
  type WebSocketFrameSink,
  WS_CLOSE_CODES,
  WS_OPCODES,
  type WsCloseCode,
} from "./websocket-reader.js";
