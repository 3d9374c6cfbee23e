import { createAcceptPolicy, openDataDirectory } from "@tcpchat/core";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { Cleanup, requireBuild, startClient, startServer, startTui } from "./harness.js";

const cleanup = new Cleanup();
beforeAll(requireBuild);
afterEach(() => cleanup.run());

describe("TUI operator commands in tmux", () => {
  it("an operator account sets a room's topic and bans a nick from the TUI; a bad /ban shows core's usage", async () => {
    const store = openDataDirectory(":memory:");
    cleanup.add(() => store.close());
    // Bans need an accept policy (without one the server answers CHAT_ERR_BANS_OFF).
    const { server, port } = await startServer(cleanup, 0, {
      store,
      policy: createAcceptPolicy({}),
    });
    // Connected before the ban, which covers every 127.0.0.1 connection after it.
    const mallory = await startClient(cleanup, port, "mallory");
    const pane = await startTui(cleanup, { port, nick: "alice", columns: 120, rows: 30 });
    await pane.waitForText("[online]");
    await pane.type("/register correct-horse\r");
    await pane.waitForText("Registered alice");
    expect(store.setOperator("alice", true)).toBe(true);
    // Rights are read at login.
    await pane.type("/login alice correct-horse\r");
    await pane.waitForText("Logged in as alice");

    await pane.type("/topic Welcome to the lobby\r");
    await pane.waitForText("Welcome to the lobby");
    expect(server.topic("lobby")?.text).toBe("Welcome to the lobby");

    await pane.type("/ban\r");
    await pane.waitForText("CHAT_ERR_BAD_ARGUMENT");

    await pane.type("/ban mallory 1h spamming\r");
    await pane.waitForText("(mallory) for 1h; disconnected 1");
    await expect
      .poll(() => server.sessions().some((s) => s.nick === "mallory"), { timeout: 5000 })
      .toBe(false);
    await expect.poll(() => mallory.state, { timeout: 5000 }).not.toBe("online");
  });
});
