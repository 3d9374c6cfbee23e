import { PROTOCOL_VERSION } from "../defaults.js";
import { FramingError, ProtocolError } from "../errors.js";
import { isSingleLine } from "../framing/line-encoder.js";
import type { ClientFrame, DmFrame, ServerFrame, ServerLimits } from "../protocol/frames.js";
import { isGuestNick } from "../protocol/lookalikes.js";
import { nameKey, normalizeName } from "../protocol/names.js";
import { TEXT_COMMANDS } from "../protocol/parse-text.js";
import { neutralizeField, neutralizeText } from "../protocol/text-safety.js";
import { type Codec, encodeBatch } from "./codec.js";
import { recordDirectMessage } from "./dm-history.js";
import { sendJoinHistory } from "./history-requests.js";
import type { ChatHub } from "./hub.js";
import { holdRegisteredNick, sendLoginGraceNotice } from "./login-grace.js";
import { sendJoinTopic } from "./operator-requests.js";
import type { Room } from "./room.js";
import type { Session } from "./session.js";
import { refill } from "./token-bucket.js";

/**
 * The requests a session can make (spec 3.2 and 4.1), one function each, over the hub's state.
 * Each answers with frames to the sender (and an ack when the request had a ref) or an error.
 * Every request has already cost one work token; requests whose reply grows with the server's
 * state (`who`, `rooms`, `help`) cost more, so that asking for big replies is paced too.
 */

/** Longest quit or part reason, and hello client name, kept (code points). */
const MAX_REASON_LENGTH = 160;
const MAX_CLIENT_NAME_LENGTH = 64;
/** Names per extra work token in a reply (`who` of 1,000 members costs 1 + 40). */
const NAMES_PER_WORK_TOKEN = 25;

export function hello(
  hub: ChatHub,
  session: Session,
  hello: Extract<ClientFrame, { type: "hello" }>,
  now: number,
): void {
  if (session.structured) {
    hub.replyError(
      session,
      new ProtocolError("CHAT_ERR_BAD_FRAME", { message: "hello was already sent." }),
    );
    return;
  }
  if (hello.proto !== PROTOCOL_VERSION) {
    hub.settleAsText(session, now);
    hub.replyError(
      session,
      new ProtocolError("CHAT_ERR_UNSUPPORTED_VERSION", {
        message: `This server speaks tcpchat/${PROTOCOL_VERSION}, not ${hello.proto}.`,
      }),
    );
    return;
  }
  // Flush the rooms first: a batch of this turn already encoded for the old codec (a slow
  // link's hello after a text settle) goes out before the switch, never after it.
  for (const room of session.rooms) hub.stats.deliveries += room.flush();
  const compact = hello.compact === true;
  hub.settleAsStructured(session, compact);
  if (hello.client !== undefined) {
    session.clientName = neutralizeField(hello.client, MAX_CLIENT_NAME_LENGTH);
  }
  let inLoginGrace = false;
  if (hello.nick !== undefined && nameKey(hello.nick) !== session.nickKey) {
    // A registered nick brought at connect is held for a grace period (see login-grace.ts).
    inLoginGrace = holdRegisteredNick(hub, session, hello.nick, now);
    if (!inLoginGrace) changeNick(hub, session, hello.nick, undefined, now);
  }
  let joined: Room | undefined;
  if (hello.room !== undefined) {
    const wanted = normalizeName(hello.room, "room", hub.settings.maxNameLength);
    if (typeof wanted === "string" && nameKey(wanted) !== session.current?.key) {
      const previous = session.current;
      joined = hub.joinRoom(session, wanted, now);
      if (joined !== undefined && previous !== undefined) {
        hub.leaveRoom(session, previous, "moved", now);
      }
    } else if (wanted instanceof ProtocolError) {
      hub.replyError(session, wanted);
    }
  }
  session.sendFrame({
    type: "welcome",
    proto: PROTOCOL_VERSION,
    server: hub.settings.software,
    session: session.id,
    nick: session.nick,
    room: session.current?.name ?? "",
    limits: advertisedLimits(hub),
    ...(compact ? { compact } : {}),
  });
  if (session.current !== undefined) {
    session.sendFrame(hub.presence(session.current));
  }
  if (inLoginGrace) sendLoginGraceNotice(hub, session);
  if (joined !== undefined) {
    sendJoinTopic(hub, session, joined);
    sendJoinHistory(hub, session, joined);
  }
  // What the rooms said between the greeting and the hello, now as JSON, after the welcome.
  session.flushPersonal();
  session.releaseHeld();
}

