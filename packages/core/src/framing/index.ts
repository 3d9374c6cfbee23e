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
export { encodeTextFrame, encodeTextFrameBytes, textFrameHeaderBytes } from "./websocket-frame.js";
