import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ERROR_CODES } from "@tcpchat/core";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { Cleanup, freePort, nextEvent, requireBuild, startServer, startTui } from "./harness.js";

const SHOW_CURSOR = "\x1b[?25h";
const cleanup = new Cleanup();
beforeAll(requireBuild);
afterEach(() => cleanup.run());

describe("TUI connection life in tmux", () => {
  it("reconnects after the server restarts on the same port, sending what was queued meanwhile", async () => {
    const first = await startServer(cleanup);
    const pane = await startTui(cleanup, { port: first.port, nick: "재연결" });
    await pane.waitForText("[online]");
    await pane.type("/join dev");
    await pane.press("Enter");
    await pane.waitForText("[#dev]");

    await first.server.close({ graceMs: 0, reason: "maintenance" });
    await pane.waitForText("reconnecting in");
    await pane.type("끊긴 동안 쓴 글");
    await pane.press("Enter");
    const queued = await pane.waitForText("1 queued");
    expect(queued.some((r) => r.includes("<재연결> 끊긴 동안 쓴 글 (queued"))).toBe(true);

    const second = await startServer(cleanup, first.port);
    const delivered = nextEvent<{ room: string; from: string; text: string }>(
      second.server,
      "message",
      (m) => m.text === "끊긴 동안 쓴 글",
      20_000,
    );
    await pane.waitFor((rows) => rows.some((r) => r.includes("[online]")), "back online", 20_000);
    const message = await delivered;
    expect(message).toMatchObject({ room: "dev", from: "재연결" });
    // The queued line gives way to the message itself, and the status bar forgets the queue.
    const rows = await pane.waitForText("<재연결> 끊긴 동안 쓴 글");
    expect(rows.some((r) => r.includes("(queued"))).toBe(false);
    expect(rows[28]).not.toContain("queued");
    // Back in both rooms after the reconnect.
    await pane.waitFor(
      () =>
        second.server.sessions().some((s) => s.rooms.includes("dev") && s.rooms.includes("lobby")),
      "rejoined #dev and #lobby",
    );
  });

  it("shows a refused connection with core's hint and counts down to the next attempt", async () => {
    const port = await freePort();
    const pane = await startTui(cleanup, { port, nick: "early" });
    const rows = await pane.waitForText("CHAT_ERR_CONN_REFUSED");
    await pane.waitForText("reconnecting in");
    const screen = rows.join("\n").replace(/\s+/g, " ");
    expect(screen).toContain("hint: Is the server running, and is the port right?");
    expect(screen).toContain(ERROR_CODES.CHAT_ERR_CONN_REFUSED.message.slice(0, 40));
    // Once a server appears on that port, the next attempt gets in.
    await startServer(cleanup, port);
    await pane.waitForText("[online]", 20_000);
  });

  it("shows a policy refusal with the server's reason and stops retrying", async () => {
    const reason = "Addresses in 127.0.0.0/8 are denied by rule 7";
    const { port } = await startServer(cleanup, 0, {
      policy: {
        decide: () => ({
          accept: false,
          code: "CHAT_ERR_REFUSED_DENIED",
          message: reason,
          rule: "deny 7",
        }),
      },
    });
    const pane = await startTui(cleanup, { port, nick: "denied" });
    const rows = await pane.waitForText("offline: CHAT_ERR_REFUSED_DENIED");
    const screen = rows.join("\n");
    expect(screen).toContain(reason);
    expect(screen).toContain(`hint: ${ERROR_CODES.CHAT_ERR_REFUSED_DENIED.hint}`);
    expect(screen).not.toContain("reconnecting in");
  });

  it("retries a refusal that says 'not now' (server full) and gets in when there is room", async () => {
    let refusals = 1;
    const { port } = await startServer(cleanup, 0, {
      policy: {
        decide: () =>
          refusals-- > 0
            ? {
                accept: false,
                code: "CHAT_ERR_REFUSED_SERVER_FULL",
                message: "The server is full (2 of 2 connections). retry in 1s",
                rule: "max-connections",
              }
            : { accept: true },
      },
    });
    const pane = await startTui(cleanup, { port, nick: "patient" });
    const rows = await pane.waitForText("CHAT_ERR_REFUSED_SERVER_FULL");
    expect(rows.join("\n")).toContain("The server is full (2 of 2 connections)");
    await pane.waitForText("[online]", 20_000);
  });

  it("asks before sending a paste of many lines, then sends them in order", async () => {
    const { port, server } = await startServer(cleanup);
    const pane = await startTui(cleanup, { port, nick: "paster" });
    await pane.waitForText("[online]");
    const texts: string[] = [];
    server.on("message", (m: { text: string }) => texts.push(m.text));
    await pane.paste("첫째 줄\nsecond line\nthird line");
    await pane.waitForText("Send 3 pasted lines? [y/n]");
    expect(texts).toEqual([]);
    await pane.type("y");
    await pane.waitForText("<paster> third line");
    expect(texts).toEqual(["첫째 줄", "second line", "third line"]);
  });

  it("paces a long paste to the server's message rate instead of running into its limit", async () => {
    // 30 lines are more than the burst, so they must be paced. The burst is not tiny: the server
    // refills its bucket when it reads, so a server stalled for longer than burst/rate (a busy CI
    // machine) would see the paced lines arrive together and refuse some of them.
    const { port, server } = await startServer(cleanup, 0, { messageRate: 50, messageBurst: 20 });
    const pane = await startTui(cleanup, { port, nick: "paster" });
    await pane.waitForText("[online]");
    const texts: string[] = [];
    server.on("message", (m: { text: string }) => texts.push(m.text));
    const lines = Array.from({ length: 30 }, (_, i) => `줄 ${i}`);
    await pane.paste(lines.join("\n"));
    await pane.waitForText("Send 30 pasted lines? [y/n]");
    await pane.type("y");
    await pane.waitForText("<paster> 줄 29");
    expect(texts).toEqual(lines);
    expect(server.stats().rateLimited).toBe(0);
    expect((await pane.capture()).join("\n")).not.toContain("CHAT_ERR_RATE_LIMITED");
  });

  it("restores the terminal on /quit", async () => {
    const { port } = await startServer(cleanup);
    const dir = await mkdtemp(join(tmpdir(), "tcpchat-tui-"));
    cleanup.add(() => rm(dir, { recursive: true, force: true }));
    const log = join(dir, "terminal.log");
    const pane = await startTui(cleanup, { port, nick: "leaver", recordTo: log });
    await pane.waitForText("[online]");
    expect(await pane.display("#{alternate_on}")).toBe("1");
    await pane.type("/quit bye");
    await pane.press("Enter");
    // The shell prints the TUI's exit status after everything the TUI wrote. (tmux may cover
    // that line with its "Pane is dead" notice, so read it from the terminal log.)
    await pane.waitFor(
      async () => (await readFile(log, "latin1")).includes("tui exited with status 0"),
      "the TUI to exit with status 0",
    );
    expect(await pane.display("#{alternate_on}")).toBe("0");
    const output = await readFile(log, "latin1");
    // Bracketed paste and mouse reporting are off again, the cursor is visible.
    expect(output.lastIndexOf("\x1b[?2004l")).toBeGreaterThan(output.lastIndexOf("\x1b[?2004h"));
    expect(output.lastIndexOf("\x1b[?1000l")).toBeGreaterThan(output.lastIndexOf("\x1b[?1000h"));
    expect(output.lastIndexOf(SHOW_CURSOR)).toBeGreaterThan(output.lastIndexOf("\x1b[?25l"));
    const rows = await pane.capture();
    expect(rows.some((r) => r.includes("[online]"))).toBe(false);
  });
});
