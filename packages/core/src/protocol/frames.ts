/** Frames of structured mode (spec 4), and the requests both modes turn into. */

/** A request from a client, whichever mode it came in (spec 3.2 and 4.1). */
export type ClientFrame =
  | { type: "hello"; proto: number; nick?: string; room?: string; client?: string }
  | { type: "send"; ref?: string; room?: string; text: string; action?: boolean }
  | { type: "dm"; ref?: string; to: string; text: string }
  | { type: "join"; ref?: string; room: string }
  | { type: "part"; ref?: string; room?: string }
  | { type: "nick"; ref?: string; nick: string }
  | { type: "who"; ref?: string; room?: string }
  | { type: "rooms"; ref?: string }
  | { type: "ping"; ref?: string }
  | { type: "pong"; ref?: string }
  | { type: "help"; ref?: string }
  | { type: "quit"; reason?: string };

/** Limits the server advertises in its welcome, so clients can pace themselves. */
export interface ServerLimits {
  maxLineBytes: number;
  maxNameLength: number;
  maxRoomsPerSession: number;
  /** Messages per second (token bucket refill). */
  messageRate: number;
  messageBurst: number;
  sendQueueBytes: number;
  pingIntervalMs: number;
  pingTimeoutMs: number;
}

export interface WelcomeFrame {
  type: "welcome";
  proto: number;
  server: string;
  session: string;
  nick: string;
  room: string;
  limits: ServerLimits;
}
export interface MessageFrame {
  type: "message";
  id: string;
  ts: number;
  room: string;
  from: string;
  text: string;
  action?: boolean;
}
export interface DmFrame {
  type: "dm";
  id: string;
  ts: number;
  from: string;
  to: string;
  text: string;
}
export interface JoinFrame {
  type: "join";
  ts: number;
  room: string;
  nick: string;
}
export interface PartFrame {
  type: "part";
  ts: number;
  room: string;
  nick: string;
  reason?: string;
}
/** Joins and leaves in a big room, summed up over a window. */
export interface CrowdFrame {
  type: "crowd";
  ts: number;
  room: string;
  joined: number;
  left: number;
  windowMs: number;
}
export interface NickFrame {
  type: "nick";
  ts: number;
  old: string;
  new: string;
}
export interface PresenceFrame {
  type: "presence";
  room: string;
  nicks: string[];
  /** Members in the room. */
  count: number;
  /** Set when `nicks` is cut short (unasked lists of big rooms); `who` gets them all. */
  truncated?: boolean;
}
export interface RoomsFrame {
  type: "rooms";
  rooms: Array<{ name: string; members: number }>;
}
export interface AckFrame {
  type: "ack";
  ref: string;
  id?: string;
  ts: number;
}
export interface ErrorFrame {
  type: "error";
  code: string;
  message: string;
  hint: string;
  ref?: string;
}
export interface PingFrame {
  type: "ping";
  ref: string;
}
export interface PongFrame {
  type: "pong";
  ref?: string;
}
export interface NoticeFrame {
  type: "notice";
  text: string;
}
export interface ShutdownFrame {
  type: "shutdown";
  reason: string;
  deadlineMs: number;
}

/** Every frame a server sends in structured mode. */
export type ServerFrame =
  | WelcomeFrame
  | MessageFrame
  | DmFrame
  | JoinFrame
  | PartFrame
  | CrowdFrame
  | NickFrame
  | PresenceFrame
  | RoomsFrame
  | AckFrame
  | ErrorFrame
  | PingFrame
  | PongFrame
  | NoticeFrame
  | ShutdownFrame;
