/**
 * Attacks with requests that cost the server far more than a chat line: full-text searches and
 * history pages of a big stored room (SQLite reads on the server's event loop), and passwords
 * (scrypt: tens of ms of a thread-pool thread and 32 MiB each).
 */
import { openDataDirectory } from "@tcpchat/core";
import { SEED_WORDS, seedRoom } from "../seed-room.js";
import { type AttackerConnection, openConnection } from "./attacker.js";
import type { AttackRun } from "./attacks.js";
import { type AnsweredRequest, type AttackerDialect, dialectOf } from "./dialect.js";
import { AttackGroup, type AttackTarget, type PasswordOutcome, waitForLine } from "./group.js";
import type { AbuseScale } from "./scale.js";

/** The stored room the read attacks ask about. */
export const SEEDED_ROOM = "big";

/**
 * Searches for two words that are each in a tenth to a fifth of the messages but never in the
 * same one: the index walks both lists to the end and finds nothing, the costliest search a
 * client can make of this room (prefix matching included).
 */
const COSTLY_SEARCHES = [`${SEED_WORDS[0]} ${SEED_WORDS[2]}`, `${SEED_WORDS[4]} ${SEED_WORDS[5]}`];

/** Writes `count` messages into #big of a fresh data directory at `dir` (then closes it). */
export function seedStoredRoom(dir: string, count: number): void {
  const store = openDataDirectory(dir);
  try {
    seedRoom(store, { room: SEEDED_ROOM, count });
  } finally {
    store.close();
  }
}

/** Requests in a chunk of a reading flood (about 64 KiB of searches or history pages). */
const REQUESTS_PER_CHUNK = 1000;

/**
 * Reading connections in #big that each send chunks of {@link REQUESTS_PER_CHUNK} requests (the
 * `n`th of connection `k` phrased by `request`, in the connection's kind's words) as fast as the
 * socket takes them: the server's request budget, not the socket, sets their pace.
 */
function readingFlood(
  target: AttackTarget,
  scale: AbuseScale,
  request: (dialect: AttackerDialect, ref: string, n: number) => string,
): AttackRun {
  const group = new AttackGroup(target);
  const floods: Array<Promise<void>> = [];
  const dialect = dialectOf(target.kind);
  return {
    setup: () => group.openCanary(),
    async start() {
      group.begin();
      const stopAt = group.startMs + scale.phaseMs;
      const attackers = await group.open(scale.readConnections, true);
      attackers.forEach((attacker, k) => {
        attacker.send(dialect.joinInstead(SEEDED_ROOM));
        let n = 0;
        const chunk = () => {
          let text = "";
          for (let i = 0; i < REQUESTS_PER_CHUNK; i++, n++)
            text += request(dialect, `${k}.${n}`, n);
          return attacker.encode(text);
        };
        floods.push(attacker.flood(chunk, scale.floodBytes, stopAt));
      });
    },
    async stop() {
      await Promise.all(floods);
      return group.end();
    },
    close: () => group.close(),
  };
}

/** Connections in #big sending the costliest search again and again. */
export function searchFlood(target: AttackTarget, scale: AbuseScale): AttackRun {
  return readingFlood(target, scale, (dialect, ref, n) =>
    dialect.search(SEEDED_ROOM, COSTLY_SEARCHES[n % 2]!, ref),
  );
}

/** The shapes of history page the structured kinds ask for in turn. */
const PAGE_SHAPES = ["before-id", "around-id", "before-ts"] as const;

/**
 * Connections asking for pages of #big: structured kinds 100 messages (the most a request may
 * return) before or around a random message, or before a random time; text kinds
 * `/history since` a random time.
 */
export function historyFlood(target: AttackTarget, scale: AbuseScale): AttackRun {
  // Seeded messages are 100 ms apart, the last one at the start of the run.
  const spanMs = scale.seededMessages * 100;
  const now = Date.now();
  return readingFlood(target, scale, (dialect, ref, n) => {
    const back = Math.random() * spanMs;
    const page = {
      id: 1 + Math.floor(Math.random() * scale.seededMessages),
      ts: Math.round(now - back),
      minutesAgo: Math.max(1, Math.round(back / 60_000)),
      shape: PAGE_SHAPES[n % PAGE_SHAPES.length]!,
    };
    return dialect.history(SEEDED_ROOM, page, ref);
  });
}

/** The registered user whose logins the password attacks time. */
const USER = { nick: "probeuser", password: "probe-password-1" };
/** How long one password request may take before the bench counts it as unanswered, ms. */
const ANSWER_MS = 5000;

/** Lines that mean "registered" and "logged in" to a text client. */
const REGISTERED = /^\*\*\* registered /;
const LOGGED_IN = /^\*\*\* logged in as /;

/** The first answer to `request`: done, an error code, or undefined (none in time). */
async function answer(
  connection: AttackerConnection,
  request: AnsweredRequest,
  timeoutMs: number,
): Promise<string | undefined> {
  const { answerOf } = dialectOf(connection.options.kind);
  const line = await waitForLine(connection, (l) => answerOf(l, request) !== undefined, timeoutMs);
  return line === undefined ? undefined : answerOf(line, request);
}

