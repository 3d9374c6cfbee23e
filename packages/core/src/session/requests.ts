import { PROTOCOL_VERSION } from "../defaults.js";
import { FramingError, ProtocolError } from "../errors.js";
import { isSingleLine } from "../framing/line-encoder.js";
import type { ClientFrame, ServerFrame } from "../protocol/frames.js";
import { nameKey, normalizeName } from "../protocol/names.js";
import type { ChatHub } from "./hub.js";
import { SESSION_STATE, type Session } from "./session.js";

/**
 * The requests a session can make (spec 3.2 and 4.1), one function each, over the hub's state.
 * Each answers with frames to the sender (and an ack when the request had a ref) or an error.
 */

export function hello(
  hub: ChatHub,
  session: Session,
  hello: Extract<ClientFrame, { type: "hello" }>,
  now: number,
): void {
  if (session.state !== SESSION_STATE.pending) {
    hub.replyError(
      session,
      new ProtocolError("CHAT_ERR_BAD_FRAME", { message: "hello was already sent." }),
    );
    return;
  }
  if (hello.proto !== PROTOCOL_VERSION) {
    hub.replyError(
      session,
      new ProtocolError("CHAT_ERR_UNSUPPORTED_VERSION", {
        message: `This server speaks tcpchat/${PROTOCOL_VERSION}, not ${hello.proto}.`,
      }),
    );
    return;
  }
  // Switch mode: flush the rooms first so no text-encoded batch reaches a JSON client.
  for (const room of session.rooms) {
    hub.stats.deliveries += room.flush();
    room.textMembers -= 1;
    room.structuredMembers += 1;
  }
  session.state = SESSION_STATE.structured;
  session.mode = "structured";
  hub.structuredSessions.add(session);
  if (hello.nick !== undefined && nameKey(hello.nick) !== session.nickKey) {
    changeNick(hub, session, hello.nick, undefined, now);
  }
  if (hello.room !== undefined) {
    const wanted = normalizeName(hello.room, "room", hub.settings.maxNameLength);
    if (typeof wanted === "string" && nameKey(wanted) !== session.current?.key) {
      const previous = session.current;
      if (hub.joinRoom(session, wanted, now) !== undefined && previous !== undefined) {
        hub.leaveRoom(session, previous, "moved", now);
      }
    } else if (wanted instanceof ProtocolError) {
      hub.replyError(session, wanted);
    }
  }
  const {
    announceRoomSize: _a,
    announceWindowMs: _w,
    shutdownGraceMs: _g,
    defaultRoom: _d,
    operatorNick: _o,
    software,
    ...limits
  } = hub.settings;
  session.sendFrame({
    type: "welcome",
    proto: PROTOCOL_VERSION,
    server: software,
    session: session.id,
    nick: session.nick,
    room: session.current?.name ?? "",
    limits,
  });
  if (session.current !== undefined) {
    session.sendFrame(hub.presence(session.current));
  }
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
        new ProtocolError("CHAT_ERR_NOT_IN_ROOM", { message: `You are not in #${send.room}.` }),
        send.ref,
      );
    }
  }
  if (room === undefined)
    return hub.replyError(session, new ProtocolError("CHAT_ERR_NOT_IN_ROOM"), send.ref);
  if (send.text === "")
    return hub.replyError(session, new ProtocolError("CHAT_ERR_EMPTY_MESSAGE"), send.ref);
  // A JSON string may carry CR/LF; relayed to text clients it would forge extra lines (spec 1.4).
  if (!isSingleLine(send.text))
    return hub.replyError(session, new FramingError("CHAT_ERR_LINE_BREAK_IN_TEXT"), send.ref);
  if (!hub.takeToken(session, now)) return hub.rateLimited(session, send.ref);
  hub.stats.messagesIn += 1;
  const id = hub.messageId();
  hub.broadcast(
    room,
    send.action
      ? {
          type: "message",
          id,
          ts: now,
          room: room.name,
          from: session.nick,
          text: send.text,
          action: true,
        }
      : { type: "message", id, ts: now, room: room.name, from: session.nick, text: send.text },
  );
  if (send.ref !== undefined) session.sendFrame({ type: "ack", ref: send.ref, id, ts: now });
  hub.emitMessage(id, now, room.name, session.nick, send.text, send.action === true);
}

