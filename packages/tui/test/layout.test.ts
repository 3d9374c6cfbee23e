import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { stringWidth } from "../src/state/width.js";
import { Cleanup, requireBuild, startClient, startServer, startTui } from "./harness.js";

// Display columns are measured with state/width.ts, which test/width-tmux.test.ts checks
// against the columns tmux draws.
const cleanup = new Cleanup();
beforeAll(requireBuild);
afterEach(() => cleanup.run());

/** Display column where `needle` starts in `row` (wide characters count two). */
function columnOf(row: string, needle: string): number {
  const index = row.indexOf(needle);
  return index < 0 ? -1 : stringWidth(row.slice(0, index));
}

describe("TUI layout in tmux (WeeChat/irssi anchors)", () => {
  it('shows "-- more --" with the number of lines below while scrolled back', async () => {
    const { port, server } = await startServer(cleanup);
    // 16 rows: the message pane has 13 (rows 1 to 13), so PageUp moves 12 lines.
    const pane = await startTui(cleanup, { port, nick: "reader", rows: 16 });
    await pane.waitForText("[online]");
    for (let i = 0; i < 40; i++) server.say(`line ${i}`);
    await pane.waitFor((rows) => rows.some((r) => r.includes("line 39")), "the last line");
    expect((await pane.capture()).join("\n")).not.toContain("-- more --");

    await pane.press("PageUp");
    const back = await pane.waitForText("-- more --");
    // The marker is the pane's bottom row, right above the status bar.
    expect(back[13]).toMatch(/^-- more -- 12 lines below \(PageDown, Ctrl\+End: back to the end\)/);
    expect(back.some((r) => r.includes("line 39"))).toBe(false);
    expect(back[12], back.join("\n")).toContain("line 27");

    // New lines arriving meanwhile keep the view still and raise the count.
    server.say("line 40");
    await pane.waitForText("-- more -- 13 lines below");

    await pane.press("PageDown", "PageDown");
    const bottom = await pane.waitFor(
      (rows) => rows.some((r) => r.includes("line 40")) && !rows.some((r) => r.includes("-- more")),
      "back at the end, marker gone",
    );
    expect(bottom[13]).toContain("line 40");
  });

  it("marks tabs that overflow the tab bar with counts at its edges", async () => {
    const { port } = await startServer(cleanup);
    const pane = await startTui(cleanup, { port, nick: "joiner", columns: 70 });
    await pane.waitForText("[online]");
    const rooms = Array.from({ length: 10 }, (_, i) => `방${i + 1}`);
    for (const room of rooms) {
      await pane.type(`/join ${room}`);
      await pane.press("Enter");
      await pane.waitForText(`[#${room}]`);
    }
    // The last room joined is shown: its tab is visible, the first ones are counted at the left.
    const screen = await pane.waitFor((rows) => /^<\+\d+ /.test(rows[0] ?? ""), "a left count");
    const bar = screen[0]!;
    expect(bar).toMatch(/ 12:#방10$/);
    expect(stringWidth(bar)).toBeLessThanOrEqual(70);
    const hiddenLeft = Number(/^<\+(\d+)/.exec(bar)![1]);
    expect(bar).toContain(` ${hiddenLeft + 1}:`);
    expect(bar).not.toContain(` ${hiddenLeft}:`);

    // Back to the first tab: now the ones after it are counted at the right edge.
    await pane.press("M-1");
    const first = await pane.waitFor((rows) => /\+\d+>$/.test(rows[0] ?? ""), "a right count");
    expect(first[0]).toMatch(/^ 1:status /);
    const hiddenRight = Number(/\+(\d+)>$/.exec(first[0]!)![1]);
    expect(first[0]).toContain(` ${12 - hiddenRight}:`);
    expect(first[0]).not.toContain(` ${12 - hiddenRight + 1}:`);
    expect(columnOf(first[0]!, `+${hiddenRight}>`) + stringWidth(`+${hiddenRight}>`)).toBe(70);
  });

  it("keeps columns aligned with Hangul nicks: the nick list border and wrapped text", async () => {
    const { port } = await startServer(cleanup);
    const pane = await startTui(cleanup, { port, nick: "김민지", columns: 80, rows: 20 });
    await pane.waitForText("[online]");
    const others = ["이서연", "bob", "박지훈_dev"];
    const clients = [];
    for (const nick of others) clients.push(await startClient(cleanup, port, nick));
    await pane.waitFor((rows) => rows.some((r) => r.includes("│ 박지훈_dev")), "the nick list");
    const long = "가나다라마바사 ".repeat(12).trim();
    await clients[0]!.send(long);
    await clients[1]!.send(`short 한글 line`);
    const screen = await pane.waitForText("<bob> short 한글 line");

    // The nick list's border is in one column on every pane row (64 = 80 - 16).
    for (const row of screen.slice(1, 17)) expect(columnOf(row, "│"), row).toBe(64);
    // Nicks in the list start in one column too.
    for (const nick of ["김민지", "이서연", "bob", "박지훈_dev"]) {
      const row = screen.find((r) => r.includes(`│ ${nick}`))!;
      expect(columnOf(row, `│ ${nick}`)).toBe(64);
    }
    // The wrapped message continues under its first row's text, not under the nick.
    const start = screen.findIndex((r) => r.includes("<이서연> "));
    const textColumn = columnOf(screen[start]!, "가나다");
    expect(textColumn).toBe(stringWidth("00:00 <이서연> "));
    const continuation = screen[start + 1]!;
    expect(continuation.length - continuation.trimStart().length).toBe(textColumn);
  });
});