/**
 * A registered user on the chatters' address logging in over and over during the attack, each
 * time on a new text connection; a busy or throttled answer is retried every 100 ms within the
 * same login (it counts in its time).
 */
async function userLogins(
  target: AttackTarget,
  stopAtMs: number,
  outcome: PasswordOutcome,
): Promise<void> {
  const { host, port } = target;
  const request = { ref: "user", textDone: LOGGED_IN };
  while (performance.now() < stopAtMs) {
    const started = performance.now();
    const user = await openConnection({ host, port, reads: true, startMs: 0 }).catch(
      () => undefined,
    );
    let loggedIn = false;
    while (user !== undefined && !user.closed && performance.now() - started < ANSWER_MS) {
      const got = answer(user, request, ANSWER_MS);
      user.send(`/login ${USER.nick} ${USER.password}\n`);
      const result = await got;
      if (result === "done") {
        loggedIn = true;
        break;
      }
      if (result === undefined) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    user?.destroy();
    if (loggedIn) outcome.userLoginsMs.push(performance.now() - started);
    else outcome.userLoginFailures++;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Registers the user whose logins are timed (before the baseline, from the chatters' address). */
async function registerUser(group: AttackGroup): Promise<void> {
  const user = await group.helper();
  const got = answer(user, { ref: "user", textDone: REGISTERED }, 10_000);
  user.send(`/nick ${USER.nick}\n/register ${USER.password}\n`);
  const result = await got;
  user.destroy();
  if (result !== "done")
    throw new Error(`could not register the timed user: ${result ?? "no answer"}`);
}

function passwordOutcome(): PasswordOutcome {
  return { requests: 0, done: 0, refused: {}, userLoginsMs: [], userLoginFailures: 0 };
}

function count(outcome: PasswordOutcome, result: string | undefined): void {
  if (result === "done") outcome.done++;
  else {
    const code = result ?? "no answer in 5 s";
    outcome.refused[code] = (outcome.refused[code] ?? 0) + 1;
  }
}

/**
 * What both password attacks share: the canary, a registered user on this machine's own address
 * whose logins are timed through the attack, and the attackers' loops that `attack` starts.
 */
function passwordAttack(
  target: AttackTarget,
  scale: AbuseScale,
  attack: (
    group: AttackGroup,
    stopAt: number,
    outcome: ReturnType<typeof passwordOutcome>,
  ) => Promise<Array<Promise<void>>>,
): AttackRun {
  const group = new AttackGroup(target);
  const outcome = passwordOutcome();
  const loops: Array<Promise<void>> = [];
  return {
    setup: async () => {
      await group.openCanary();
      await registerUser(group);
    },
    async start() {
      group.begin();
      const stopAt = group.startMs + scale.phaseMs;
      loops.push(userLogins(target, stopAt, outcome));
      loops.push(...(await attack(group, stopAt, outcome)));
    },
    async stop() {
      await Promise.all(loops);
      return group.end({ passwords: outcome });
    },
    close: () => group.close(),
  };
}

/**
 * Connections from another address each registering a fresh nick, then reconnecting to register
 * the next (an account takes one registration per connection): `passwordConnections` requests in
 * flight at any time, each waiting for its answer.
 */
export function registerFlood(target: AttackTarget, scale: AbuseScale): AttackRun {
  const dialect = dialectOf(target.kind);
  return passwordAttack(target, scale, async (group, stopAt, outcome) =>
    Array.from({ length: scale.passwordConnections }, async (_, k) => {
      for (let i = 0; performance.now() < stopAt; i++) {
        const [attacker] = await group.open(1, true);
        if (attacker === undefined) continue;
        outcome.requests++;
        const request = { ref: `r${k}.${i}`, textDone: REGISTERED };
        const got = answer(attacker, request, ANSWER_MS);
        attacker.send(dialect.register(`rf${k}x${i}`, "hunter2hunter2", request.ref));
        count(outcome, await got);
        attacker.destroy();
      }
    }),
  );
}

/**
 * Reading connections from another address sending a login with a wrong password for nick
 * after nick, each as soon as the last was answered (a session checks one password at a time).
 */
export function loginFlood(target: AttackTarget, scale: AbuseScale): AttackRun {
  const dialect = dialectOf(target.kind);
  return passwordAttack(target, scale, async (group, stopAt, outcome) => {
    const attackers = await group.open(scale.passwordConnections, true);
    return attackers.map(async (attacker, k) => {
      for (let i = 0; performance.now() < stopAt && !attacker.closed; i++) {
        outcome.requests++;
        const request = { ref: `l${k}.${i}`, textDone: LOGGED_IN };
        const got = answer(attacker, request, ANSWER_MS);
        attacker.send(dialect.login(`victim${k}x${i}`, "wrong-password", request.ref));
        count(outcome, await got);
      }
    });
  });
}
