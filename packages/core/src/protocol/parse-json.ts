import { ProtocolError } from "../errors.js";
import type { ClientFrame } from "./frames.js";

type Fields = Record<string, unknown>;

function badFrame(why: string, ref?: unknown): ProtocolError & { ref?: string } {
  const error: ProtocolError & { ref?: string } = new ProtocolError("CHAT_ERR_BAD_FRAME", {
    message: `The line is not a valid frame: ${why}.`,
  });
  if (typeof ref === "string") error.ref = ref;
  return error;
}

function optionalString(fields: Fields, key: string): string | undefined | false {
  const value = fields[key];
  if (value === undefined) return undefined;
  return typeof value === "string" ? value : false;
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
  const fields = value as Fields;
  const ref = fields["ref"];
  if (ref !== undefined && typeof ref !== "string") return badFrame("`ref` must be a string");
  const base = ref === undefined ? {} : { ref };
  const text = (key: string, required: boolean): string | undefined | ProtocolError => {
    const found = optionalString(fields, key);
    if (found === false) return badFrame(`\`${key}\` must be a string`, ref);
    if (found === undefined && required) return badFrame(`\`${key}\` is missing`, ref);
    return found;
  };
  switch (fields["type"]) {
    case "hello": {
      const proto = fields["proto"];
      if (typeof proto !== "number") return badFrame("`proto` must be a number");
      const nick = text("nick", false);
      const room = text("room", false);
      const client = text("client", false);
      for (const v of [nick, room, client]) if (v instanceof ProtocolError) return v;
      return {
        type: "hello",
        proto,
        ...(nick === undefined ? {} : { nick: nick as string }),
        ...(room === undefined ? {} : { room: room as string }),
        ...(client === undefined ? {} : { client: client as string }),
      };
    }
    case "send": {
      const body = text("text", true);
      if (body instanceof ProtocolError) return body;
      const room = text("room", false);
      if (room instanceof ProtocolError) return room;
      const action = fields["action"];
      if (action !== undefined && typeof action !== "boolean") {
        return badFrame("`action` must be a boolean", ref);
      }
      return {
        type: "send",
        ...base,
        text: body as string,
        ...(room === undefined ? {} : { room }),
        ...(action === true ? { action: true } : {}),
      };
    }
    case "dm": {
      const to = text("to", true);
      if (to instanceof ProtocolError) return to;
      const body = text("text", true);
      if (body instanceof ProtocolError) return body;
      return { type: "dm", ...base, to: to as string, text: body as string };
    }
    case "join": {
      const room = text("room", true);
      if (room instanceof ProtocolError) return room;
      return { type: "join", ...base, room: room as string };
    }
    case "part":
    case "who": {
      const room = text("room", false);
      if (room instanceof ProtocolError) return room;
      return { type: fields["type"], ...base, ...(room === undefined ? {} : { room }) };
    }
    case "nick": {
      const nick = text("nick", true);
      if (nick instanceof ProtocolError) return nick;
      return { type: "nick", ...base, nick: nick as string };
    }
    case "rooms":
    case "ping":
    case "pong":
    case "help":
      return { type: fields["type"], ...base };
    case "quit": {
      const reason = text("reason", false);
      if (reason instanceof ProtocolError) return reason;
      return { type: "quit", ...(reason === undefined ? {} : { reason }) };
    }
    default:
      return badFrame(
        fields["type"] === undefined
          ? "`type` is missing"
          : `unknown type ${JSON.stringify(fields["type"])}`,
        ref,
      );
  }
}
