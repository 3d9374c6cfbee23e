import { ProtocolError } from "../errors.js";
import { isSingleLine } from "../framing/line-encoder.js";
import type { ClientFrame, ServerFrame } from "../protocol/frames.js";
import { nameKey, normalizeName } from "../protocol/names.js";
import { neutralizeField, neutralizeText } from "../protocol/text-safety.js";
import type { StoredTopic } from "../store/types.js";
import type { ChatHub } from "./hub.js";
import type { Room } from "./room.js";
import type { Session } from "./session.js";

/**
 * What operator accounts do from any client besides `kick`: `ban`, `unban` and `topic` (text:
 * `/ban`, `/unban`, `/topic`). Permissions are checked here, in core, before anything else: a
 * front end cannot grant what the server does not. Asking for a topic is open to everyone.
 */

/**
 * The ban list operators change from their clients: the server's accept policy, so that a ban
 * applies at accept time, and its store, so that it survives a restart (the console's bans go
 * to the same two places).
 */
export interface BanAuthority {
  /**
   * Bans an address or CIDR block; returns it as stored (canonical text).
   * @throws {TypeError} if the target is not an address or CIDR, or the duration is not > 0.
   */
  ban(target: string, options: { durationMs?: number; reason?: string }): string;
  /**
   * Lifts a ban; false when there was none.
   * @throws {TypeError} if the target is not an address or CIDR.
   */
  unban(target: string): boolean;
  /** Whether a ban covers `address` now. */
  isBanned(address: string): boolean;
}

/** Longest ban reason and topic kept, in code points. */
const MAX_BAN_REASON_LENGTH = 160;
/** Longest topic accepted, in code points (a topic is shown on every join). */
export const MAX_TOPIC_LENGTH = 300;

function mayOperate(hub: ChatHub, session: Session, ref: string | undefined): boolean {
  if (session.operator) return true;
  hub.replyError(session, new ProtocolError("CHAT_ERR_NOT_PERMITTED"), ref);
  return false;
}