/** The limits a welcome advertises (spec 4.2). */
function advertisedLimits(hub: ChatHub): ServerLimits {
  const s = hub.settings;
  return {
    maxLineBytes: s.maxLineBytes,
    maxNameLength: s.maxNameLength,
    maxRoomsPerSession: s.maxRoomsPerSession,
    messageRate: s.messageRate,
    messageBurst: s.messageBurst,
    sendQueueBytes: s.sendQueueBytes,
    pingIntervalMs: s.pingIntervalMs,
    pingTimeoutMs: s.pingTimeoutMs,
  };
}

/** Checks a message text; returns the text to relay or null when an error was sent. */
function messageText(
  hub: ChatHub,
  session: Session,
  text: string,
  ref: string | undefined,
): string | null {
  if (text === "") {
    hub.replyError(session, new ProtocolError("CHAT_ERR_EMPTY_MESSAGE"), ref);
    return null;
  }
  // A JSON string may carry CR/LF; relayed to text clients it would forge extra lines (spec 1.4).
  if (!isSingleLine(text)) {
    hub.replyError(session, new FramingError("CHAT_ERR_LINE_BREAK_IN_TEXT"), ref);
    return null;
  }
  // Controls, C1 and bidi overrides are shown, never run, by every reader (spec 3.4).
  return neutralizeText(text);
}

export function sendToRoom(
  hub: ChatHub,
  session: Session,
  send: Extract<ClientFrame, { type: "send" }>,
  now: number,
): void {
  let room = session.current;
  if (send.room !== undefined) {
    room = hub.roomNamed(session, send.room);
    if (room === undefined || !room.members.has(session)) {
      return hub.replyError(
        session,
        new ProtocolError("CHAT_ERR_NOT_IN_ROOM", {
          message: `You are not in #${neutralizeField(send.room, 40)}.`,
        }),
        send.ref,
      );
    }
  }
  if (room === undefined)
    return hub.replyError(session, new ProtocolError("CHAT_ERR_NOT_IN_ROOM"), send.ref);
  const text = messageText(hub, session, send.text, send.ref);
  if (text === null) return;
  if (!hub.takeToken(session, now)) return hub.rateLimited(session, send.ref);
  hub.stats.messagesIn += 1;
  const serial = hub.messageSerial();
  const id = hub.messageIdOf(serial);
  hub.broadcast(
    room,
    send.action
      ? { type: "message", id, ts: now, room: room.name, from: session.nick, text, action: true }
      : { type: "message", id, ts: now, room: room.name, from: session.nick, text },
  );
  if (send.ref !== undefined) session.sendFrame({ type: "ack", ref: send.ref, id, ts: now });
  hub.emitMessage(id, serial, now, room, session.nick, text, send.action === true);
}

