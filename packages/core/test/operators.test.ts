import { describe, expect, it } from "vitest";
import {
  ChatError,
  createAcceptPolicy,
  createClient,
  openSqliteStore,
  parseOperatorsFile,
  type SqliteStore,
} from "../src/index.js";
import { LineClient, startServer } from "./helpers.js";

function memoryStore(): SqliteStore & AsyncDisposable {
  const store = openSqliteStore(":memory:") as SqliteStore & AsyncDisposable;
  store[Symbol.asyncDispose] = async () => store.close();
  return store;
}

/** Sends a line and waits for the first line after it that matches. */

const PASSWORD = "correct-horse";

/** A text client that registers `name` and, when `operator`, logs in to it as an operator. */
async function account(
  port: number,
  store: SqliteStore,
  name: string,
  options: { operator?: boolean; localAddress?: string } = {},
): Promise<LineClient> {
  const client = await LineClient.open(port, options.localAddress);
  await client.waitFor(/^\*\*\* tcpchat\/1 /);
  await client.ask(`/nick ${name}`, new RegExp(`known as ${name}$`));
  await client.ask(`/register ${PASSWORD}`, new RegExp(`^\\*\\*\\* registered ${name}`));
  if (options.operator) {
    expect(store.setOperator(name, true)).toBe(true);
    // Rights are read at login.
    await client.ask(`/login ${name} ${PASSWORD}`, `*** logged in as ${name}`);
  }
  return client;
}