/** `90s`, `15m`, `2h`, `1d`: the largest unit that divides the duration exactly. */
function formatDuration(ms: number): string {
  for (const [unit, size] of [
    ["d", 86_400_000],
    ["h", 3_600_000],
    ["m", 60_000],
    ["s", 1000],
  ] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms} ms`;
}

/**
 * `/ban NICK|ADDRESS [DURATION] [REASON]`: bans the address of a connected nick (on any node of
 * a cluster: a nick held on another node is asked its address there), or an address or CIDR
 * block, then disconnects every other session the ban covers, on every node of a cluster (the
 * answer waits for the other nodes' counts). The operator's own session stays (it is told when
 * the ban covers its address too).
 */
export function ban(
  hub: ChatHub,
  session: Session,
  request: Extract<ClientFrame, { type: "ban" }>,
  now: number,
): void {
  if (!mayOperate(hub, session, request.ref)) return;
  if (hub.bans === undefined) {
    return hub.replyError(session, new ProtocolError("CHAT_ERR_BANS_OFF"), request.ref);
  }
  const holder = hub.nicks.get(request.target);
  if (holder === null) {
    return hub.replyError(
      session,
      new ProtocolError("CHAT_ERR_BAD_ARGUMENT", {
        message: "The server's operator cannot be banned.",
      }),
      request.ref,
    );
  }
  if (holder !== undefined) {
    return banAddress(
      hub,
      session,
      request,
      { nick: holder.nick, address: holder.peer.address },
      now,
    );
  }
  if (hub.remoteNick(request.target) === undefined) {
    return banAddress(hub, session, request, undefined, now);
  }
  // Held on another node of the cluster: that node says the address (null: gone meanwhile, and
  // the target is then read as an address, which a nick is not: the usual error).
  hub.remoteAddressOf(request.target, (found) => {
    if (session.open) banAddress(hub, session, request, found ?? undefined, Date.now());
  });
}

/** {@link ban} once the target is known: `holder`, a connected nick and its address, or none. */
function banAddress(
  hub: ChatHub,
  session: Session,
  request: Extract<ClientFrame, { type: "ban" }>,
  holder: { nick: string; address: string } | undefined,
  now: number,
): void {
  const bans = hub.bans;
  if (bans === undefined) {
    return hub.replyError(session, new ProtocolError("CHAT_ERR_BANS_OFF"), request.ref);
  }
  const target = holder === undefined ? request.target : holder.address;
  const reason =
    request.reason === undefined || request.reason === ""
      ? `banned by ${session.nick}`
      : `banned by ${session.nick}: ${neutralizeField(request.reason, MAX_BAN_REASON_LENGTH)}`;
  let stored: string;
  try {
    stored = bans.ban(target, {
      ...(request.durationMs === undefined ? {} : { durationMs: request.durationMs }),
      reason,
    });
  } catch (error) {
    return hub.replyError(
      session,
      new ProtocolError("CHAT_ERR_BAD_ARGUMENT", {
        message:
          holder === undefined && !/^[0-9a-f:.]+(\/\d+)?$/i.test(request.target)
            ? `Nobody called ${neutralizeField(request.target, 40)} is connected, and it is not an address or CIDR block.`
            : `Cannot ban ${neutralizeField(request.target, 60)}: ${(error as Error).message}.`,
        hint: "Name a connected nick, an address (203.0.113.7) or a block (203.0.113.0/24), then an optional duration (90s, 15m, 2h, 1d).",
      }),
      request.ref,
    );
  }
  let disconnected = 0;
  for (const other of [...hub.sessions]) {
    if (other === session || !other.open || !bans.isBanned(other.peer.address)) continue;
    hub.disconnect(other, "CHAT_ERR_KICKED", reason);
    disconnected += 1;
  }
  const span =
    request.durationMs === undefined ? "until lifted" : `for ${formatDuration(request.durationMs)}`;
  const answer = (elsewhere: number, at: number) => {
    session.sendLine(
      `*** banned ${stored}${holder === undefined ? "" : ` (${holder.nick})`} ${span}; disconnected ${disconnected + elsewhere}${hub.clustered ? ` (${elsewhere} on other nodes)` : ""}`,
    );
    if (bans.isBanned(session.peer.address)) {
      session.sendLine(
        `*** note: the ban covers your own address too; you stay connected, but a new connection from it would be refused (/unban ${stored})`,
      );
    }
    hub.ack(session, request.ref, at);
  };
  if (!hub.clustered) return answer(0, now);
  hub.kickCoveredRemote(stored, "CHAT_ERR_KICKED", reason, (elsewhere) => {
    if (session.open) answer(elsewhere, Date.now());
  });
}

/** `/unban ADDRESS`: lifts the ban of an address or block (as banned, in any spelling). */
export function unban(
  hub: ChatHub,
  session: Session,
  request: Extract<ClientFrame, { type: "unban" }>,
  now: number,
): void {
  if (!mayOperate(hub, session, request.ref)) return;
  const bans = hub.bans;
  if (bans === undefined) {
    return hub.replyError(session, new ProtocolError("CHAT_ERR_BANS_OFF"), request.ref);
  }
  let lifted: boolean;
  try {
    lifted = bans.unban(request.target);
  } catch (error) {
    return hub.replyError(
      session,
      new ProtocolError("CHAT_ERR_BAD_ARGUMENT", {
        message: `Cannot unban ${neutralizeField(request.target, 60)}: ${(error as Error).message}.`,
      }),
      request.ref,
    );
  }
  if (!lifted) {
    return hub.replyError(
      session,
      new ProtocolError("CHAT_ERR_NOT_BANNED", {
        message: `${neutralizeField(request.target, 60)} is not banned.`,
      }),
      request.ref,
    );
  }
  session.sendLine(`*** unbanned ${neutralizeField(request.target, 60)}`);
  hub.ack(session, request.ref, now);
}

/** The topic frame of a room ("" when it has none). */
export function topicFrame(room: string, topic: StoredTopic | undefined): ServerFrame {
  return topic === undefined
    ? { type: "topic", room, text: "" }
    : { type: "topic", room, text: topic.text, by: topic.by, ts: topic.ts };
}

/**
 * Tells a session that just joined a room the room's topic, if it has one. Called beside
 * `sendJoinHistory`: after the join's own replies, before the room's next batch.
 */
export function sendJoinTopic(hub: ChatHub, session: Session, room: Room): void {
  const topic = hub.topics.get(room.key);
  if (topic === undefined) return;
  session.sendFrame(topicFrame(room.name, topic));
  // Out before the room's pending batch (the join itself, what was said after it).
  if (session.codec !== null) session.flushPersonal();
}

/** Why a topic text cannot be a topic, or undefined when it can. */
export function topicProblem(text: string): ProtocolError | undefined {
  if (isSingleLine(text) && [...text].length <= MAX_TOPIC_LENGTH) return undefined;
  return new ProtocolError("CHAT_ERR_BAD_ARGUMENT", {
    message: `A topic is one line of at most ${MAX_TOPIC_LENGTH} characters.`,
  });
}

/**
 * Sets a room's topic ("" clears it) and tells the room, if it has members here; returns the
 * frame the room heard. The text must have passed {@link topicProblem}.
 */
export function setTopic(
  hub: ChatHub,
  target: { key: string; name: string },
  text: string,
  by: string,
  now: number,
): ServerFrame {
  const stored: StoredTopic = {
    roomKey: target.key,
    room: target.name,
    text: neutralizeText(text),
    by,
    ts: now,
  };
  hub.topics.set(stored);
  const frame = topicFrame(target.name, stored.text === "" ? undefined : stored);
  const room = hub.rooms.get(target.key);
  // In a cluster each node shows a topic change to its own members when it hears of it (the
  // room's batch would miss a node whose subscription to the room is still under way).
  if (room !== undefined) {
    if (hub.clustered) hub.deliverRemote(room.key, [frame]);
    else hub.broadcast(room, frame);
  }
  return frame;
}

/**
 * `topic` without text answers with the room's topic (anyone may ask); with text it sets the
 * topic ("" clears it; operators only) and the room hears the new one. A room with no member
 * now can have a topic too: it is shown when someone joins it.
 */
export function topic(
  hub: ChatHub,
  session: Session,
  request: Extract<ClientFrame, { type: "topic" }>,
  now: number,
): void {
  const room = hub.roomNamed(session, request.room);
  let key: string;
  let name: string;
  if (room !== undefined) {
    key = room.key;
    name = room.name;
  } else if (request.room === undefined) {
    return hub.replyError(session, new ProtocolError("CHAT_ERR_NOT_IN_ROOM"), request.ref);
  } else {
    const raw = request.room.startsWith("#") ? request.room.slice(1) : request.room;
    const normalized = normalizeName(raw, "room", hub.settings.maxNameLength);
    if (normalized instanceof ProtocolError) {
      return hub.replyError(session, normalized, request.ref);
    }
    key = nameKey(normalized);
    name = normalized;
  }
  if (request.text === undefined) {
    session.sendFrame(topicFrame(name, hub.topics.get(key)));
    return hub.ack(session, request.ref, now);
  }
  if (!mayOperate(hub, session, request.ref)) return;
  const problem = topicProblem(request.text);
  if (problem !== undefined) return hub.replyError(session, problem, request.ref);
  // Heard by the whole room, like a message: it costs a message token.
  if (!hub.takeToken(session, now)) return hub.rateLimited(session, request.ref);
  const frame = setTopic(hub, { key, name }, request.text, session.nick, now);
  if (room === undefined || !room.members.has(session)) session.sendFrame(frame);
  hub.ack(session, request.ref, now);
}