export function directMessage(
  hub: ChatHub,
  session: Session,
  dm: Extract<ClientFrame, { type: "dm" }>,
  now: number,
): void {
  const text = messageText(hub, session, dm.text, dm.ref);
  if (text === null) return;
  const target = hub.nicks.get(dm.to);
  if (target === undefined && hub.remoteNick(dm.to) !== undefined) {
    return remoteDirectMessage(hub, session, dm, text, now);
  }
  if (target === undefined) {
    return hub.replyError(
      session,
      new ProtocolError("CHAT_ERR_NO_SUCH_NICK", {
        message: `Nobody called ${neutralizeField(dm.to, 40)} is connected.`,
      }),
      dm.ref,
    );
  }
  if (!hub.takeToken(session, now)) return hub.rateLimited(session, dm.ref);
  hub.stats.messagesIn += 1;
  // The serial is what history stores the DM by: handed over, not parsed back from the id.
  const serial = hub.messageSerial();
  const id = hub.messageIdOf(serial);
  // A DM to the operator's nick goes to the operator console (the `dm` event).
  const to = target === null ? hub.settings.operatorNick : target.nick;
  const frame: DmFrame = { type: "dm", id, ts: now, from: session.nick, to, text };
  if (target !== null) {
    target.sendFrame(frame);
    hub.stats.deliveries += 1;
    recordDirectMessage(hub, session, target, frame, serial);
  }
  if (session.structured) {
    if (dm.ref !== undefined) session.sendFrame({ type: "ack", ref: dm.ref, id, ts: now });
  } else {
    session.sendLine(`*dm* -> ${to}: ${text}`);
  }
  if (hub.events.listenerCount("dm") > 0)
    hub.events.emit("dm", { id, ts: now, from: session.nick, to, text });
}

/** A DM whose target is on another node of the cluster: sent to that node only. */
function remoteDirectMessage(
  hub: ChatHub,
  session: Session,
  dm: Extract<ClientFrame, { type: "dm" }>,
  text: string,
  now: number,
): void {
  if (!hub.takeToken(session, now)) return hub.rateLimited(session, dm.ref);
  hub.stats.messagesIn += 1;
  const id = hub.messageId();
  const to = hub.remoteNick(dm.to)!;
  hub.sendRemoteDm(
    nameKey(to),
    { type: "dm", id, ts: now, from: session.nick, to, text },
    session.account,
  );
  if (session.structured) {
    if (dm.ref !== undefined) session.sendFrame({ type: "ack", ref: dm.ref, id, ts: now });
  } else {
    session.sendLine(`*dm* -> ${to}: ${text}`);
  }
  if (hub.events.listenerCount("dm") > 0)
    hub.events.emit("dm", { id, ts: now, from: session.nick, to, text });
}

export function joinRequest(
  hub: ChatHub,
  session: Session,
  rawName: string,
  ref: string | undefined,
  now: number,
): void {
  // A join is heard by the room: it costs a message token like a message does.
  if (!hub.takeToken(session, now)) return hub.rateLimited(session, ref);
  const wasIn = new Set(session.rooms);
  const room = hub.joinRoom(session, rawName, now, ref);
  if (room === undefined) return;
  hub.ack(session, ref, now);
  if (!wasIn.has(room)) {
    sendJoinTopic(hub, session, room);
    sendJoinHistory(hub, session, room);
  }
}

export function partRoom(
  hub: ChatHub,
  session: Session,
  rawName: string | undefined,
  ref: string | undefined,
  now: number,
): void {
  const room = hub.roomNamed(session, rawName);
  if (room === undefined || !room.members.has(session)) {
    return hub.replyError(session, new ProtocolError("CHAT_ERR_NOT_IN_ROOM"), ref);
  }
  if (!hub.takeToken(session, now)) return hub.rateLimited(session, ref);
  hub.leaveRoom(session, room, "part", now);
  if (!session.structured) {
    session.sendLine(
      session.current === undefined
        ? `*** you left #${room.name}; you are in no room now (/join ROOM)`
        : `*** you left #${room.name}; now talking in #${session.current.name}`,
    );
  }
  hub.ack(session, ref, now);
}

function takeNickToken(hub: ChatHub, session: Session, now: number): boolean {
  const tokens = refill(
    session.nickTokens,
    session.nickTokensAt,
    now,
    hub.settings.nickRate,
    hub.settings.nickBurst,
  );
  session.nickTokensAt = now;
  if (tokens < 1) {
    session.nickTokens = tokens;
    return false;
  }
  session.nickTokens = tokens - 1;
  return true;
}

