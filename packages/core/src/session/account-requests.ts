import { ProtocolError } from "../errors.js";
import type { ClientFrame } from "../protocol/frames.js";
import { GUEST_NICK_PREFIX, nameKey, normalizeName } from "../protocol/names.js";
import { neutralizeField } from "../protocol/text-safety.js";
import { hashPassword, verifyPassword } from "../store/password.js";
import type { StoredAccount } from "../store/types.js";
import type { ChatHub } from "./hub.js";
import { PASSWORD_GATE_REFUSAL, type PasswordGateRefusal } from "./password-gate.js";
import { announceNick } from "./requests.js";
import type { Session } from "./session.js";

/**
 * `register` and `auth` (text: `/register PASSWORD`, `/login NAME PASSWORD`). A password costs
 * a scrypt run (tens of ms of a thread-pool thread and 32 MiB): each attempt costs
 * {@link PASSWORD_WORK_COST} work tokens, one at a time per session; the accounts' password gate
 * bounds the hashes running or waiting server-wide and per address (a full gate answers at once,
 * without hashing). Failed logins are throttled per address and per account, registrations per
 * address. Only the holder of an account may use its nick.
 */

/** Work tokens a password check costs (a session can try a few per second at most). */
const PASSWORD_WORK_COST = 20;
/** Longest password hashed, in code points (a huge one would cost hashing time for nothing). */
const MAX_PASSWORD_LENGTH = 1024;
/** A hash to check unknown accounts against, so a missing account takes as long as a wrong password. */
let decoyHash: Promise<string> | undefined;

/** Text clients without TLS are told their password crossed the network in the clear. */
function warnIfClear(session: Session): void {
  if (session.structured || session.transport.encrypted === true) return;
  session.sendLine(
    "*** warning: this connection is not encrypted, so that password crossed the network in the clear; connect with TLS (tcpchat connect --tls) to keep it private",
  );
}

function passwordProblem(hub: ChatHub, password: string): ProtocolError | undefined {
  const length = [...password].length;
  const min = hub.accounts!.settings.minPasswordLength;
  if (length < min) {
    return new ProtocolError("CHAT_ERR_WEAK_PASSWORD", {
      message: `The password is too short: it has ${length} characters, at least ${min} are needed.`,
    });
  }
  if (length > MAX_PASSWORD_LENGTH) {
    return new ProtocolError("CHAT_ERR_BAD_ARGUMENT", {
      message: `The password is longer than ${MAX_PASSWORD_LENGTH} characters.`,
    });
  }
  return undefined;
}

/** Common checks; returns false when an error was sent. */
function mayTry(hub: ChatHub, session: Session, ref: string | undefined): boolean {
  if (hub.accounts === undefined) {
    hub.replyError(session, new ProtocolError("CHAT_ERR_ACCOUNTS_OFF"), ref);
    return false;
  }
  if (session.authPending) {
    hub.replyError(
      session,
      new ProtocolError("CHAT_ERR_LOGIN_THROTTLED", {
        message: "A password of yours is still being checked; wait for its answer.",
      }),
      ref,
    );
    return false;
  }
  return true;
}

