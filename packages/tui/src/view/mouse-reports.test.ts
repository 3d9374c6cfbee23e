import { describe, expect, it } from "vitest";
import { splitMouseReports } from "./mouse-reports.js";

describe("splitMouseReports", () => {
  it("leaves plain keys in one piece", () => {
    expect(splitMouseReports("abc\r")).toEqual(["abc\r"]);
  });

  it("puts every SGR and X10 report in its own piece", () => {
    const sgr = "\x1b[<64;11;11M";
    const x10 = "\x1b[M`**";
    expect(splitMouseReports(`${sgr}${sgr}a${x10}b`)).toEqual([sgr, sgr, "a", x10, "b"]);
  });
});