export function changeNick(
  hub: ChatHub,
  session: Session,
  raw: string,
  ref: string | undefined,
  now: number,
): void {
  const nick = normalizeName(raw, "nick", hub.settings.maxNameLength);
  if (nick instanceof ProtocolError) return hub.replyError(session, nick, ref);
  // Guest nicks are the server's to give (spec 5); a reconnecting guest may take its own back.
  if (isGuestNick(nick) && !hub.nicks.mayTakeGuestNick(session, nick, now)) {
    return hub.replyError(
      session,
      new ProtocolError("CHAT_ERR_NICK_RESERVED", {
        message: `The nick ${nick} starts with guest- (or looks like it): the server gives those to sessions that have not picked a nick.`,
      }),
      ref,
    );
  }
  const owner = hub.accounts?.ownerOf(nick);
  if (owner !== undefined && owner !== session.account) {
    return hub.replyError(
      session,
      new ProtocolError("CHAT_ERR_NICK_REGISTERED", {
        message: `The nick ${nick} is registered${owner === nameKey(nick) ? "" : " (it looks like a registered nick)"}.`,
      }),
      ref,
    );
  }
  const conflict = hub.nicks.conflict(session, nick, now);
  if (conflict !== null) {
    const error =
      conflict.kind === "in-use"
        ? new ProtocolError("CHAT_ERR_NICK_IN_USE", { message: `The nick ${nick} is taken.` })
        : conflict.kind === "lookalike"
          ? new ProtocolError("CHAT_ERR_NAME_CONFUSABLE", {
              message: `The nick ${nick} looks like ${conflict.holder}, who is connected.`,
            })
          : new ProtocolError("CHAT_ERR_NICK_HELD", {
              message: `The nick ${nick} is kept for its owner, who dropped off, for ${Math.ceil(conflict.untilMs / 1000)} s more.`,
            });
    return hub.replyError(session, error, ref);
  }
  if (nick === session.nick) return hub.ack(session, ref, now);
  // A nick change is heard by every peer: it is paced on its own (spec 7).
  if (!takeNickToken(hub, session, now)) {
    hub.stats.rateLimited += 1;
    return hub.replyError(
      session,
      new ProtocolError("CHAT_ERR_RATE_LIMITED", {
        message: `You are changing nick faster than the server allows (${hub.settings.nickBurst} at once, then one every ${Math.round(1 / hub.settings.nickRate)} s); your nick is still ${session.nick}.`,
      }),
      ref,
    );
  }
  const old = session.nick;
  hub.nicks.take(session, nick);
  announceNick(hub, session, { type: "nick", ts: now, old, new: nick });
  hub.ack(session, ref, now);
  if (hub.events.listenerCount("nick") > 0) hub.events.emit("nick", { old, new: nick });
}

/**
 * Takes a nick back from a session that lost it to another node of the cluster (both took it
 * at once; Redis kept the other's claim): the session gets a guest nick, its rooms hear the
 * change, and it is told why.
 */
export function loseNick(hub: ChatHub, session: Session, guest: string, now: number): void {
  const old = session.nick;
  hub.nicks.take(session, guest);
  announceNick(hub, session, { type: "nick", ts: now, old, new: guest });
  hub.replyError(
    session,
    new ProtocolError("CHAT_ERR_NICK_IN_USE", {
      message: `The nick ${old} was taken on another server of this cluster at the same moment; you are ${guest} now.`,
    }),
  );
  if (hub.events.listenerCount("nick") > 0) hub.events.emit("nick", { old, new: guest });
}

/**
 * Tells each peer that shares a small room with the session once, however many rooms they
 * share. Big rooms do not hear nick changes (quadratic in a connect storm; `/who` shows them),
 * and nobody hears the change of a session not yet announced (they will hear it join as `nick`).
 */
