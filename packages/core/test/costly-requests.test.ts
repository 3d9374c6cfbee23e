import { describe, expect, it } from "vitest";
import { openSqliteStore, type SqliteStore, type StoredMessage } from "../src/index.js";
import { LineClient, startServer } from "./helpers.js";
import { UNLIMITED_RATES } from "./temp-store.js";

/**
 * Requests that cost far more than a chat line (searches and history pages of a stored room,
 * password hashes) cost their senders, not everyone else.
 */

function memoryStore(): SqliteStore & AsyncDisposable {
  const store = openSqliteStore(":memory:") as SqliteStore & AsyncDisposable;
  store[Symbol.asyncDispose] = async () => store.close();
  return store;
}

/** `count` messages in #lobby, each with "deploy" in it. */
function seed(store: SqliteStore, count: number): void {
  const batch: StoredMessage[] = [];
  for (let id = 1; id <= count; id++) {
    batch.push({
      id,
      ts: 1_700_000_000_000 + id,
      room: "lobby",
      roomKey: "lobby",
      from: `user${id % 7}`,
      text: `deploy number ${id} of the week`,
      action: false,
    });
  }
  store.appendMessages(batch);
}

/** Lines of `client` from `from` on that answer a search (found or not). */
function answers(client: LineClient, from: number): number {
  return client.lines
    .slice(from)
    .filter((l) => l.startsWith("*** end of history") || l === "*** no messages found").length;
}

describe("searches and history pages cost their sender", () => {
  it("answers a burst of searches in one write only as far as the sender's budget goes", async () => {
    await using store = memoryStore();
    await using s = await startServer({ store, modeSettleMs: 50 });
    const flooder = await LineClient.greeted(s.port);
    const from = flooder.lines.length;
    // 64 lines are what the server decodes of one peer at a time: before, every one of them was
    // run before the charges of the first ones could stop the rest.
    flooder.send("/search nothing-matches\n".repeat(64));
    const refused = await flooder.waitFor(/^!!! CHAT_ERR_READ_THROTTLED/, 5000, from);
    expect(refused).toMatch(
      /^!!! CHAT_ERR_READ_THROTTLED: Your last searches and history pages took more than your request budget; retry in \d+ ms\./,
    );
    const answered = answers(flooder, from);
    expect(answered).toBeGreaterThan(0);
    expect(answered).toBeLessThan(40);
    // Another client's search is answered at once: the flood cost its sender.
    const other = await LineClient.greeted(s.port);
    const mark = other.lines.length;
    other.send("/search nothing-matches");
    await other.waitFor("*** no messages found", 5000, mark);
    flooder.close();
    other.close();
  });

  it("refuses every client's reads as busy once the server's read time is spent", async () => {
    await using store = memoryStore();
    seed(store, 5000);
    // 1 ms of reads per second for the whole server: a few 100-message pages spend it.
    await using s = await startServer({ store, modeSettleMs: 50, history: { readMsPerSecond: 1 } });
    const readers = await Promise.all([1, 2, 3].map(() => LineClient.greeted(s.port)));
    for (const reader of readers) reader.send("/search deploy\n".repeat(10));
    const busy = await Promise.race(
      readers.map((r) => r.waitFor(/^!!! CHAT_ERR_SERVER_BUSY/, 5000)),
    );
    expect(busy).toMatch(
      /^!!! CHAT_ERR_SERVER_BUSY: The server is answering many searches and history requests just now; retry in \d+ ms\./,
    );
    // A newcomer with a full budget of its own is refused too: the server's share is spent.
    const newcomer = await LineClient.greeted(s.port);
    const mark = newcomer.lines.length;
    newcomer.send(JSON.stringify({ type: "hello", proto: 1 }));
    await newcomer.waitFor(/"type":"welcome"/, 5000, mark);
    newcomer.send(JSON.stringify({ type: "history", ref: "h1", room: "lobby", limit: 100 }));
    const reply = await newcomer.waitFor(/"ref":"h1"/, 5000, mark);
    expect(JSON.parse(reply)).toMatchObject({
      type: "error",
      code: "CHAT_ERR_SERVER_BUSY",
      ref: "h1",
    });
    for (const c of [...readers, newcomer]) c.close();
  });
});

