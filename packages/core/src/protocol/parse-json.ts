import * as v from "valibot";
import { ProtocolError } from "../errors.js";
import { describeIssue } from "./frame-issues.js";
import { CLIENT_FRAME_SCHEMAS } from "./frame-schema.js";
import type { ClientFrame } from "./frames.js";

type FrameSchema = (typeof CLIENT_FRAME_SCHEMAS)[keyof typeof CLIENT_FRAME_SCHEMAS];

/**
 * Each request's schema by its `type`. Looked up directly instead of through the schemas'
 * `v.variant`: the variant tries every option before the matching one and builds an issue for
 * each mismatch, so `help` (the 11th option) cost ten issue objects, and a flood of them made
 * validation most of a turn's work. The object schema run is the same one the variant would
 * pick, so a frame's issues (and its error message) are the same.
 */
const SCHEMA_BY_TYPE: ReadonlyMap<unknown, FrameSchema> = new Map(
  Object.entries(CLIENT_FRAME_SCHEMAS),
);

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
  const type = (value as { type?: unknown }).type;
  // An own property only: `{"type":"toString"}` must not find something on a prototype.
  const schema = Object.hasOwn(value, "type") ? SCHEMA_BY_TYPE.get(type) : undefined;
  if (schema === undefined) {
    return badFrame(
      type === undefined ? "`type` is missing" : `unknown type ${JSON.stringify(type)}`,
      (value as { ref?: unknown }).ref,
    );
  }
  const result = v.safeParse(schema, value);
  if (result.success) return result.output as ClientFrame;
  return badFrame(describeIssue(result.issues[0]), (value as { ref?: unknown }).ref);
}
