import { ProtocolError } from "../errors.js";
import type { ClientFrame, MessageFrame } from "../protocol/frames.js";
import { nameKey, normalizeName } from "../protocol/names.js";
import { neutralizeField } from "../protocol/text-safety.js";
import type { HistoryAnchor, HistoryQuery, StoredMessage } from "../store/types.js";
import { whenDone } from "../store/types.js";
import { dmConversationOf, dmHistoryFrame } from "./dm-history.js";
import type { ChatHub } from "./hub.js";
import type { Room } from "./room.js";
import type { Session } from "./session.js";

/**
 * History on join, `history` (IRCv3 chathistory) and `search` (FTS). Replies are room message
 * frames marked `history: true`; text clients see each line marked `[history TIME]`. They cost
 * work tokens by size, as `who` does: one per {@link MESSAGES_PER_WORK_TOKEN} messages, a search
 * {@link SEARCH_BASE_COST} more for the index lookup, and every read one per
 * {@link MS_PER_WORK_TOKEN} ms it took (see `reply`).
 */

/** Messages per extra work token in a history or search reply. */
const MESSAGES_PER_WORK_TOKEN = 10;
/** What a full-text search costs before its reply (it reads an index, not one range). */
const SEARCH_BASE_COST = 2;
/**
 * Ms of a read's time per work token: at the default 50 tokens/s, one session's reads take at
 * most 50 ms per second, sustained.
 */
const MS_PER_WORK_TOKEN = 1;
/** Longest search text kept, in code points, and most words. */
const MAX_SEARCH_LENGTH = 200;
const MAX_SEARCH_WORDS = 8;
/** Largest message id a client may name (ids are base 36 integers). */
const MAX_ID_LENGTH = 11;

/** A stored message as the room frame that carries it, marked as history. */
export function historyFrame(message: StoredMessage): MessageFrame {
  const frame: MessageFrame = {
    type: "message",
    id: message.id.toString(36),
    ts: message.ts,
    room: message.room,
    from: message.from,
    text: message.text,
    history: true,
  };
  if (message.action) frame.action = true;
  return frame;
}

/**
 * Sends the room's last messages to a session that just joined it. Called after the join's own
 * replies (presence, ack, welcome) and written before the room's next batch, so the joiner reads
 * history, then live talk, in order. A session whose mode is not settled holds them like any frame.
 * When the history does not answer at once (a room that just opened on this node of a cluster
 * fetches what it missed first), the session's output waits for it, so the order is the same.
 */
export function sendJoinHistory(hub: ChatHub, session: Session, room: Room): void {
  const history = hub.history;
  if (history === undefined || history.settings.joinLimit <= 0) return;
  let waiting = false;
  let answered = false;
  const deliver = (frames: MessageFrame[]): void => {
    answered = true;
    if (waiting) return session.historyArrived(frames);
    for (const frame of frames) session.sendFrame(frame);
    // Out before the room's pending batch (messages said after the join).
    if (session.codec !== null) session.flushPersonal();
  };
  hub.whenHistoryReady(room.key, () =>
    whenDone(
      () => history.query({ kind: "latest", roomKey: room.key, limit: history.settings.joinLimit }),
      (messages) =>
        deliver(session.open && room.members.has(session) ? messages.map(historyFrame) : []),
      (error) => {
        deliver([]);
        hub.storeFailed("history read", error);
      },
    ),
  );
  if (!answered) {
    waiting = true;
    session.waitForHistory();
  }
}

/** The `history` request (text: `/history [NICK] [N | since TIME]`), for a room or a DM conversation. */
export function historyRequest(
  hub: ChatHub,
  session: Session,
  request: Extract<ClientFrame, { type: "history" }>,
  now: number,
): void {
  const history = hub.history;
  if (history === undefined) {
    return hub.replyError(session, new ProtocolError("CHAT_ERR_HISTORY_OFF"), request.ref);
  }
  // A nick names a DM conversation (IRCv3 chathistory takes a nick as target).
  const roomKey =
    request.nick !== undefined
      ? dmConversationOf(hub, session, request.nick, request.ref)
      : roomKeyOf(hub, session, request.room, request.ref);
  if (roomKey === undefined) return;
  const limit = requestLimit(request.limit, history.settings.joinLimit || 20);
  const dir =
    request.dir ?? (request.id !== undefined || request.ts !== undefined ? "before" : "latest");
  let query: HistoryQuery;
  if (dir === "latest") {
    query = { kind: "latest", roomKey, limit };
  } else {
    const anchor = anchorOf(request);
    if (anchor === undefined) {
      return hub.replyError(
        session,
        new ProtocolError("CHAT_ERR_BAD_ARGUMENT", {
          message: `history ${dir} needs an anchor: a message id (base 36) or a time ts (ms).`,
        }),
        request.ref,
      );
    }
    query = { kind: dir, roomKey, limit, anchor };
  }
  hub.whenHistoryReady(roomKey, () =>
    reply(hub, session, request.ref, now, READ_KIND.history, (spent) =>
      history.query(query, spent),
    ),
  );
}