describe("operators from any client", () => {
  it("a non-operator gets CHAT_ERR_NOT_PERMITTED with a hint for /ban, /unban and setting a topic", async () => {
    await using store = memoryStore();
    await using s = await startServer({ store, modeSettleMs: 50, policy: createAcceptPolicy({}) });
    const bob = await account(s.port, store, "bob");
    for (const line of ["/ban 10.0.0.1", "/unban 10.0.0.1", "/topic a new topic"]) {
      expect(await bob.ask(line, /^!!! /)).toBe(
        "!!! CHAT_ERR_NOT_PERMITTED: Only operator accounts may do that. (hint: Log in to an operator account (/login NAME PASSWORD); the server's operator makes one with `tcpchat account op NAME`.)",
      );
    }
    expect(store.loadBans(Date.now())).toEqual([]);
    // Anyone may ask for a topic.
    expect(await bob.ask("/topic", /^\*\*\* /)).toBe("*** #lobby has no topic");
    bob.close();
  });

  it("/ban NICK bans its address at accept time, disconnects it, persists; /unban lifts it", async () => {
    await using store = memoryStore();
    const policy = createAcceptPolicy({});
    await using s = await startServer({ store, modeSettleMs: 50, policy });
    const alice = await account(s.port, store, "alice", { operator: true });
    const bob = await account(s.port, store, "bob", { localAddress: "127.0.0.2" });
    const carol = await LineClient.open(s.port, "127.0.0.2");
    await carol.waitFor(/^\*\*\* tcpchat\/1 /);

    expect(await alice.ask("/ban bob 2h spam and more", /^\*\*\* banned /)).toBe(
      "*** banned 127.0.0.2 (bob) for 2h; disconnected 2",
    );
    await bob.waitFor(
      "!!! CHAT_ERR_KICKED: banned by alice: spam and more (hint: Reconnect if you believe it was a mistake; repeated kicks may become a ban.)",
    );
    await bob.closed;
    await carol.closed;
    // The same ban list as the console's: it applies at accept time...
    const refused = await LineClient.open(s.port, "127.0.0.2");
    await refused.waitFor(/CHAT_ERR_REFUSED_BANNED/);
    await refused.closed;
    expect(policy.isBanned("127.0.0.2")?.reason).toBe("banned by alice: spam and more");
    // ...and it is in the store, for the next start.
    const [stored] = store.loadBans(Date.now());
    expect(stored).toMatchObject({ target: "127.0.0.2", source: "operator" });
    expect(stored!.expiresAt! - stored!.createdAt).toBe(2 * 3_600_000);
    // The operator's own address is not covered: alice stays, and was not told otherwise.
    expect(alice.lines.some((l) => l.includes("covers your own address"))).toBe(false);

    expect(await alice.ask("/unban 10.9.9.9", /^!!! /)).toMatch(
      /^!!! CHAT_ERR_NOT_BANNED: 10\.9\.9\.9 is not banned\./,
    );
    expect(await alice.ask("/unban nonsense", /^!!! /)).toMatch(/^!!! CHAT_ERR_BAD_ARGUMENT: /);
    expect(await alice.ask("/ban nobody-here", /^!!! /)).toMatch(
      /^!!! CHAT_ERR_BAD_ARGUMENT: Nobody called nobody-here is connected, and it is not an address or CIDR block\./,
    );
    await alice.ask("/unban ::ffff:127.0.0.2", "*** unbanned ::ffff:127.0.0.2");
    expect(store.loadBans(Date.now())).toEqual([]);
    const back = await LineClient.open(s.port, "127.0.0.2");
    await back.waitFor(/^\*\*\* tcpchat\/1 /);
    back.close();
    alice.close();
  });

  it("a ban covering the operator's own address leaves it connected, with a note", async () => {
    await using store = memoryStore();
    await using s = await startServer({ store, modeSettleMs: 50, policy: createAcceptPolicy({}) });
    const alice = await account(s.port, store, "alice", { operator: true });
    const bob = await account(s.port, store, "bob");
    await alice.ask("/ban 127.0.0.0/8 15m", "*** banned 127.0.0.0/8 for 15m; disconnected 1");
    await alice.waitFor(
      /^\*\*\* note: the ban covers your own address too; .*\/unban 127\.0\.0\.0\/8\)$/,
    );
    await bob.closed;
    await alice.ask("/unban 127.0.0.0/8", "*** unbanned 127.0.0.0/8");
    alice.close();
  });

  it("without an accept policy that keeps bans, /ban answers CHAT_ERR_BANS_OFF", async () => {
    await using store = memoryStore();
    await using s = await startServer({ store, modeSettleMs: 50 });
    const alice = await account(s.port, store, "alice", { operator: true });
    expect(await alice.ask("/ban 10.0.0.1", /^!!! /)).toMatch(/^!!! CHAT_ERR_BANS_OFF: /);
    alice.close();
  });

  it("JSON ban, unban and topic frames answer with acks and errors with their ref", async () => {
    await using store = memoryStore();
    await using s = await startServer({ store, modeSettleMs: 50, policy: createAcceptPolicy({}) });
    const alice = await account(s.port, store, "alice", { operator: true });
    const client = createClient({ port: s.port, nick: "dave" });
    await client.connect();
    try {
      const notPermitted = await client.ban("10.1.2.3").catch((error: unknown) => error);
      expect(notPermitted).toBeInstanceOf(ChatError);
      expect((notPermitted as ChatError).code).toBe("CHAT_ERR_NOT_PERMITTED");
      const topics: unknown[] = [];
      client.on("frame", (frame: { type: string }) => {
        if (frame.type === "topic") topics.push(frame);
      });
      await client.topic();
      expect(topics).toEqual([{ type: "topic", room: "lobby", text: "" }]);
      // alice sets it: dave, in the room, hears the new topic.
      await alice.ask(
        "/topic welcome to the lobby",
        /^\*\*\* topic of #lobby: welcome to the lobby \(set by alice /,
      );
      await expect.poll(() => topics.length).toBe(2);
      expect(topics[1]).toMatchObject({
        type: "topic",
        room: "lobby",
        text: "welcome to the lobby",
        by: "alice",
      });
    } finally {
      await client.quit();
    }
    // An operator's JSON client: ban with a duration, then unban.
    const op = createClient({ port: s.port });
    await op.connect();
    try {
      await op.login("alice", PASSWORD);
      await op.ban("10.1.2.0/24", { durationMs: 90_000, reason: "flood" });
      expect(store.loadBans(Date.now())).toMatchObject([
        { target: "10.1.2.0/24", reason: "banned by alice: flood" },
      ]);
      await op.unban("10.1.2.0/24");
      expect(store.loadBans(Date.now())).toEqual([]);
      await op.topic({ room: "#elsewhere", text: "a room with nobody in it" });
      expect(store.loadTopics()).toMatchObject([
        { roomKey: "lobby", text: "welcome to the lobby" },
        { roomKey: "elsewhere", room: "elsewhere", text: "a room with nobody in it" },
      ]);
      await op.topic({ room: "elsewhere", text: "" });
      expect(store.loadTopics().map((t) => t.roomKey)).toEqual(["lobby"]);
    } finally {
      await op.quit();
    }
    alice.close();
  });
});

