import { describe, expect, it } from "vitest";
import { chooseGenerator, GeneratorUnavailableError } from "./choose-generator.js";

describe("chooseGenerator", () => {
  it("runs native by default when it is built and speaks the transports", () => {
    expect(
      chooseGenerator({ generator: undefined, transports: ["tcp", "ws"] }, "/x/loadgen"),
    ).toEqual({
      kind: "native",
    });
  });

  it("falls back to js with a one-line reason when native cannot run", () => {
    expect(
      chooseGenerator({ generator: undefined, transports: ["tcp", "tls"] }, "/x/loadgen"),
    ).toEqual({
      kind: "js",
      notice: "load generator: js, because the native load generator does not speak tls",
    });
    expect(chooseGenerator({ generator: undefined, transports: ["tcp"] }, null).notice).toBe(
      "load generator: js, because the native load generator is not built (no C compiler at build time)",
    );
  });

  it("takes --generator as given, and says why native cannot run when asked for", () => {
    expect(chooseGenerator({ generator: "js", transports: ["tcp"] }, "/x/loadgen")).toEqual({
      kind: "js",
    });
    expect(() =>
      chooseGenerator({ generator: "native", transports: ["tcp", "tls"] }, "/x/loadgen"),
    ).toThrow(
      new GeneratorUnavailableError(
        "--generator native: the native load generator does not speak tls (use --generator js)",
      ),
    );
  });
});
