import { describe, expect, it } from "vitest";
import { complete } from "./completion.js";

const source = {
  commands: ["join", "part", "quit", "query"],
  nicks: ["alice", "Alfred", "민수", "me"],
  ownNick: "me",
};

describe("completion", () => {
  it("completes a nick at the line start with a colon and cycles on repeated Tab", () => {
    const first = complete({ text: "al", cursor: 2 }, undefined, source)!;
    expect(first.input).toEqual({ text: "alice: ", cursor: 7 });
    const second = complete(first.input, first.completion, source)!;
    expect(second.input).toEqual({ text: "Alfred: ", cursor: 8 });
    const third = complete(second.input, second.completion, source)!;
    expect(third.input.text).toBe("alice: ");
  });

  it("completes Hangul nicks in the middle of a line, keeping the text after the cursor", () => {
    const result = complete({ text: "hi 민 there", cursor: 4 }, undefined, source)!;
    expect(result.input).toEqual({ text: "hi 민수 there", cursor: 5 });
  });

  it("completes /commands at the line start", () => {
    const result = complete({ text: "/q", cursor: 2 }, undefined, source)!;
    expect(result.input.text).toBe("/quit ");
    expect(complete(result.input, result.completion, source)!.input.text).toBe("/query ");
  });

  it("never offers the user's own nick and returns nothing when nothing matches", () => {
    expect(complete({ text: "m", cursor: 1 }, undefined, source)).toBeUndefined();
    expect(complete({ text: "zz", cursor: 2 }, undefined, source)).toBeUndefined();
    expect(complete({ text: "", cursor: 0 }, undefined, source)).toBeUndefined();
  });
});
