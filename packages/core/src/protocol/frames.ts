/**
 * Types of the frames of structured mode (spec 4), and of the requests both modes turn into.
 * Each is inferred from its schema in frame-schema.ts, so a type and its validator cannot drift.
 */
import type { InferOutput } from "valibot";
import type {
  CLIENT_FRAME_SCHEMA,
  SERVER_FRAME_SCHEMA,
  SERVER_FRAME_SCHEMAS,
  SERVER_LIMITS_SCHEMA,
} from "./frame-schema.js";

type Server = typeof SERVER_FRAME_SCHEMAS;

/** A request from a client, whichever mode it came in (spec 3.2 and 4.1). */
export type ClientFrame = InferOutput<typeof CLIENT_FRAME_SCHEMA>;

/** Limits the server advertises in its welcome, so clients can pace themselves. */
export type ServerLimits = InferOutput<typeof SERVER_LIMITS_SCHEMA>;

/** The server's answer to `hello`: the session's nick and room, and the server's limits. */
export type WelcomeFrame = InferOutput<Server["welcome"]>;
/** A message in a room. */
export type MessageFrame = InferOutput<Server["message"]>;
/** A direct message (to this client, or the echo of one it sent). */
export type DmFrame = InferOutput<Server["dm"]>;
/** Someone joined a room. */
export type JoinFrame = InferOutput<Server["join"]>;
/** Someone left a room. */
export type PartFrame = InferOutput<Server["part"]>;
/** Joins and leaves in a big room, summed up over a window. */
export type CrowdFrame = InferOutput<Server["crowd"]>;
/** Someone changed nick. */
export type NickFrame = InferOutput<Server["nick"]>;
/**
 * Members of a room: `count` members; `truncated` is set when `nicks` is cut short (unasked
 * lists of big rooms); `who` gets them all.
 */
export type PresenceFrame = InferOutput<Server["presence"]>;
/** Rooms with their member counts. */
export type RoomsFrame = InferOutput<Server["rooms"]>;
/** A request with this `ref` succeeded. */
export type AckFrame = InferOutput<Server["ack"]>;
/** A request failed (with its `ref`), or the server reports a problem. */
export type ErrorFrame = InferOutput<Server["error"]>;
/** The server checks the client is alive: answer with a `pong` carrying the same `ref`. */
export type PingFrame = InferOutput<Server["ping"]>;
/** The answer to a client's `ping`. */
export type PongFrame = InferOutput<Server["pong"]>;
/** Text from the server or an operator. */
export type NoticeFrame = InferOutput<Server["notice"]>;
/** The server is shutting down within `deadlineMs`. */
export type ShutdownFrame = InferOutput<Server["shutdown"]>;

/** Every frame a server sends in structured mode. */
export type ServerFrame = InferOutput<typeof SERVER_FRAME_SCHEMA>;
/** The `type` of a server frame. */
export type ServerFrameType = ServerFrame["type"];
