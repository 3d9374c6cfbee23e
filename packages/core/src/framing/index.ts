export { type DecodedLine, LineDecoder, type LineDecoderOptions } from "./line-decoder.js";
export { encodeLine, isSingleLine } from "./line-encoder.js";
