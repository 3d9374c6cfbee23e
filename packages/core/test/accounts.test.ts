import { connect as tlsConnect } from "node:tls";
import { describe, expect, it } from "vitest";
import { openSqliteStore, type SqliteStore } from "../src/index.js";
import { LineClient, startServer } from "./helpers.js";
import { makeCertificate, removeCertificate } from "./peers.js";

function memoryStore(): SqliteStore & AsyncDisposable {
  const store = openSqliteStore(":memory:") as SqliteStore & AsyncDisposable;
  store[Symbol.asyncDispose] = async () => store.close();
  return store;
}

/** Sends a line and waits for the first line after it that matches. */

describe("accounts", () => {
  it("/register protects a nick, across reconnects and restarts; /login takes it back", async () => {
    await using store = memoryStore();
    {
      await using s = await startServer({ store, modeSettleMs: 50 });
      const alice = await LineClient.greeted(s.port);
      await alice.ask("/nick alice", /is now known as alice$/);
      const warning = await alice.ask("/register hunter2hunter2", /^\*\*\* warning: /);
      expect(warning).toMatch(/not encrypted.*in the clear.*--tls/);
      await alice.waitFor(
        "*** registered alice: only you can use it now; next time, /login alice PASSWORD",
      );
      const stored = store.getAccount("alice")!;
      expect(stored.passwordHash).toMatch(/^\$scrypt\$ln=15,r=8,p=1\$/);
      expect(stored.passwordHash).not.toContain("hunter2");
      alice.close();
    }
    await using s = await startServer({ store, modeSettleMs: 50 });
    const mallory = await LineClient.greeted(s.port);
    expect(await mallory.ask("/nick alice", /^!!! /)).toMatch(
      /^!!! CHAT_ERR_NICK_REGISTERED: The nick alice is registered\./,
    );
    expect(await mallory.ask("/nick ALICE", /^!!! /)).toMatch(/CHAT_ERR_NICK_REGISTERED/);
    expect(await mallory.ask("/nick a1ice", /^!!! /)).toMatch(
      /CHAT_ERR_NICK_REGISTERED: The nick a1ice is registered \(it looks like a registered nick\)/,
    );
    expect(await mallory.ask("/login alice wrong-password", /^!!! /)).toMatch(
      /^!!! CHAT_ERR_LOGIN_FAILED: Wrong account name or password\./,
    );
    expect(await mallory.ask("/login nobody wrong-password", /^!!! /)).toMatch(
      /CHAT_ERR_LOGIN_FAILED/,
    );
    const alice = await LineClient.greeted(s.port);
    await alice.ask("/login alice hunter2hunter2", "*** logged in as alice");
    await alice.waitFor(`*** ${alice.nick} is now known as alice`);
    mallory.close();
    alice.close();
  });

  it("passwordLimits.scrypt sets the cost of new hashes; a login checks the cost stored", async () => {
    await using store = memoryStore();
    await using s = await startServer({
      store,
      modeSettleMs: 50,
      passwordLimits: { scrypt: { ln: 4, r: 8, p: 1 } },
    });
    const alice = await LineClient.greeted(s.port);
    await alice.ask("/nick alice", /is now known as alice$/);
    await alice.ask("/register hunter2hunter2", /^\*\*\* registered alice/);
    expect(store.getAccount("alice")!.passwordHash).toMatch(/^\$scrypt\$ln=4,r=8,p=1\$/);
    alice.close();
    const again = await LineClient.greeted(s.port);
    expect(await again.ask("/login alice hunter2hunter2", /^(\*\*\* logged in|!!! )/)).toBe(
      "*** logged in as alice",
    );
    again.close();
  });

  it("logging in renames whoever holds the nick to a guest nick, with a notice", async () => {
    await using store = memoryStore();
    await using s = await startServer({ store, modeSettleMs: 50 });
    const first = await LineClient.greeted(s.port);
    await first.ask("/nick bob", /known as bob$/);
    await first.ask("/register correct-horse", /^\*\*\* registered bob/);
    const second = await LineClient.greeted(s.port);
    await second.ask("/login bob correct-horse", "*** logged in as bob");
    const notice = await first.waitFor(
      /^\*\*\* bob is registered and its owner logged in; you are now (guest-\w+)$/,
    );
    const guest = /you are now (\S+)$/.exec(notice)![1]!;
    await second.waitFor(`*** bob is now known as ${guest}`);
    await second.waitFor(`*** ${second.nick} is now known as bob`);
    first.close();
    second.close();
  });

  it("throttles failed logins per account, whatever the address", async () => {
    await using store = memoryStore();
    await using s = await startServer({ store, modeSettleMs: 50 });
    const owner = await LineClient.greeted(s.port);
    await owner.ask("/nick carol", /known as carol$/);
    await owner.ask("/register correct-horse", /^\*\*\* registered carol/);
    const guesser = await LineClient.greeted(s.port);
    for (let i = 0; i < 5; i++) {
      expect(await guesser.ask(`/login carol guess-${i}`, /^!!! /)).toMatch(
        /CHAT_ERR_LOGIN_FAILED/,
      );
    }
    expect(await guesser.ask("/login carol correct-horse", /^!!! /)).toMatch(
      /^!!! CHAT_ERR_LOGIN_THROTTLED: Too many failed logins; try again in 1 s\./,
    );
    // The owner, from another connection, is held back as well: the account is under attack.
    const again = await LineClient.greeted(s.port);
    expect(await again.ask("/login carol correct-horse", /^!!! |logged in/)).toMatch(
      /CHAT_ERR_LOGIN_THROTTLED/,
    );
    owner.close();
    guesser.close();
    again.close();
  });

  it("JSON register and auth frames answer with acks and no clear-text warning", async () => {
    await using store = memoryStore();
    await using s = await startServer({ store });
    const client = await LineClient.open(s.port);
    await client.waitFor(/^\*\*\* tcpchat\/1 /);
    client.send(JSON.stringify({ type: "hello", proto: 1, nick: "dave" }));
    client.send(JSON.stringify({ type: "register", ref: "r1", password: "short" }));
    expect(await client.waitFor(/"ref":"r1"/)).toMatch(/CHAT_ERR_WEAK_PASSWORD.*at least 8/);
    client.send(JSON.stringify({ type: "register", ref: "r2", password: "long enough" }));
    expect(await client.waitFor(/"ref":"r2"/)).toMatch(/"type":"ack"/);
    client.send(JSON.stringify({ type: "auth", ref: "r3", name: "dave", password: "long enough" }));
    expect(await client.waitFor(/"ref":"r3"/)).toMatch(/"type":"ack"/);
    expect(client.lines.some((l) => l.includes("warning"))).toBe(false);
    client.close();
  });

  it("without a store, register answers CHAT_ERR_ACCOUNTS_OFF", async () => {
    await using s = await startServer({ modeSettleMs: 50 });
    const client = await LineClient.greeted(s.port);
    await client.ask("/nick erin", /known as erin$/);
    expect(await client.ask("/register long enough", /^!!! /)).toMatch(/CHAT_ERR_BAD_ARGUMENT/);
    expect(await client.ask("/register longenough", /^!!! /)).toMatch(
      /^!!! CHAT_ERR_ACCOUNTS_OFF: /,
    );
    client.close();
  });

  it("a text client inside TLS registers with no clear-text warning", async () => {
    const certificate = makeCertificate();
    try {
      await using store = memoryStore();
      await using s = await startServer({ store, tls: certificate, modeSettleMs: 50 });
      const socket = tlsConnect({
        host: "127.0.0.1",
        port: s.port,
        ca: certificate.cert,
        servername: "localhost",
      });
      const client = LineClient.over(socket);
      await client.waitFor(/^\*\*\* tcpchat\/1 /);
      await client.ask("/nick frank", /known as frank$/);
      await client.ask("/register correct-horse", /^\*\*\* registered frank/);
      expect(client.lines.some((l) => l.includes("warning"))).toBe(false);
      client.close();
    } finally {
      removeCertificate(certificate);
    }
  });

  it("only a session logged in to an operator account may /kick", async () => {
    await using store = memoryStore();
    await using s = await startServer({ store, modeSettleMs: 50 });
    const alice = await LineClient.greeted(s.port);
    await alice.ask("/nick alice", /known as alice$/);
    await alice.ask("/register correct-horse", /^\*\*\* registered alice/);
    const bob = await LineClient.greeted(s.port);
    await bob.ask("/nick bob", /known as bob$/);
    expect(await alice.ask("/kick bob spam", /^!!! /)).toMatch(
      /^!!! CHAT_ERR_NOT_PERMITTED: Only operator accounts may do that\./,
    );
    expect(store.setOperator("alice", true)).toBe(true);
    // Rights are read at login.
    await alice.ask("/login alice correct-horse", "*** logged in as alice");
    expect(await alice.ask("/kick nobody", /^!!! /)).toMatch(/CHAT_ERR_NO_SUCH_NICK/);
    await alice.ask("/kick bob spam", "*** kicked bob");
    await bob.waitFor(/^!!! CHAT_ERR_KICKED: kicked by alice: spam/);
    await bob.closed;
    alice.close();
  });
});