export function directMessage(
  hub: ChatHub,
  session: Session,
  dm: Extract<ClientFrame, { type: "dm" }>,
  now: number,
): void {
  if (dm.text === "")
    return hub.replyError(session, new ProtocolError("CHAT_ERR_EMPTY_MESSAGE"), dm.ref);
  if (!isSingleLine(dm.text))
    return hub.replyError(session, new FramingError("CHAT_ERR_LINE_BREAK_IN_TEXT"), dm.ref);
  const key = nameKey(dm.to);
  const target = hub.nicks.get(key);
  if (target === undefined) {
    return hub.replyError(
      session,
      new ProtocolError("CHAT_ERR_NO_SUCH_NICK", {
        message: `Nobody called ${dm.to} is connected.`,
      }),
      dm.ref,
    );
  }
  if (!hub.takeToken(session, now)) return hub.rateLimited(session, dm.ref);
  hub.stats.messagesIn += 1;
  const id = hub.messageId();
  const to = target === null ? hub.settings.operatorNick : target.nick;
  const frame: ServerFrame = { type: "dm", id, ts: now, from: session.nick, to, text: dm.text };
  if (target !== null) {
    target.sendFrame(frame);
    hub.stats.deliveries += 1;
  }
  if (session.structured) {
    if (dm.ref !== undefined) session.sendFrame({ type: "ack", ref: dm.ref, id, ts: now });
  } else {
    session.sendLine(`*dm* -> ${to}: ${dm.text}`);
  }
  if (hub.events.listenerCount("dm") > 0)
    hub.events.emit("dm", { id, ts: now, from: session.nick, to, text: dm.text });
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

export function changeNick(
  hub: ChatHub,
  session: Session,
  raw: string,
  ref: string | undefined,
  now: number,
): void {
  const nick = normalizeName(raw, "nick", hub.settings.maxNameLength);
  if (nick instanceof ProtocolError) return hub.replyError(session, nick, ref);
  const key = nameKey(nick);
  const holder = hub.nicks.get(key);
  if (holder !== undefined && holder !== session) {
    return hub.replyError(
      session,
      new ProtocolError("CHAT_ERR_NICK_IN_USE", { message: `The nick ${nick} is taken.` }),
      ref,
    );
  }
  const old = session.nick;
  hub.nicks.delete(session.nickKey);
  hub.nicks.set(key, session);
  session.nick = nick;
  session.nickKey = key;
  const frame: ServerFrame = { type: "nick", ts: now, old, new: nick };
  // Big rooms do not hear nick changes (it would be quadratic in a connect storm); /who shows them.
  // Nobody hears the nick change of a session not yet announced: they will hear it join as `nick`.
  let told = false;
  for (const room of session.announced ? session.rooms : []) {
    if (room.members.size <= hub.settings.announceRoomSize) {
      hub.broadcast(room, frame);
      told = true;
    }
  }
  if (!told) session.sendFrame(frame);
  hub.ack(session, ref, now);
  if (hub.events.listenerCount("nick") > 0) hub.events.emit("nick", { old, new: nick });
}

export function who(
  hub: ChatHub,
  session: Session,
  rawName: string | undefined,
  ref: string | undefined,
  now: number,
): void {
  const room = hub.roomNamed(session, rawName);
  if (room === undefined) {
    return hub.replyError(
      session,
      new ProtocolError(
        "CHAT_ERR_NOT_IN_ROOM",
        rawName ? { message: `There is no room #${rawName.replace(/^#/, "")}.` } : {},
      ),
      ref,
    );
  }
  session.sendFrame(hub.presence(room, Number.POSITIVE_INFINITY));
  hub.ack(session, ref, now);
}
