import * as v from "valibot";
import * as defaults from "../defaults.js";
import { ProtocolError } from "../errors.js";
import { describeIssue } from "./frame-issues.js";
import { SERVER_FRAME_SCHEMA, SERVER_FRAME_SCHEMAS, SERVER_LIMITS_SCHEMA } from "./frame-schema.js";
import type { ServerFrame, ServerLimits, WelcomeFrame } from "./frames.js";
import { expandMessages, MESSAGES_FRAME_SCHEMA } from "./message-runs.js";

/** What a client assumes for a limit the server's welcome leaves out or gets wrong. */
export const DEFAULT_SERVER_LIMITS: Readonly<ServerLimits> = Object.freeze({
  maxLineBytes: defaults.DEFAULT_MAX_LINE_BYTES,
  maxNameLength: defaults.DEFAULT_MAX_NAME_LENGTH,
  maxRoomsPerSession: defaults.DEFAULT_MAX_ROOMS_PER_SESSION,
  messageRate: defaults.DEFAULT_MESSAGE_RATE,
  messageBurst: defaults.DEFAULT_MESSAGE_BURST,
  sendQueueBytes: defaults.DEFAULT_SEND_QUEUE_BYTES,
  pingIntervalMs: defaults.DEFAULT_PING_INTERVAL_MS,
  pingTimeoutMs: defaults.DEFAULT_PING_TIMEOUT_MS,
});

// A welcome whose only fault is in `limits` still opens the session: each missing or bogus
// limit (absent, 0, negative, not a number) takes its default, so a client never divides by a
// message rate of 0 or waits forever. The strict schema still reports what was wrong.
const lenientEntries = {} as Record<keyof ServerLimits, v.GenericSchema<number>>;
for (const key of Object.keys(SERVER_LIMITS_SCHEMA.entries) as Array<keyof ServerLimits>) {
  lenientEntries[key] = v.fallback(SERVER_LIMITS_SCHEMA.entries[key], DEFAULT_SERVER_LIMITS[key]);
}
const LENIENT_LIMITS = v.fallback(v.object(lenientEntries), () => ({ ...DEFAULT_SERVER_LIMITS }));
const LENIENT_WELCOME = v.object({
  ...SERVER_FRAME_SCHEMAS.welcome.entries,
  limits: LENIENT_LIMITS,
});

/** An invalid server frame: `CHAT_ERR_BAD_SERVER_FRAME`, with the frame's `ref` if it had one. */
export type BadServerFrame = ProtocolError & { ref?: string };

/**
 * The outcome of {@link parseServerFrame}: a frame, an error, or both when a welcome had bad
 * `limits` and was repaired with {@link DEFAULT_SERVER_LIMITS}.
 */
export type ParsedServerFrame =
  | { frame: ServerFrame; error?: undefined }
  | { frame: WelcomeFrame; error: BadServerFrame }
  | { frame?: undefined; error: BadServerFrame };

function badServerFrame(why: string, type: unknown, ref: unknown): BadServerFrame {
  const what = typeof type === "string" ? `a ${JSON.stringify(type).slice(0, 40)} frame` : "a line";
  const error: BadServerFrame = new ProtocolError("CHAT_ERR_BAD_SERVER_FRAME", {
    message: `The server sent ${what} that is not valid: ${why}.`,
  });
  if (typeof ref === "string") error.ref = ref;
  return error;
}

/**
 * Parses and validates one line from a server in structured mode (spec 4.2). Never throws: a
 * line that is not a valid frame comes back as a `CHAT_ERR_BAD_SERVER_FRAME` error naming the
 * wrong field, for the client to report and skip.
 */
export function parseServerFrame(line: string): ParsedServerFrame {
  const value = parseObject(line);
  return value instanceof ProtocolError ? { error: value } : validateServerFrame(value);
}

/**
 * The outcome of {@link parseServerFrames}: the frames of one line (several for a run of
 * messages), and the error when the line was not valid.
 */
export interface ParsedServerLine {
  frames: ServerFrame[];
  error?: BadServerFrame;
}

/**
 * Parses one line from a server in structured mode, a compact client's `messages` runs (spec
 * 4.6) included: a run comes back as its `message` frames, so a client that asked for runs
 * handles them as if each message had its own line. Never throws, like {@link parseServerFrame}.
 */
export function parseServerFrames(line: string): ParsedServerLine {
  const value = parseObject(line);
  if (value instanceof ProtocolError) return { frames: [], error: value };
  if ((value as { type?: unknown }).type === "messages") {
    const run = v.safeParse(MESSAGES_FRAME_SCHEMA, value);
    if (run.success) return { frames: expandMessages(run.output) };
    return {
      frames: [],
      error: badServerFrame(describeIssue(run.issues[0]), "messages", undefined),
    };
  }
  const { frame, error } = validateServerFrame(value);
  return frame === undefined ? { frames: [], error } : { frames: [frame], error };
}

/** A line's JSON object, or the error saying why it is not one. */
function parseObject(line: string): object | BadServerFrame {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return badServerFrame("it is not JSON", undefined, undefined);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return badServerFrame("it is not a JSON object", undefined, undefined);
  }
  return value;
}

/** Validates one parsed server frame (a welcome with bad limits is repaired, see above). */
function validateServerFrame(value: object): ParsedServerFrame {
  const fields = value as { type?: unknown; ref?: unknown };
  const result = v.safeParse(SERVER_FRAME_SCHEMA, value);
  if (result.success) return { frame: result.output };
  const error = badServerFrame(describeIssue(result.issues[0]), fields.type, fields.ref);
  if (fields.type === "welcome") {
    const repaired = v.safeParse(LENIENT_WELCOME, value);
    if (repaired.success) {
      error.message += " The client uses the default of each bad limit.";
      return { frame: repaired.output, error };
    }
  }
  return { error };
}
