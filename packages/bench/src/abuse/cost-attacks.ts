/**
 * Attacks with requests that cost the server far more than a chat line: full-text searches and
 * history pages of a big stored room (SQLite reads on the server's event loop), and passwords
 * (scrypt: tens of ms of a thread-pool thread and 32 MiB each).
 */
import { openDataDirectory, type StoredMessage } from "@tcpchat/core";
import { openConnection } from "./attacker.js";
import type { AttackRun } from "./attacks.js";
import { AttackGroup, type AttackTarget, type PasswordOutcome, waitForLine } from "./group.js";
import type { AbuseScale } from "./scale.js";

/** The stored room the read attacks ask about. */
export const SEEDED_ROOM = "big";

/** Words of the seeded messages: message `id` holds WORDS[id % 10] and WORDS[7 * id % 10]. */
const WORDS = [
  "deploy",
  "build",
  "lunch",
  "review",
  "merge",
  "coffee",
  "점심",
  "회의",
  "release",
  "bug",
];

/**
 * Searches for two words that are each in a tenth to a fifth of the messages but never in the
 * same one: the index walks both lists to the end and finds nothing, the costliest search a
 * client can make of this room (prefix matching included).
 */
const COSTLY_SEARCHES = ["/search deploy lunch\n", "/search merge coffee\n"];

/** Writes `count` messages into #big of a fresh data directory at `dir` (then closes it). */
export function seedRoom(dir: string, count: number): void {
  const store = openDataDirectory(dir);
  try {
    const now = Date.now();
    const batchSize = 10_000;
    for (let first = 1; first <= count; first += batchSize) {
      const batch: StoredMessage[] = [];
      for (let id = first; id < Math.min(first + batchSize, count + 1); id++) {
        batch.push({
          id,
          ts: now - (count - id) * 100,
          room: SEEDED_ROOM,
          roomKey: SEEDED_ROOM,
          from: `user${id % 97}`,
          text: `${WORDS[id % 10]} ${WORDS[(id * 7) % 10]} message ${id}`,
          action: false,
        });
      }
      store.appendMessages(batch);
    }
  } finally {
    store.close();
  }
}

/**
 * Reading connections that each send `chunk()` (about 64 KiB of requests) as fast as the socket
 * takes it: the server's request budget, not the socket, sets their pace.
 */
function readingFlood(
  target: AttackTarget,
  scale: AbuseScale,
  first: string,
  chunk: (k: number) => () => Buffer,
): AttackRun {
  const group = new AttackGroup(target);
  const floods: Array<Promise<void>> = [];
  return {
    setup: () => group.openCanary(),
    async start() {
      group.begin();
      const stopAt = group.startMs + scale.phaseMs;
      const attackers = await group.open(scale.readConnections, true);
      attackers.forEach((attacker, k) => {
        if (first !== "") attacker.send(first);
        floods.push(attacker.flood(chunk(k), scale.floodBytes, stopAt));
      });
    },
    async stop() {
      await Promise.all(floods);
      return group.end();
    },
    close: () => group.close(),
  };
}

/** Text connections in #big sending the costliest `/search` again and again. */
export function searchFlood(target: AttackTarget, scale: AbuseScale): AttackRun {
  return readingFlood(target, scale, `/join #${SEEDED_ROOM}\n/part #lobby\n`, () => {
    const text = Buffer.from(COSTLY_SEARCHES.join("").repeat(1500));
    return () => text;
  });
}

/**
 * JSON connections asking for pages of #big (`before` and `around` a random message, 100 at a
 * time: the most a request may return), a thousand requests per chunk.
 */
export function historyFlood(target: AttackTarget, scale: AbuseScale): AttackRun {
  return readingFlood({ ...target, kind: "json" }, scale, "", (k) => {
    let n = 0;
    return () => {
      let text = "";
      for (let i = 0; i < 1000; i++) {
        const id = (1 + Math.floor(Math.random() * scale.seededMessages)).toString(36);
        const dir = ++n % 2 === 0 ? "before" : "around";
        text += `{"type":"history","ref":"h${k}.${n}","room":"${SEEDED_ROOM}","dir":"${dir}","id":"${id}","limit":100}\n`;
      }
      return Buffer.from(text);
    };
  });
}

/** The registered user whose logins the password attacks time. */
const USER = { nick: "probeuser", password: "probe-password-1" };
/** How long one password request may take before the bench counts it as unanswered, ms. */
const ANSWER_MS = 5000;

/** The first answer to a password request: done, an error code, or undefined (none in time). */
async function answer(
  connection: Awaited<ReturnType<typeof openConnection>>,
  done: RegExp,
  timeoutMs: number,
): Promise<string | undefined> {
  const line = await waitForLine(
    connection,
    (l) => done.test(l) || l.startsWith("!!! CHAT_ERR_"),
    timeoutMs,
  );
  if (line === undefined) return undefined;
  return done.test(line) ? "done" : (/^!!! (CHAT_ERR_[A-Z0-9_]+)/.exec(line)?.[1] ?? "error");
}

/**
 * A registered user on the chatters' address logging in over and over during the attack, each
 * time on a new connection; a busy or throttled answer is retried every 100 ms within the same
 * login (it counts in its time).
 */
async function userLogins(
  target: AttackTarget,
  stopAtMs: number,
  outcome: PasswordOutcome,
): Promise<void> {
  const { host, port } = target;
  while (performance.now() < stopAtMs) {
    const started = performance.now();
    const user = await openConnection({ host, port, reads: true, startMs: 0 }).catch(
      () => undefined,
    );
    let loggedIn = false;
    while (user !== undefined && !user.closed && performance.now() - started < ANSWER_MS) {
      const got = answer(user, /^\*\*\* logged in as /, ANSWER_MS);
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
  const got = answer(user, /^\*\*\* registered /, 10_000);
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
  return passwordAttack(target, scale, async (group, stopAt, outcome) =>
    Array.from({ length: scale.passwordConnections }, async (_, k) => {
      for (let i = 0; performance.now() < stopAt; i++) {
        const [attacker] = await group.open(1, true);
        if (attacker === undefined) continue;
        outcome.requests++;
        const got = answer(attacker, /^\*\*\* registered /, ANSWER_MS);
        attacker.send(`/nick rf${k}x${i}\n/register hunter2hunter2\n`);
        count(outcome, await got);
        attacker.destroy();
      }
    }),
  );
}

/**
 * Reading connections from another address sending `/login` with a wrong password for nick
 * after nick, each as soon as the last was answered (a session checks one password at a time).
 */
export function loginFlood(target: AttackTarget, scale: AbuseScale): AttackRun {
  return passwordAttack(target, scale, async (group, stopAt, outcome) => {
    const attackers = await group.open(scale.passwordConnections, true);
    return attackers.map(async (attacker, k) => {
      for (let i = 0; performance.now() < stopAt && !attacker.closed; i++) {
        outcome.requests++;
        const got = answer(attacker, /^\*\*\* logged in as /, ANSWER_MS);
        attacker.send(`/login victim${k}x${i} wrong-password\n`);
        count(outcome, await got);
      }
    });
  });
}
