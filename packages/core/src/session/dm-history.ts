import { ProtocolError } from "../errors.js";
import type { ClientFrame, DmFrame } from "../protocol/frames.js";
import { normalizeName } from "../protocol/names.js";
import { dmConversation, type StoredMessage } from "../store/types.js";
import type { ChatHub } from "./hub.js";
import type { Session } from "./session.js";

/**
 * Direct-message history. A DM is stored when both ends are logged in to accounts: its
 * conversation key names the two accounts ({@link dmConversation}), so it is read back only
 * through a session logged in to one of them. A guest's DMs are delivered and never stored
 * (a guest nick is anyone's tomorrow). Writes go through the history writer like room
 * messages: an array push on the per-message path, one transaction per flush.
 *
 * In a cluster a DM between two nodes is stored on both, once each, with the one id its
 * sender's node gave it (ids are unique across the cluster): each end reads `/history` where
 * it is connected, and each node's store has one writer, its own. The receiving node stores it
 * when it delivers it, and tells the sender's node the recipient's account, which then stores
 * it too (see cluster/redis-cluster.ts); a DM that found nobody is stored nowhere, as here.
 */

/** A stored DM as the frame that carries it, marked as history. */
export function dmHistoryFrame(message: StoredMessage): DmFrame {
  return {
    type: "dm",
    id: message.id.toString(36),
    ts: message.ts,
    from: message.from,
    to: message.to ?? "",
    text: message.text,
    history: true,
  };
}

/**
 * Queues a delivered DM for the store when sender and recipient are both logged in. `serial` is
 * the number its id was made from (hub.messageSerial): the id may carry a node prefix, and
 * parsing it back cost a parse per DM.
 */
export function recordDirectMessage(
  hub: ChatHub,
  sender: Session,
  recipient: Session,
  frame: DmFrame,
  serial: number,
): void {
  if (sender.account === undefined || recipient.account === undefined) return;
  recordDmBetween(hub, sender.account, recipient.account, frame, serial);
}

/**
 * Queues a DM between two accounts for this node's store (in a cluster, one whose other end is
 * on another node). `serial`: see {@link recordDirectMessage}.
 */
export function recordDmBetween(
  hub: ChatHub,
  fromAccount: string,
  toAccount: string,
  frame: DmFrame,
  serial: number,
): void {
  const history = hub.history;
  if (history === undefined) return;
  const conversation = dmConversation(fromAccount, toAccount);
  history.record({
    id: serial,
    ts: frame.ts,
    room: conversation,
    roomKey: conversation,
    from: frame.from,
    text: frame.text,
    action: false,
    to: frame.to,
  });
}

/**
 * The conversation key a `history` request with a nick may read: the session's account with the
 * account that owns the nick. Errors are sent; undefined then.
 */
export function dmConversationOf(
  hub: ChatHub,
  session: Session,
  rawNick: string,
  ref: string | undefined,
): string | undefined {
  const nick = normalizeName(rawNick.replace(/^@/, ""), "nick", hub.settings.maxNameLength);
  if (nick instanceof ProtocolError) {
    hub.replyError(session, nick, ref);
    return undefined;
  }
  const other = hub.accounts?.ownerOf(nick);
  if (session.account === undefined || other === undefined) {
    hub.replyError(
      session,
      new ProtocolError("CHAT_ERR_DM_HISTORY_ACCOUNTS", {
        message:
          session.account === undefined
            ? "Direct messages are kept only between registered users, and you are not logged in."
            : `${nick} is not a registered nick: direct messages with it are not kept.`,
      }),
      ref,
    );
    return undefined;
  }
  return dmConversation(session.account, other);
}

/** Whether a `history` request names a nick (a DM conversation) rather than a room. */
export function isDmHistoryRequest(
  request: Extract<ClientFrame, { type: "history" }>,
): request is Extract<ClientFrame, { type: "history" }> & { nick: string } {
  return request.nick !== undefined;
}
