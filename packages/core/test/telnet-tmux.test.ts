/**
 * Debian's telnet (inetutils) in a real terminal (tmux), typing Korean into a real server.
 * Needs the `telnet` and `tmux` Debian packages (CI installs them in .ci/run).
 */
import { execFile } from "node:child_process";
import { rm } from "node:fs/promises";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { LineClient, startServer } from "./helpers.js";

const run = promisify(execFile);
const socket = `tcpchat-telnet-test-${process.pid}`;
const UTF8 = { LANG: "C.UTF-8", LC_ALL: "C.UTF-8" };

async function tmux(...args: string[]): Promise<string> {
  const { stdout } = await run("tmux", ["-u", "-L", socket, ...args], {
    env: { ...process.env, ...UTF8 },
  });
  return stdout;
}

/** The pane's rows, trailing blanks trimmed. */
async function screen(): Promise<string[]> {
  return (await tmux("capture-pane", "-p", "-t", "main")).replace(/\n+$/, "").split("\n");
}

/** Polls the screen until `check` holds; fails with the last screen after the deadline. */
async function waitForScreen(check: (rows: string[]) => boolean, what: string): Promise<string[]> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const rows = await screen();
    if (check(rows)) return rows;
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}; screen was:\n${rows.join("\n")}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const shows = (text: string) => (rows: string[]) => rows.some((row) => row.includes(text));

async function typeLine(text: string): Promise<void> {
  await tmux("send-keys", "-t", "main", "-l", text);
  await tmux("send-keys", "-t", "main", "Enter");
}

/** Starts `telnet 127.0.0.1 PORT` in a 120x40 pane and waits for the server's greeting. */
async function startTelnet(port: number): Promise<void> {
  // 120 columns: every line of these tests fits in one row, so a row that starts with a
  // line's text shows that the line began at column 0 (no staircase).
  await tmux("-f", "/dev/null", "new-session", "-d", "-s", "main", "-x", "120", "-y", "40");
  await tmux("set-option", "-t", "main", "remain-on-exit", "on");
  const env = Object.entries({ ...UTF8, TERM: "xterm-256color" }).map(([k, v]) => `${k}=${v}`);
  await tmux("respawn-pane", "-k", "-t", "main", `env ${env.join(" ")} telnet 127.0.0.1 ${port}`);
  await waitForScreen(shows("/help lists commands."), "the greeting");
}

afterEach(async () => {
  const path = await tmux("display-message", "-p", "#{socket_path}").catch(() => "");
  await tmux("kill-server").catch(() => {});
  if (path.trim() !== "") await rm(path.trim(), { force: true });
});

describe("telnet in tmux", () => {
  it("a telnet user typing Hangul is understood, told once, and never goes deaf", async () => {
    await using s = await startServer();
    const listener = await LineClient.greeted(s.port);
    // Announced before telnet starts, so its arrival cannot land in the middle of a typed line.
    listener.send("/nick listener");
    await listener.waitFor(/--> listener joined$/);
    listener.nick = "listener";
    try {
      await startTelnet(s.port);
      await typeLine("/nick telnet");
      await listener.waitFor(/ is now known as telnet$|--> telnet joined$/);

      // In 7-bit mode telnet sends 0x9a of 요 as IAC SUSP and 0x9c of 한 as IAC BRK, and eats
      // 0x85 of 녕, 테 and 입 (its "toggle echo" key ^E with the high bit cleared).
      const text = "안녕하세요 한국어 테스트 입니다";
      await typeLine(text);
      const told = await waitForScreen(
        shows("!!! CHAT_ERR_TELNET_MANGLED_LINE"),
        "the notice about the mangled line",
      );
      expect(told.some((row) => row.includes("CHAT_ERR_INVALID_UTF8"))).toBe(false);

      // The server has switched telnet to 8-bit input: the same line now arrives whole, with
      // 힝 (0x9d, telnet's escape key ^] with the high bit cleared) at the end.
      const again = `${text} 힝`;
      await typeLine(again);
      expect(await listener.waitFor(/^#lobby <telnet> /)).toBe(`#lobby <telnet> ${again}`);
      // telnet shows its own line (it still echoes locally) and the room's copy of it.
      await waitForScreen(
        (rows) => rows.includes(again) && rows.includes(`#lobby <telnet> ${again}`),
        "the local echo and the room's copy, each at column 0",
      );

      // And it keeps hearing the room afterwards.
      listener.send("잘 들리나요? still hearing me?");
      await waitForScreen(
        (rows) => rows.includes(`#lobby <${listener.nick}> 잘 들리나요? still hearing me?`),
        "a later message from another client",
      );
      expect(await tmux("display-message", "-p", "-t", "main", "#{pane_dead}")).toBe("0\n");
    } finally {
      listener.close();
    }
  });

  it("when telnet loses bytes without a command, the hint's telnet fix works", async () => {
    await using s = await startServer();
    const listener = await LineClient.greeted(s.port);
    // Announced before telnet starts, so its arrival cannot land in the middle of a typed line.
    listener.send("/nick listener");
    await listener.waitFor(/--> listener joined$/);
    listener.nick = "listener";
    try {
      await startTelnet(s.port);
      // 텔 is ED 85 94: telnet eats 0x85 (^E, toggle echo) and sends no command at all, so the
      // server cannot tell telnet from any client in the wrong encoding.
      await typeLine("/nick 텔넷");
      await waitForScreen(
        shows("toggle outbinary"),
        "the invalid UTF-8 error with its telnet hint",
      );
      expect((await screen()).some((row) => row.startsWith("!!! CHAT_ERR_INVALID_UTF8: "))).toBe(
        true,
      );

      await tmux("send-keys", "-t", "main", "C-]");
      await waitForScreen(shows("telnet>"), "telnet's command prompt");
      await typeLine("toggle outbinary");
      await waitForScreen(shows("Negotiating binary mode on output."), "telnet to switch");

      await typeLine("/nick 텔넷");
      // Announced under its nick, or renamed, depending on whether the room heard it arrive yet.
      await listener.waitFor(/ is now known as 텔넷$|--> 텔넷 joined$/);
      // From now on Hangul arrives whole; telnet echoes it and shows the room's copy at column 0.
      await typeLine("입니다 테스트");
      expect(await listener.waitFor(/^#lobby <텔넷> /)).toBe("#lobby <텔넷> 입니다 테스트");
      await waitForScreen(
        (rows) => rows.includes("입니다 테스트") && rows.includes("#lobby <텔넷> 입니다 테스트"),
        "the local echo and the room's copy, each at column 0",
      );
    } finally {
      listener.close();
    }
  });
});