describe("room topics", () => {
  it("are shown on join, as a line and as a frame, and come back after a restart", async () => {
    await using store = memoryStore();
    {
      await using s = await startServer({ store, modeSettleMs: 50 });
      const alice = await account(s.port, store, "alice", { operator: true });
      await alice.ask("/join rust", /you are in #rust|--> alice joined/);
      await alice.ask("/topic #rust  ownership, borrowing ", /^\*\*\* topic of #rust: /);
      expect(await alice.ask("/topic #rust \u001b[31mred", /^!!! |^\*\*\* topic/)).toMatch(
        /^\*\*\* topic of #rust: \S+\[31mred \(set by alice /,
      );
      await alice.ask(
        "/topic #rust ownership and borrowing",
        /^\*\*\* topic of #rust: ownership and borrowing/,
      );
      expect(await alice.ask(`/topic ${"x".repeat(301)}`, /^!!! /)).toMatch(
        /^!!! CHAT_ERR_BAD_ARGUMENT: A topic is one line of at most 300 characters\./,
      );
      alice.close();
    }
    await using s = await startServer({ store, modeSettleMs: 50 });
    const text = await LineClient.greeted(s.port);
    const line = await text.ask("/join rust", /^\*\*\* topic of #rust/);
    expect(line).toMatch(
      /^\*\*\* topic of #rust: ownership and borrowing \(set by alice \d\d-\d\d \d\d:\d\dZ\)$/,
    );
    const json = await LineClient.open(s.port);
    await json.waitFor(/^\*\*\* tcpchat\/1 /);
    json.send(JSON.stringify({ type: "hello", proto: 1, nick: "erin", room: "rust" }));
    const frame = JSON.parse(await json.waitFor(/"type":"topic"/)) as Record<string, unknown>;
    expect(frame).toMatchObject({
      type: "topic",
      room: "rust",
      text: "ownership and borrowing",
      by: "alice",
    });
    const order = json.lines.filter((l) => l.startsWith("{")).map((l) => JSON.parse(l).type);
    expect(order.indexOf("welcome")).toBeLessThan(order.indexOf("topic"));
    // A room with no topic says nothing about topics on join.
    await text.ask("/join go", /you are in #go|--> \S+ joined/);
    expect(text.lines.some((l) => l.includes("#go has no topic"))).toBe(false);
    text.close();
    json.close();
  });
});

describe("operators from the configuration", () => {
  it("setOperators grants rights at login and takes them back at once from logged-in sessions", async () => {
    await using store = memoryStore();
    await using s = await startServer({ store, modeSettleMs: 50 });
    const alice = await account(s.port, store, "alice");
    const bob = await account(s.port, store, "bob");
    s.server.setOperators(["Alice"]);
    await alice.ask(`/login alice ${PASSWORD}`, "*** logged in as alice");
    expect(store.getAccount("alice")!.operator).toBe(false);
    await alice.ask("/topic set from the file", /^\*\*\* topic of #lobby: set from the file/);
    s.server.setOperators([]);
    expect(await alice.ask("/kick bob", /^!!! /)).toMatch(/^!!! CHAT_ERR_NOT_PERMITTED: /);
    // A stored operator flag still counts when the file drops the name.
    store.setOperator("alice", true);
    s.server.setOperators(["someone-else"]);
    await alice.ask("/kick bob bye", "*** kicked bob");
    await bob.closed;
    alice.close();
  });

  it("an operators file is account names, one a line, with comments; a bad line is CHAT_ERR_OPERATORS_FILE", () => {
    expect(parseOperatorsFile("# operators\nalice\n\n  bob   # the night shift\r\n")).toEqual([
      "alice",
      "bob",
    ]);
    let error: unknown;
    try {
      parseOperatorsFile("alice\nbob smith\n#fine\n\u0007\n", "ops.txt");
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ChatError);
    expect((error as ChatError).code).toBe("CHAT_ERR_OPERATORS_FILE");
    expect((error as ChatError).message).toBe(
      'ops.txt: line 2: "bob smith" is not an account name; line 4: "\\u0007" is not an account name',
    );
  });
});

describe("the login grace period", () => {
  it("a hello with a registered nick holds it until the grace period ends, then is renamed with a notice", async () => {
    await using store = memoryStore();
    await using s = await startServer({ store, modeSettleMs: 50, loginGraceMs: 400 });
    const owner = await account(s.port, store, "alice");
    owner.close();
    const guest = await LineClient.welcomed(s.port, "alice");
    const welcome = JSON.parse(guest.lines.find((l) => l.includes('"welcome"'))!);
    expect(welcome.nick).toBe("alice");
    await guest.waitFor(
      /"text":"alice is registered: log in within 1 s \(\/login alice PASSWORD, or an auth frame\) or you will be renamed to a guest nick"/,
    );
    const renamed = JSON.parse(await guest.waitFor(/"type":"nick","ts":\d+,"old":"alice"/, 5000));
    expect(renamed.new).toMatch(/^guest-[0-9a-f]{6}$/);
    await guest.waitFor(
      new RegExp(
        `"text":"alice is registered and you did not log in to it within 1 s; you are now ${renamed.new}"`,
      ),
    );
    // A later /nick to a registered nick is refused at once, as before.
    guest.send(JSON.stringify({ type: "nick", ref: "n1", nick: "alice" }));
    await guest.waitFor(
      /"ref":"n1".*CHAT_ERR_NICK_REGISTERED|CHAT_ERR_NICK_REGISTERED.*"ref":"n1"/,
    );
    guest.close();
  });

  it("logging in within the grace period keeps the nick", async () => {
    // Long enough for a password check on a busy machine: the race under test is the login
    // against the grace period's end, and the login must win it whatever the load.
    const graceMs = 2500;
    await using store = memoryStore();
    await using s = await startServer({ store, modeSettleMs: 50, loginGraceMs: graceMs });
    const owner = await account(s.port, store, "alice");
    owner.close();
    const back = await LineClient.welcomed(s.port, "alice");
    // The welcome is out, so the server has started the grace period by now.
    const welcomedAt = Date.now();
    back.send(JSON.stringify({ type: "auth", ref: "a1", name: "alice", password: PASSWORD }));
    await back.waitFor(/"type":"ack","ref":"a1"/);
    // Past the end of the grace period (its timer has run by then: timers run in order), a
    // request's answer marks the point after which a rename would have been seen.
    const deadline = welcomedAt + graceMs;
    await expect
      .poll(() => Date.now() > deadline, { timeout: graceMs + 2000, interval: 50 })
      .toBe(true);
    back.send(JSON.stringify({ type: "who", ref: "w1" }));
    await back.waitFor(/"type":"ack","ref":"w1"/);
    expect(back.lines.some((l) => l.includes('"old":"alice"'))).toBe(false);
    expect(back.lines.some((l) => l.includes("you are now guest-"))).toBe(false);
    back.close();
  });

  it("with a grace period of 0 a hello with a registered nick is refused it at once", async () => {
    await using store = memoryStore();
    await using s = await startServer({ store, modeSettleMs: 50, loginGraceMs: 0 });
    const owner = await account(s.port, store, "alice");
    owner.close();
    const guest = await LineClient.welcomed(s.port, "alice");
    await guest.waitFor(/CHAT_ERR_NICK_REGISTERED/);
    expect(JSON.parse(guest.lines.find((l) => l.includes('"welcome"'))!).nick).toMatch(/^guest-/);
    guest.close();
  });
});