/** Registers the session's current nick with a password. */
export function register(
  hub: ChatHub,
  session: Session,
  request: Extract<ClientFrame, { type: "register" }>,
  now: number,
): void {
  warnIfClear(session);
  if (!mayTry(hub, session, request.ref)) return;
  const accounts = hub.accounts!;
  if (session.nick.startsWith(GUEST_NICK_PREFIX)) {
    return hub.replyError(
      session,
      new ProtocolError("CHAT_ERR_BAD_ARGUMENT", {
        message: "Guest nicks cannot be registered.",
        hint: "Take the nick you want with /nick NAME, then /register PASSWORD.",
      }),
      request.ref,
    );
  }
  if (accounts.ownerOf(session.nick) !== undefined || session.account !== undefined) {
    return hub.replyError(
      session,
      new ProtocolError("CHAT_ERR_ACCOUNT_EXISTS", {
        message:
          session.account === undefined
            ? `The nick ${session.nick} (or one that looks like it) is already registered.`
            : "You are logged in to an account already.",
      }),
      request.ref,
    );
  }
  const problem = passwordProblem(hub, request.password);
  if (problem !== undefined) return hub.replyError(session, problem, request.ref);
  const address = session.address;
  const waitMs = accounts.registrations.waitMs(address, "", now);
  if (waitMs > 0) {
    return hub.replyError(
      session,
      new ProtocolError("CHAT_ERR_REGISTER_THROTTLED", {
        message: `Too many registrations from your address; try again in ${Math.ceil(waitMs / 1000)} s.`,
      }),
      request.ref,
    );
  }
  const name = session.nick;
  const key = session.nickKey;
  const hashed = accounts.passwordGate.run(address, () => {
    hub.stats.passwordHashes += 1;
    return hashPassword(request.password, accounts.settings.scrypt);
  });
  if (typeof hashed === "string") return refusePasswordWork(hub, session, hashed, request.ref);
  hub.chargeWork(session, PASSWORD_WORK_COST);
  session.authPending = true;
  // Counted when the work is taken on, not when it succeeds: each one costs a hash.
  accounts.registrations.failed(address, key, now);
  hashed
    .then((passwordHash) => {
      const account: StoredAccount = { key, name, passwordHash, createdAt: now, operator: false };
      return accounts.store.createAccount(account);
    })
    .then(
      (created) => {
        session.authPending = false;
        if (!created) {
          hub.replyError(session, new ProtocolError("CHAT_ERR_ACCOUNT_EXISTS"), request.ref);
          return;
        }
        accounts.add(name);
        if (session.nickKey === key) session.account = key;
        session.sendLine(
          `*** registered ${name}: only you can use it now; next time, /login ${name} PASSWORD`,
        );
        hub.ack(session, request.ref, Date.now());
      },
      (error: unknown) => {
        session.authPending = false;
        hub.storeFailed("account registration", error);
        hub.replyError(
          session,
          new ProtocolError("CHAT_ERR_HISTORY_UNAVAILABLE", {
            message: "The server could not store the account just now.",
          }),
          request.ref,
        );
      },
    );
}

/** The reply to password work the gate refused: the server is busy, or the address has its share. */
function refusePasswordWork(
  hub: ChatHub,
  session: Session,
  refusal: PasswordGateRefusal,
  ref: string | undefined,
): void {
  hub.stats.passwordsRefused += 1;
  hub.replyError(
    session,
    refusal === PASSWORD_GATE_REFUSAL.busy
      ? new ProtocolError("CHAT_ERR_SERVER_BUSY", {
          message: "The server is checking many passwords just now; this one was not checked.",
        })
      : new ProtocolError("CHAT_ERR_LOGIN_THROTTLED", {
          message: "Passwords from your address are still being checked; wait for their answers.",
        }),
    ref,
  );
}

/** Logs in to an account: the session takes the account's nick (its holder is renamed). */
export function auth(
  hub: ChatHub,
  session: Session,
  request: Extract<ClientFrame, { type: "auth" }>,
  now: number,
): void {
  warnIfClear(session);
  if (!mayTry(hub, session, request.ref)) return;
  const accounts = hub.accounts!;
  const name = normalizeName(request.name, "nick", hub.settings.maxNameLength);
  if (name instanceof ProtocolError) return hub.replyError(session, name, request.ref);
  const key = nameKey(name);
  const address = session.address;
  const waitMs = accounts.throttle.waitMs(address, key, now);
  if (waitMs > 0) {
    return hub.replyError(
      session,
      new ProtocolError("CHAT_ERR_LOGIN_THROTTLED", {
        message: `Too many failed logins; try again in ${Math.ceil(waitMs / 1000)} s.`,
      }),
      request.ref,
    );
  }
  if ([...request.password].length > MAX_PASSWORD_LENGTH) {
    return hub.replyError(session, new ProtocolError("CHAT_ERR_LOGIN_FAILED"), request.ref);
  }
  const checked = accounts.passwordGate.run(address, async () => {
    hub.stats.passwordHashes += 1;
    const account = await accounts.store.getAccount(key);
    if (account === undefined) {
      decoyHash ??= hashPassword("decoy password", accounts.settings.scrypt);
      await verifyPassword(request.password, await decoyHash);
      return undefined;
    }
    return (await verifyPassword(request.password, account.passwordHash)) ? account : undefined;
  });
  if (typeof checked === "string") return refusePasswordWork(hub, session, checked, request.ref);
  hub.chargeWork(session, PASSWORD_WORK_COST);
  session.authPending = true;
  checked.then(
    (account) => {
      session.authPending = false;
      if (account === undefined) {
        accounts.throttle.failed(address, key, Date.now());
        hub.replyError(session, new ProtocolError("CHAT_ERR_LOGIN_FAILED"), request.ref);
        return;
      }
      accounts.throttle.succeeded(address, key);
      if (!session.open) return;
      session.account = account.key;
      session.operator = account.operator || accounts.isConfiguredOperator(account.key);
      takeAccountNick(hub, session, account.name, Date.now());
      session.sendLine(`*** logged in as ${account.name}`);
      hub.ack(session, request.ref, Date.now());
    },
    (error: unknown) => {
      session.authPending = false;
      hub.storeFailed("login", error);
      hub.replyError(session, new ProtocolError("CHAT_ERR_LOGIN_FAILED"), request.ref);
    },
  );
}

