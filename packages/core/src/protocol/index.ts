export { skeleton } from "./confusables.js";
export * from "./format-text.js";
export * from "./frame-schema.js";
export * from "./frames.js";
export * from "./lines.js";
export { isGuestNick, lookalikeKeys } from "./lookalikes.js";
export {
  messageIdIndex,
  messageIdValue,
  OLDER_HISTORY_PAGE_SIZE,
  oldestMessageId,
} from "./message-ids.js";
export {
  compactBatchLines,
  expandMessages,
  MESSAGES_FRAME_SCHEMA,
  type MessagesFrame,
} from "./message-runs.js";
export * from "./names.js";
export { parseClientFrame } from "./parse-json.js";
export {
  type BadServerFrame,
  DEFAULT_SERVER_LIMITS,
  type ParsedServerFrame,
  type ParsedServerLine,
  parseServerFrame,
  parseServerFrames,
} from "./parse-server.js";
export { parseTextLine, TEXT_COMMANDS } from "./parse-text.js";
export {
  hasUnsafeCharacters,
  neutralizeField,
  neutralizeFrame,
  neutralizeText,
} from "./text-safety.js";
