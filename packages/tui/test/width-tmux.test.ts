import { afterEach, describe, expect, it } from "vitest";
import { stringWidth } from "../src/state/width.js";
import { Cleanup } from "./harness.js";
import { TmuxPane } from "./tmux.js";

const cleanup = new Cleanup();
afterEach(() => cleanup.run());

// Prints one sample per key press at the start of a cleared row, so the cursor column after
// it is the width tmux gave it.
const PRINTER = `
const samples = JSON.parse(process.argv[1]);
let i = 0;
const show = () => process.stdout.write("\\r\\x1b[2K" + samples[i] + "\\x1b[s\\r\\n#" + i + "\\x1b[u");
process.stdin.setRawMode(true);
process.stdin.on("data", () => (++i < samples.length ? show() : process.exit(0)));
show();
`;

/** The column tmux leaves the cursor at after drawing each sample. */
async function tmuxWidths(samples: readonly string[]): Promise<number[]> {
  const pane = await TmuxPane.start({
    command: [process.execPath, "-e", PRINTER, JSON.stringify(samples)],
    columns: 40,
    rows: 4,
  });
  cleanup.add(() => pane.kill());
  const widths: number[] = [];
  for (let i = 0; i < samples.length; i++) {
    await pane.waitFor((rows) => rows[1] === `#${i}`, `sample ${i} drawn`);
    widths.push((await pane.cursor()).x);
    await pane.press("x");
  }
  return widths;
}

describe("column widths agree with what tmux draws", () => {
  it("Hangul, CJK, kana, fullwidth forms, emoji, symbols, combining marks and jamo", async () => {
    const samples = [
      "김민지",
      "漢字かなカナ",
      "ＡＢ￦",
      "\u3000",
      "😀👍🏽🇰🇷",
      "☕⭐✅⚡⌚",
      "❤️❤→①·…☺✈★",
      "e\u0301a\u0308",
      "\u1100\u1161\u11a8",
      "ｱｲ",
      "a\u200bb",
      "민지 says 안녕, 👋",
    ];
    const drawn = await tmuxWidths(samples);
    expect(samples.map((s) => stringWidth(s))).toEqual(drawn);
  });

  it("differs on emoji joined by zero-width joiners: tmux 3.3a draws them in the first one's cells", async () => {
    // width.ts counts each emoji, as blessed lays the row out (see graphemeWidth).
    const [family] = await tmuxWidths(["👨\u200d👩\u200d👧"]);
    expect(family).toBe(2);
    expect(stringWidth("👨\u200d👩\u200d👧")).toBe(6);
  });
});
