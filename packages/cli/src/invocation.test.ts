import { describe, expect, it } from "vitest";
import { runCommand, tuiRunCommand } from "./invocation.js";

describe("runCommand", () => {
  it("names the start script when the workspace launched the program", () => {
    expect(runCommand({ TCPCHAT_RUN_AS: "pnpm --filter cli start" }, "/r/dist/main.js", "/r")).toBe(
      "pnpm --filter cli start",
    );
  });

  it("names the installed command when it runs as tcpchat", () => {
    expect(runCommand({}, "/usr/local/bin/tcpchat", "/home/a")).toBe("tcpchat");
  });

  it("names node and the script otherwise, relative when it is below the working directory", () => {
    expect(runCommand({}, "/r/packages/cli/dist/main.js", "/r")).toBe(
      "node packages/cli/dist/main.js",
    );
    expect(runCommand({}, "/r/packages/cli/dist/main.js", "/elsewhere")).toBe(
      "node /r/packages/cli/dist/main.js",
    );
  });

  it("pairs the TUI's command with the CLI's", () => {
    expect(tuiRunCommand("tcpchat")).toBe("tcpchat-tui");
    expect(tuiRunCommand("pnpm --filter cli start")).toBe("pnpm --filter tui start");
  });
});