/** Gives a logged-in session its account's nick; whoever holds it (or a lookalike) is renamed. */
function takeAccountNick(hub: ChatHub, session: Session, nick: string, now: number): void {
  for (let tries = 0; tries < 3; tries++) {
    const conflict = hub.nicks.conflict(session, nick, now);
    if (conflict === null || conflict.kind === "held") break;
    const holder = hub.nicks.get(conflict.holder);
    if (holder === undefined || holder === null || holder === session) break;
    renameToGuest(hub, holder, `${nick} is registered and its owner logged in`, now);
  }
  if (session.nickKey === nameKey(nick) && session.nick === nick) return;
  const old = session.nick;
  hub.nicks.take(session, nick);
  announceNick(hub, session, { type: "nick", ts: now, old, new: nick });
  if (hub.events.listenerCount("nick") > 0) hub.events.emit("nick", { old, new: nick });
}

/** Moves a session off a registered nick to a fresh guest nick, telling it why (`why`). */
export function renameToGuest(hub: ChatHub, session: Session, why: string, now: number): void {
  const old = session.nick;
  const guest = hub.guestNick(session, now);
  hub.nicks.take(session, guest);
  session.sendLine(`*** ${why}; you are now ${guest}`);
  announceNick(hub, session, { type: "nick", ts: now, old, new: guest });
  if (hub.events.listenerCount("nick") > 0) hub.events.emit("nick", { old, new: guest });
}

/** Longest kick reason kept, in code points. */
const MAX_KICK_REASON_LENGTH = 160;

/** `/kick NICK [REASON]` from a session logged in to an operator account. */
export function kick(
  hub: ChatHub,
  session: Session,
  request: Extract<ClientFrame, { type: "kick" }>,
  now: number,
): void {
  // Permissions live here, in core: a front end cannot grant what the server does not.
  if (!session.operator) {
    return hub.replyError(session, new ProtocolError("CHAT_ERR_NOT_PERMITTED"), request.ref);
  }
  const reason =
    request.reason === undefined
      ? `kicked by ${session.nick}`
      : `kicked by ${session.nick}: ${neutralizeField(request.reason, MAX_KICK_REASON_LENGTH)}`;
  const noSuchNick = () =>
    hub.replyError(
      session,
      new ProtocolError("CHAT_ERR_NO_SUCH_NICK", {
        message: `Nobody called ${neutralizeField(request.nick, 40)} is connected.`,
      }),
      request.ref,
    );
  const target = hub.nicks.get(request.nick);
  if (target?.open) {
    hub.disconnect(target, "CHAT_ERR_KICKED", reason);
    session.sendLine(`*** kicked ${target.nick}`);
    return hub.ack(session, request.ref, now);
  }
  if (hub.remoteNick(request.nick) === undefined) return noSuchNick();
  // Held on another node of the cluster: that node disconnects it and answers.
  hub.kickRemote(request.nick, "CHAT_ERR_KICKED", reason, (kicked) => {
    if (!session.open) return;
    if (kicked === null) return noSuchNick();
    session.sendLine(`*** kicked ${kicked} (on another node)`);
    hub.ack(session, request.ref, Date.now());
  });
}