describe("history reads that arrive together share one turn's time", () => {
  /**
   * Sends 8 history pages in one write (fewer than the 10 error replies a client gets at once);
   * resolves with how many were answered and refused.
   */
  async function burstOfPages(readTurnMs: number | undefined) {
    await using store = memoryStore();
    seed(store, 5000);
    await using s = await startServer({
      store,
      modeSettleMs: 50,
      ...UNLIMITED_RATES,
      history: readTurnMs === undefined ? {} : { readTurnMs },
    });
    const reader = await LineClient.greeted(s.port);
    const from = reader.lines.length;
    // One write: the server handles these lines in one turn.
    reader.send("/history 100\n".repeat(8));
    const done = () =>
      reader.lines.slice(from).filter((l) => l.startsWith("*** end of history")).length +
      reader.lines.slice(from).filter((l) => l.startsWith("!!! CHAT_ERR_SERVER_BUSY")).length;
    const deadline = Date.now() + 10_000;
    while (done() < 8 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    const lines = reader.lines.slice(from);
    reader.close();
    return {
      answered: lines.filter((l) => l.startsWith("*** end of history")).length,
      busy: lines.filter((l) => l.startsWith("!!! CHAT_ERR_SERVER_BUSY")),
    };
  }

  it("answers the turn's pages up to its share; the rest are told to retry in 1 ms", async () => {
    // A share far below one page's time: each turn answers one page at most.
    const capped = await burstOfPages(0.001);
    expect(capped.answered).toBeGreaterThanOrEqual(1);
    expect(capped.answered).toBeLessThan(8);
    expect(capped.busy.length).toBe(8 - capped.answered);
    expect(capped.busy[0]).toMatch(
      /^!!! CHAT_ERR_SERVER_BUSY: The server is answering many searches and history requests just now; retry in 1 ms\./,
    );
    // The default share (10 ms) holds these small pages: all answered.
    const uncapped = await burstOfPages(undefined);
    expect(uncapped).toEqual({ answered: 8, busy: [] });
  });
});

describe("password work is bounded per address", () => {
  it("checks at most 2 passwords from one address at once; the rest are refused at once", async () => {
    await using store = memoryStore();
    await using s = await startServer({ store, modeSettleMs: 50 });
    const clients = await Promise.all(Array.from({ length: 6 }, () => LineClient.greeted(s.port)));
    const marks = clients.map((c) => c.lines.length);
    // Six logins in the same moment: a scrypt check takes tens of ms, so none is done yet when
    // the last arrives.
    for (const [i, c] of clients.entries()) c.send(`/login victim${i} wrong-password`);
    const replies = await Promise.all(
      clients.map((c, i) =>
        c.waitFor(/^!!! CHAT_ERR_(LOGIN_FAILED|LOGIN_THROTTLED)/, 10_000, marks[i]),
      ),
    );
    const checked = replies.filter((r) => r.startsWith("!!! CHAT_ERR_LOGIN_FAILED"));
    const refused = replies.filter((r) => r.startsWith("!!! CHAT_ERR_LOGIN_THROTTLED"));
    expect(refused.length).toBeGreaterThanOrEqual(1);
    expect(refused[0]).toMatch(
      /CHAT_ERR_LOGIN_THROTTLED: Passwords from your address are still being checked; wait for their answers\./,
    );
    expect(checked.length).toBeGreaterThanOrEqual(2);
    for (const c of clients) c.close();
  });

  it("paces registrations per address: 5 nicks, then a wait", async () => {
    await using store = memoryStore();
    await using s = await startServer({ store, modeSettleMs: 50 });
    for (let i = 0; i < 5; i++) {
      const c = await LineClient.greeted(s.port);
      c.send(`/nick fresh${i}`);
      await c.waitFor(new RegExp(`is now known as fresh${i}$`));
      c.send("/register hunter2hunter2");
      await c.waitFor(new RegExp(`^\\*\\*\\* registered fresh${i}:`), 10_000);
      c.close();
    }
    const sixth = await LineClient.greeted(s.port);
    sixth.send("/nick fresh5");
    await sixth.waitFor(/is now known as fresh5$/);
    sixth.send("/register hunter2hunter2");
    expect(await sixth.waitFor(/^!!! /, 10_000)).toMatch(
      /^!!! CHAT_ERR_REGISTER_THROTTLED: Too many registrations from your address; try again in 10 s\./,
    );
    expect(store.getAccount("fresh5")).toBeUndefined();
    // Another address registers as before.
    const elsewhere = await LineClient.open(s.port, "127.0.0.2");
    await elsewhere.waitFor(/^\*\*\* tcpchat\/1 /);
    elsewhere.send("/nick other");
    await elsewhere.waitFor(/is now known as other$/);
    elsewhere.send("/register hunter2hunter2");
    await elsewhere.waitFor(/^\*\*\* registered other:/, 10_000);
    sixth.close();
    elsewhere.close();
  });

  it("counts every password hash, and takes the operator's password limits in place of the defaults", async () => {
    await using store = memoryStore();
    // Registrations paced after 1 (not 5), at most 1 hash per address at once (not 2).
    await using s = await startServer({
      store,
      modeSettleMs: 50,
      passwordLimits: {
        registrationThrottle: {
          freeFailures: 1,
          baseDelayMs: 60_000,
          maxDelayMs: 60_000,
          maxEntries: 100,
          forgetAfterMs: 60_000,
        },
        passwordGate: { maxRunning: 1, maxWaiting: 4, maxPerAddress: 1 },
      },
    });
    const first = await LineClient.greeted(s.port);
    first.send("/nick fresh0");
    await first.waitFor(/is now known as fresh0$/);
    first.send("/register hunter2hunter2");
    await first.waitFor(/^\*\*\* registered fresh0:/, 10_000);
    expect(s.server.stats().passwordHashes).toBe(1);
    const second = await LineClient.greeted(s.port);
    second.send("/nick fresh1");
    await second.waitFor(/is now known as fresh1$/);
    second.send("/register hunter2hunter2");
    expect(await second.waitFor(/^!!! /, 10_000)).toMatch(
      /^!!! CHAT_ERR_REGISTER_THROTTLED: Too many registrations from your address; try again in 60 s\./,
    );
    // Two logins at once from one address: one is checked (a hash), the other refused unhashed.
    const marks = [first.lines.length, second.lines.length];
    first.send("/login fresh0 wrong-password");
    second.send("/login fresh0 wrong-password");
    const replies = await Promise.all(
      [first, second].map((c, i) =>
        c.waitFor(/^!!! CHAT_ERR_(LOGIN_FAILED|LOGIN_THROTTLED)/, 10_000, marks[i]),
      ),
    );
    expect(replies.filter((r) => r.startsWith("!!! CHAT_ERR_LOGIN_FAILED"))).toHaveLength(1);
    expect(s.server.stats().passwordHashes).toBe(2);
    first.close();
    second.close();
  });
});
