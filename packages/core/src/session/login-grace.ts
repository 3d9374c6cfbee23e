import { nameKey, normalizeName } from "../protocol/names.js";
import { renameToGuest } from "./account-requests.js";
import type { ChatHub } from "./hub.js";
import { announceNick } from "./requests.js";
import type { Session } from "./session.js";

/**
 * The login grace period: a client that brings a registered nick in its hello (a client
 * reconnecting, say) is not refused it; it holds the nick, is told to log in, and is renamed to
 * a guest nick with a notice if it has not logged in to that account when the grace period
 * ({@link AccountSettings.loginGraceMs}) ends. Only the hello gets this: a later `/nick` to a
 * registered nick is refused at once (CHAT_ERR_NICK_REGISTERED), as is any nick whose owner or
 * another session holds it now. The owner logging in meanwhile takes the nick at once.
 *
 * @returns whether the session took the nick under the grace period (false: the caller changes
 * the nick the usual way, which refuses it with the reason). When true, the caller tells the
 * session with {@link sendLoginGraceNotice} once its welcome is out (a client reads notices
 * only after the welcome).
 */
export function holdRegisteredNick(
  hub: ChatHub,
  session: Session,
  raw: string,
  now: number,
): boolean {
  const accounts = hub.accounts;
  const graceMs = accounts?.settings.loginGraceMs ?? 0;
  if (accounts === undefined || graceMs <= 0) return false;
  const nick = normalizeName(raw, "nick", hub.settings.maxNameLength);
  if (typeof nick !== "string") return false;
  const owner = accounts.ownerOf(nick);
  if (owner === undefined || owner === session.account) return false;
  if (hub.nicks.conflict(session, nick, now) !== null) return false;
  const old = session.nick;
  hub.nicks.take(session, nick);
  announceNick(hub, session, { type: "nick", ts: now, old, new: nick });
  if (hub.events.listenerCount("nick") > 0) hub.events.emit("nick", { old, new: nick });
  const seconds = Math.ceil(graceMs / 1000);
  const key = nameKey(nick);
  // One timer per such hello, for the grace period only; unref'd so it never holds the process.
  setTimeout(() => {
    if (!session.open || session.nickKey !== key || session.account === owner) return;
    renameToGuest(
      hub,
      session,
      `${nick} is registered and you did not log in to it within ${seconds} s`,
      Date.now(),
    );
  }, graceMs).unref();
  return true;
}

/** Tells a session that holds a registered nick under the grace period to log in. */
export function sendLoginGraceNotice(hub: ChatHub, session: Session): void {
  const seconds = Math.ceil((hub.accounts?.settings.loginGraceMs ?? 0) / 1000);
  session.sendLine(
    `*** ${session.nick} is registered: log in within ${seconds} s (/login ${session.nick} PASSWORD, or an auth frame) or you will be renamed to a guest nick`,
  );
}
