import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { stringWidth } from "../src/state/width.js";
import {
  Cleanup,
  nextClientEvent,
  requireBuild,
  startClient,
  startServer,
  startTui,
} from "./harness.js";

const cleanup = new Cleanup();
beforeAll(requireBuild);
afterEach(() => cleanup.run());

const PROMPT = "[#lobby] ";

/** Display column where `needle` starts in `row` (wide characters count two). */
function columnOf(row: string, needle: string): number {
  const index = row.indexOf(needle);
  return index < 0 ? -1 : stringWidth(row.slice(0, index));
}

describe("TUI in tmux against a real server", () => {
  it("sends typed Korean text that another client receives, with the cursor in the right column", async () => {
    const { port } = await startServer(cleanup);
    const pane = await startTui(cleanup, { port, nick: "민지" });
    await pane.waitForText("[online]");
    const bob = await startClient(cleanup, port, "bob");
    await pane.waitFor((rows) => rows.some((r) => r.includes("│ bob")), "bob in the nick list");

    await pane.type("안녕하세요 tcpchat");
    const rows = await pane.waitForText(`${PROMPT}안녕하세요 tcpchat`);
    expect(rows.at(-1)).toBe(`${PROMPT}안녕하세요 tcpchat`);
    // Five syllables take ten columns: the cursor is after them, not five columns in.
    expect(await pane.cursor()).toEqual({ x: stringWidth(PROMPT) + 10 + 8, y: 29 });
    await pane.press("Home", "Right", "Right");
    await pane.waitForCursor({ x: stringWidth(PROMPT) + 4, y: 29 });

    const received = nextClientEvent(bob, "frame:message", (m) => m.from === "민지");
    await pane.press("Enter");
    expect((await received).text).toBe("안녕하세요 tcpchat");

    const screen = await pane.waitForText("<민지> 안녕하세요 tcpchat");
    // The nick list's border stays in one column on every pane row, Hangul rows included.
    for (const row of screen.slice(1, 28)) expect(columnOf(row, "│")).toBe(80);
    expect(screen.at(-1)).toBe(PROMPT.trimEnd());
  });

  it("keeps the half-typed input line and its cursor while messages arrive", async () => {
    const { port } = await startServer(cleanup);
    const pane = await startTui(cleanup, { port, nick: "typist" });
    await pane.waitForText("[online]");
    const bob = await startClient(cleanup, port, "bob");
    await pane.type("half 입력 중");
    await pane.press("Left", "Left");
    await pane.waitForText(`${PROMPT}half 입력 중`);
    const before = { x: stringWidth(`${PROMPT}half 입력`), y: 29 };
    await pane.waitForCursor(before);

    for (let i = 1; i <= 3; i++) await bob.send(`incoming ${i} 😀 ☕⭐ 한글`);
    const rows = await pane.waitForText("<bob> incoming 3 😀 ☕⭐ 한글");
    expect(rows.at(-1)).toBe(`${PROMPT}half 입력 중`);
    expect(await pane.cursor()).toEqual(before);

    // Emoji take two columns: the nick list's border stays put on their rows too.
    for (const row of rows.slice(1, 28)) expect(columnOf(row, "│")).toBe(80);

    await pane.type("X😀");
    await pane.waitForText(`${PROMPT}half 입력X😀 중`);
    await pane.waitForCursor({ x: before.x + 1 + 2, y: 29 });
  });

  it("puts direct messages in their own tab with an unread count, and answers there", async () => {
    const { port } = await startServer(cleanup);
    const pane = await startTui(cleanup, { port, nick: "지은" });
    await pane.waitForText("[online]");
    const bob = await startClient(cleanup, port, "bob");
    await bob.dm("지은", "psst, 비밀 얘기");
    const rows = await pane.waitForText("3:@bob(1)");
    expect(rows.some((r) => r.includes("psst"))).toBe(false);
    await pane.press("M-3");
    await pane.waitForText("<bob> psst, 비밀 얘기");
    await pane.waitFor((s) => /3:@bob(?!\()/.test(s[0] ?? ""), "the count cleared");
    const reply = nextClientEvent(bob, "frame:dm", (m) => m.from === "지은");
    await pane.type("알겠어요");
    await pane.press("Enter");
    expect((await reply).text).toBe("알겠어요");
    await pane.waitForText("<지은> 알겠어요");
  });

  it("lays itself out again on resize, down to 80x24 and below, without breaking rows", async () => {
    const { port, server } = await startServer(cleanup);
    const pane = await startTui(cleanup, { port, nick: "resizer" });
    await pane.waitForText("[online]");
    server.say("가나다라마바사아자차카타파하 ".repeat(8));
    await pane.waitForText("<operator>");
    for (const [columns, rows] of [
      [80, 24],
      [120, 40],
      [60, 20],
    ] as const) {
      await pane.resize(columns, rows);
      // tmux keeps the bottom rows on a resize, so wait for a redraw that fits the new size:
      // tab bar on top, status bar and prompt at the bottom, nick list only when it fits.
      const screen = await pane.waitFor(
        (s) =>
          s.length === rows &&
          (s[0] ?? "").startsWith(" 1:status") &&
          (s[rows - 2] ?? "").includes("[online]") &&
          s[rows - 1] === PROMPT.trimEnd() &&
          s.slice(1, rows - 2).every((r) => r.includes("│") === columns >= 70),
        `the layout for ${columns}x${rows}`,
      );
      for (const row of screen) expect(stringWidth(row)).toBeLessThanOrEqual(columns);
      const nickColumn = columns - Math.min(20, Math.floor(columns / 5));
      if (columns >= 70) {
        for (const row of screen.slice(1, rows - 2)) expect(columnOf(row, "│")).toBe(nickColumn);
      }
    }
  });

  it("scrolls back with PageUp and the mouse wheel through thousands of lines", async () => {
    const { port, server } = await startServer(cleanup);
    const pane = await startTui(cleanup, { port, nick: "reader" });
    await pane.waitForText("[online]");
    for (let i = 0; i < 3000; i++) server.say(`line ${i}`);
    await pane.waitFor(
      (rows) => rows.some((r) => r.endsWith("line 2999") || r.includes("line 2999 ")),
      "last line",
    );
    await pane.press("PageUp");
    const back = await pane.waitForText("scrolled back");
    expect(back.some((r) => r.includes("line 2999"))).toBe(false);
    await pane.press("PageDown");
    await pane.waitFor(
      (rows) =>
        rows.some((r) => r.includes("line 2999")) && !rows.some((r) => r.includes("scrolled back")),
      "back at the bottom",
    );
    // The mouse wheel over the message pane scrolls three lines a notch, also when several
    // notches arrive in one read.
    await pane.wheel("up", 10, 10, 2);
    await pane.waitForText("scrolled back 6 lines");
    await pane.wheel("down", 10, 10);
    await pane.waitForText("scrolled back 3 lines");
  });
});