export function announceNick(hub: ChatHub, session: Session, frame: ServerFrame): void {
  const peers = new Set<Session>([session]);
  // What the rooms said before the change reaches everyone before it.
  for (const room of session.rooms) hub.stats.deliveries += room.flush();
  if (session.announced) {
    for (const room of session.rooms) {
      if (room.members.size > hub.settings.announceRoomSize) continue;
      for (const member of room.members) peers.add(member);
    }
    hub.publishNick(session, frame);
  }
  const encoded = new Map<Codec, Buffer | null>();
  for (const peer of peers) {
    peer.sendNow(frame, encoded);
    if (peer !== session) hub.stats.deliveries += 1;
  }
}

export function who(
  hub: ChatHub,
  session: Session,
  rawName: string | undefined,
  ref: string | undefined,
  now: number,
): void {
  const room = hub.roomNamed(session, rawName);
  const noRoom = () =>
    hub.replyError(
      session,
      new ProtocolError(
        "CHAT_ERR_NOT_IN_ROOM",
        rawName
          ? { message: `There is no room #${neutralizeField(rawName.replace(/^#/, ""), 40)}.` }
          : {},
      ),
      ref,
    );
  if (room === undefined && rawName !== undefined && hub.clustered) {
    // A room with no member on this node may have members on others: the cluster knows.
    return hub.remotePresence(rawName.replace(/^#/, ""), (presence) => {
      if (!session.open) return;
      if (presence === null) return noRoom();
      hub.chargeWork(session, Math.floor(presence.nicks.length / NAMES_PER_WORK_TOKEN));
      session.sendFrame(presence);
      hub.ack(session, ref, Date.now());
    });
  }
  if (room === undefined) return noRoom();
  hub.chargeWork(session, Math.floor(room.members.size / NAMES_PER_WORK_TOKEN));
  session.sendFrame(hub.presence(room, Number.POSITIVE_INFINITY));
  hub.ack(session, ref, now);
}

export function rooms(hub: ChatHub, session: Session, ref: string | undefined, now: number): void {
  if (hub.clustered) {
    // Rooms with members only on other nodes are known to the cluster, not to this node.
    return hub.clusterRooms((list) => {
      if (!session.open) return;
      const rooms = list ?? hub.roomList();
      hub.chargeWork(session, Math.floor(rooms.length / NAMES_PER_WORK_TOKEN));
      session.sendFrame({ type: "rooms", rooms });
      hub.ack(session, ref, Date.now());
    });
  }
  hub.chargeWork(session, Math.floor(hub.rooms.size / NAMES_PER_WORK_TOKEN));
  session.sendFrame({ type: "rooms", rooms: hub.roomList() });
  hub.ack(session, ref, now);
}

/** The answer to `help`: the same for everyone (spec 3.2's commands, as notices). */
const HELP_FRAMES: readonly ServerFrame[] = [
  ...Object.values(TEXT_COMMANDS).map((usage) => ({ type: "notice" as const, text: usage })),
  { type: "notice", text: "lines not starting with / are messages to your current room" },
];
/**
 * The bytes of {@link HELP_FRAMES} per codec, made on first use: a flood of `help` costs a
 * write of shared bytes per request, not twenty frames encoded (a WebSocket frame each).
 */
const helpBytes = new Map<Codec, Buffer | null>();

export function help(hub: ChatHub, session: Session, ref: string | undefined, now: number): void {
  // Twenty lines of reply for one line of request.
  hub.chargeWork(session, 4);
  const codec = session.codec;
  if (codec === null) {
    for (const frame of HELP_FRAMES) session.sendFrame(frame);
  } else if (session.open) {
    let bytes = helpBytes.get(codec);
    if (bytes === undefined) {
      bytes = encodeBatch(codec, HELP_FRAMES);
      helpBytes.set(codec, bytes);
    }
    if (bytes !== null) session.queuePersonal(bytes);
  }
  hub.ack(session, ref, now);
}

export function quit(hub: ChatHub, session: Session, reason: string | undefined): void {
  const safe = reason === undefined ? "" : neutralizeField(reason, MAX_REASON_LENGTH);
  hub.close(session, { reason: `quit${safe ? `: ${safe}` : ""}` }, true);
}
