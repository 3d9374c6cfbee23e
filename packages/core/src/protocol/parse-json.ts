import * as v from "valibot";
import { ProtocolError } from "../errors.js";
import { describeIssue } from "./frame-issues.js";
import { CLIENT_FRAME_SCHEMA } from "./frame-schema.js";
import type { ClientFrame } from "./frames.js";

function badFrame(why: string, ref?: unknown): ProtocolError & { ref?: string } {
  const error: ProtocolError & { ref?: string } = new ProtocolError("CHAT_ERR_BAD_FRAME", {
    message: `The line is not a valid frame: ${why}.`,
  });
  if (typeof ref === "string") error.ref = ref;
  return error;
}

/**
 * Parses one structured-mode line (spec 4.1) into a request, or a `CHAT_ERR_BAD_FRAME` error
 * that says which field is wrong (and carries the frame's `ref` when it had one).
 */
export function parseClientFrame(line: string): ClientFrame | (ProtocolError & { ref?: string }) {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return badFrame("it is not JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return badFrame("it is not a JSON object");
  }
  const result = v.safeParse(CLIENT_FRAME_SCHEMA, value);
  if (result.success) return result.output;
  return badFrame(describeIssue(result.issues[0]), (value as { ref?: unknown }).ref);
}
