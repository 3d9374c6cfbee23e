/**
 * The browser-safe part of core, exported as `@tcpchat/core/protocol`: the frames of structured
 * mode (spec 4) with their schemas and types, the server-frame parser, the text-command parser
 * (spec 3.2: one grammar for `/history`, `/search`, `/login` in every client), the name rules
 * (spec 5) and text neutralizing (spec 3.4). Nothing reachable from here imports `node:*` (a test walks
 * the import graph), so a bundler can put it in a web page as is. The lookalike check and its
 * confusables table stay out: the server is the authority on names, and the table was most of
 * the page's script.
 */

export { PROTOCOL_VERSION } from "./defaults.js";
export * from "./protocol/frame-schema.js";
export * from "./protocol/frames.js";
export {
  messageIdIndex,
  messageIdValue,
  OLDER_HISTORY_PAGE_SIZE,
  oldestMessageId,
} from "./protocol/message-ids.js";
export {
  compactBatchLines,
  expandMessages,
  MESSAGES_FRAME_SCHEMA,
  type MessagesFrame,
} from "./protocol/message-runs.js";
export { type NameKind, nameKey, normalizeName } from "./protocol/names.js";
export {
  type BadServerFrame,
  DEFAULT_SERVER_LIMITS,
  type ParsedServerFrame,
  type ParsedServerLine,
  parseServerFrame,
  parseServerFrames,
} from "./protocol/parse-server.js";
export { parseTextLine, TEXT_COMMANDS } from "./protocol/parse-text.js";
export { hasUnsafeCharacters, neutralizeText } from "./protocol/text-safety.js";