/** The `search` request (text: `/search WORDS`). */
export function searchRequest(
  hub: ChatHub,
  session: Session,
  request: Extract<ClientFrame, { type: "search" }>,
  now: number,
): void {
  const history = hub.history;
  if (history === undefined) {
    return hub.replyError(session, new ProtocolError("CHAT_ERR_HISTORY_OFF"), request.ref);
  }
  const roomKey = roomKeyOf(hub, session, request.room, request.ref);
  if (roomKey === undefined) return;
  const words = neutralizeField(request.text, MAX_SEARCH_LENGTH)
    .split(/\s+/u)
    .filter((word) => word !== "")
    .slice(0, MAX_SEARCH_WORDS);
  if (words.length === 0) {
    return hub.replyError(
      session,
      new ProtocolError("CHAT_ERR_EMPTY_MESSAGE", {
        message: "Search for at least one word.",
        hint: "Type /search and the words to find, such as /search deploy failed.",
      }),
      request.ref,
    );
  }
  const limit = requestLimit(request.limit, history.settings.joinLimit || 20);
  hub.whenHistoryReady(roomKey, () =>
    reply(hub, session, request.ref, now, READ_KIND.search, (spent) =>
      history.search(roomKey, words, limit, spent),
    ),
  );
}

/** The kinds of read, each with its own running cost estimate. */
const READ_KIND = { history: "history", search: "search" } as const;
type ReadKind = (typeof READ_KIND)[keyof typeof READ_KIND];

/**
 * Runs a read and sends its answer. The read costs the session work tokens before it runs (its
 * kind's recent cost) and is set right once its time is known (on the event loop, or on the
 * store's search thread): a read costs one token per {@link MS_PER_WORK_TOKEN} ms, besides its
 * base cost and its reply's size. A session in debt (a read cost more than it had) is refused
 * until its budget refills, and the server refuses every read while its own read budget is spent
 * (store/read-budget.ts).
 */
function reply(
  hub: ChatHub,
  session: Session,
  ref: string | undefined,
  now: number,
  kind: ReadKind,
  read: (spent: (ms: number) => void) => ReturnType<NonNullable<ChatHub["history"]>["query"]>,
): void {
  const budget = hub.history!.readBudget;
  if (session.workTokens < 0) {
    hub.stats.readsRefused += 1;
    const waitMs = Math.ceil((-session.workTokens * 1000) / hub.settings.requestRate);
    return hub.replyError(
      session,
      new ProtocolError("CHAT_ERR_READ_THROTTLED", {
        message: `Your last searches and history pages took more than your request budget; retry in ${waitMs} ms.`,
      }),
      ref,
    );
  }
  const estimate = budget.begin(kind, now);
  if (estimate === undefined) {
    hub.stats.readsRefused += 1;
    return hub.replyError(
      session,
      new ProtocolError("CHAT_ERR_SERVER_BUSY", {
        message: `The server is answering many searches and history requests just now; retry in ${budget.waitMs()} ms.`,
      }),
      ref,
    );
  }
  const baseCost = kind === READ_KIND.search ? SEARCH_BASE_COST : 0;
  const upFront = baseCost + Math.ceil(estimate / MS_PER_WORK_TOKEN);
  hub.chargeWork(session, upFront);
  let readMs = 0;
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    budget.end(kind, estimate, readMs);
  };
  // A read the store answers at once holds the event loop until its reply is queued: that time
  // counts against the turn's share (a search on the store's thread does not).
  const startedAt = performance.now();
  let answeredAtOnce = true;
  whenDone(
    () => read((ms) => (readMs += ms)),
    (messages) => {
      end();
      const chargeTurn = () => {
        if (answeredAtOnce) budget.chargeTurn(performance.now() - startedAt);
      };
      if (!session.open) return chargeTurn();
      const cost =
        baseCost +
        Math.ceil(readMs / MS_PER_WORK_TOKEN) +
        Math.floor(messages.length / MESSAGES_PER_WORK_TOKEN);
      hub.chargeWork(session, cost - upFront);
      for (const message of messages) {
        session.sendFrame(
          message.to === undefined ? historyFrame(message) : dmHistoryFrame(message),
        );
      }
      if (!session.structured) {
        session.sendLine(
          messages.length === 0
            ? "*** no messages found"
            : `*** end of history (${messages.length} message${messages.length === 1 ? "" : "s"})`,
        );
      }
      hub.ack(session, ref, now);
      chargeTurn();
    },
    (error) => {
      end();
      hub.storeFailed("history read", error);
      hub.replyError(session, new ProtocolError("CHAT_ERR_HISTORY_UNAVAILABLE"), ref);
    },
  );
  answeredAtOnce = false;
}

/** The key of the room a request names (`#` optional), or the current room's; errors sent. */
function roomKeyOf(
  hub: ChatHub,
  session: Session,
  rawName: string | undefined,
  ref: string | undefined,
): string | undefined {
  if (rawName === undefined) {
    if (session.current === undefined) {
      hub.replyError(session, new ProtocolError("CHAT_ERR_NOT_IN_ROOM"), ref);
      return undefined;
    }
    return session.current.key;
  }
  const name = normalizeName(
    rawName.startsWith("#") ? rawName.slice(1) : rawName,
    "room",
    hub.settings.maxNameLength,
  );
  if (name instanceof ProtocolError) {
    hub.replyError(session, name, ref);
    return undefined;
  }
  return nameKey(name);
}

function requestLimit(asked: number | undefined, fallback: number): number {
  if (asked === undefined || !Number.isFinite(asked)) return fallback;
  return Math.max(1, Math.floor(asked));
}

function anchorOf(request: Extract<ClientFrame, { type: "history" }>): HistoryAnchor | undefined {
  if (request.id !== undefined) {
    if (request.id.length > MAX_ID_LENGTH || !/^[0-9a-z]+$/.test(request.id)) return undefined;
    return { id: Number.parseInt(request.id, 36) };
  }
  if (request.ts !== undefined && Number.isFinite(request.ts)) return { ts: request.ts };
  return undefined;
}
