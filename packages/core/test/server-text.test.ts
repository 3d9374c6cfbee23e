import { afterEach, describe, expect, it } from "vitest";
import { LineClient, startServer } from "./helpers.js";

const open: Array<{ close(): void }> = [];
afterEach(() => {
  for (const client of open.splice(0)) client.close();
});
async function greeted(port: number) {
  const client = await LineClient.greeted(port);
  open.push(client);
  return client;
}

describe("text mode over real sockets", () => {
  it("greets with version, guest nick and default room", async () => {
    await using s = await startServer();
    const alice = await greeted(s.port);
    expect(alice.lines[0]).toMatch(
      /^\*\*\* tcpchat\/1 tcpchat \S+: welcome, you are guest-[0-9a-f]{6} in #lobby\. \/help lists commands\.$/,
    );
  });

  it("two raw line clients chat in a room", async () => {
    await using s = await startServer();
    const alice = await greeted(s.port);
    const bob = await greeted(s.port);
    alice.send("/nick alice");
    await alice.waitFor("*** " + alice.nick + " is now known as alice");
    bob.send("/nick bob");
    // bob's first line names him before the room hears him arrive: no guest rename.
    await alice.waitFor("#lobby --> bob joined");
    alice.send("hello bob");
    expect(await bob.waitFor(/^#lobby <alice>/)).toBe("#lobby <alice> hello bob");
    bob.send("/me waves");
    expect(await alice.waitFor(/^#lobby \* bob/)).toBe("#lobby * bob waves");
  });

  it("passes Korean and other Unicode through byte-exact", async () => {
    await using s = await startServer();
    const alice = await greeted(s.port);
    const bob = await greeted(s.port);
    const text = "안녕하세요, 세계! 🎉 café ﬁ ＡＢＣ 𝄞";
    alice.send(text);
    const line = await bob.waitFor(/^#lobby </);
    expect(Buffer.from(line)).toEqual(Buffer.from(`#lobby <${alice.nick}> ${text}`));
  });

  it("discards a 1 MiB line without newline, then the same connection chats on", async () => {
    await using s = await startServer();
    const alice = await greeted(s.port);
    const bob = await greeted(s.port);
    alice.send(Buffer.alloc(1024 * 1024, "x"));
    const error = await alice.waitFor(/^!!! /);
    expect(error).toMatch(
      /^!!! CHAT_ERR_LINE_TOO_LONG: The line is longer than 16384 bytes and was discarded\. \(hint: .+\)$/,
    );
    alice.send("\nstill here");
    expect(await bob.waitFor(/^#lobby </)).toBe(`#lobby <${alice.nick}> still here`);
    expect(s.server.stats().framingErrors).toBe(1);
  });

  it("reports invalid UTF-8 and keeps the connection", async () => {
    await using s = await startServer();
    const alice = await greeted(s.port);
    alice.send(Buffer.from([0x68, 0xc3, 0x28, 0x0a]));
    expect(await alice.waitFor(/^!!! /)).toMatch(/^!!! CHAT_ERR_INVALID_UTF8: /);
    alice.send("ok");
    expect(await alice.waitFor(/^#lobby </)).toBe(`#lobby <${alice.nick}> ok`);
  });

  it("answers commands: rooms, who, join, part, msg, help, unknown", async () => {
    await using s = await startServer();
    const alice = await greeted(s.port);
    const bob = await greeted(s.port);
    alice.send("/join 한국어");
    await alice.waitFor(`#한국어 --> ${alice.nick} joined`);
    alice.send("/rooms");
    expect(await alice.waitFor(/^\*\*\* rooms:/)).toMatch(/#lobby \(2\)/);
    alice.send("/who");
    expect(await alice.waitFor(/^\*\*\* #한국어/)).toBe(`*** #한국어 (1): ${alice.nick}`);
    alice.send(`/msg ${bob.nick} psst`);
    expect(await bob.waitFor(/^\*dm\*/)).toBe(`*dm* <${alice.nick}> psst`);
    expect(await alice.waitFor(/^\*dm\* ->/)).toBe(`*dm* -> ${bob.nick}: psst`);
    alice.send("/msg nobody hi");
    expect(await alice.waitFor(/^!!! CHAT_ERR_NO_SUCH_NICK/)).toMatch(/Nobody called nobody/);
    alice.send("/dance");
    expect(await alice.waitFor(/^!!! CHAT_ERR_UNKNOWN_COMMAND/)).toMatch(/\/dance/);
    alice.send("/nick bad nick");
    expect(await alice.waitFor(/^!!! CHAT_ERR_BAD_ARGUMENT/)).toMatch(/Usage: \/nick NAME/);
    // Guest nicks are reserved (CHAT_ERR_NICK_RESERVED): a nick bob picked is the one in use.
    bob.send("/nick bob");
    await bob.waitFor(/is now known as bob$/);
    alice.send("/nick BOB");
    expect(await alice.waitFor(/^!!! CHAT_ERR_NICK_IN_USE/)).toBeTruthy();
    alice.send("/nick operator");
    expect(
      await alice.waitFor(/^!!! CHAT_ERR_NICK_IN_USE/, 5000, alice.lines.length - 1),
    ).toBeTruthy();
    alice.send("/part");
    expect(await alice.waitFor(/you left #한국어/)).toMatch(/now talking in #lobby/);
    alice.send("//slash is literal");
    expect(await bob.waitFor(/slash is literal/)).toBe(`#lobby <${alice.nick}> /slash is literal`);
    alice.send("/help");
    expect(await alice.waitFor(/^\*\*\* \/msg/)).toMatch(/direct message/);
  });

  it("rate-limits a flood with an error per excess message, never silently", async () => {
    await using s = await startServer({ messageRate: 1, messageBurst: 3 });
    const alice = await greeted(s.port);
    alice.send("1\n2\n3\n4\n5");
    await alice.waitFor(`#lobby <${alice.nick}> 3`);
    await alice.waitFor(/^!!! CHAT_ERR_RATE_LIMITED/);
    const errors = () => alice.lines.filter((l) => l.startsWith("!!! CHAT_ERR_RATE_LIMITED"));
    const deadline = Date.now() + 5000;
    while (errors().length < 2 && Date.now() < deadline)
      await alice.waitFor(/never/, 50).catch(() => {});
    expect(errors()).toHaveLength(2);
    expect(alice.lines.filter((l) => l.startsWith("#lobby <"))).toHaveLength(3);
  });

  it("takes a final line without newline when the client closes (as readLine does)", async () => {
    await using s = await startServer();
    const alice = await greeted(s.port);
    const bob = await greeted(s.port);
    alice.socket.end("last words");
    expect(await bob.waitFor(/last words/)).toBe(`#lobby <${alice.nick}> last words`);
    expect(await bob.waitFor(/<--/)).toBe(
      `#lobby <-- ${alice.nick} left (client closed the connection)`,
    );
  });

  it("cuts off a client that never reads at its send-queue limit; others keep receiving", async () => {
    await using s = await startServer({
      sendQueueBytes: 64 * 1024,
      messageRate: 1e6,
      messageBurst: 1e6,
      requestRate: 1e6,
      requestBurst: 1e6,
    });
    const stalled = await greeted(s.port);
    stalled.socket.pause();
    const reader = await greeted(s.port);
    const sender = await greeted(s.port);
    const cutOff = new Promise<{ code?: string }>((resolve) =>
      s.server.on("session-close", (_info, why) => {
        if (why.code !== undefined) resolve(why);
      }),
    );
    const line = "y".repeat(1000);
    // Bounded: at most 200 rounds of 100 lines (20 MB) before the test gives up.
    let round = 0;
    while (s.server.stats().sendQueueCutoffs === 0 && round < 200) {
      round += 1;
      sender.send(Array.from({ length: 100 }, () => line).join("\n"));
      await reader.waitFor(/^never$/, 20).catch(() => {});
    }
    expect(s.server.stats().sendQueueCutoffs).toBe(1);
    expect((await cutOff).code).toBe("CHAT_ERR_SEND_QUEUE_FULL");
    sender.send("after the cut-off");
    expect(await reader.waitFor(/after the cut-off/, 10_000)).toMatch(/^#lobby </);
    expect(s.server.stats().connections).toBe(2);
  });

  it("delivers a shutdown notice to every client, then closes", async () => {
    const s = await startServer();
    const clients = await Promise.all([greeted(s.port), greeted(s.port), greeted(s.port)]);
    await s.server.close({ reason: "maintenance" });
    for (const client of clients) {
      await client.closed;
      expect(client.lines).toContain("*** server shutting down: maintenance");
    }
  });
});
