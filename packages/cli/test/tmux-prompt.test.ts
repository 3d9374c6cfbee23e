import { execFileSync } from "node:child_process";
import { type ChatClient, type ChatServer, createClient, createServer } from "@tcpchat/core";
import { afterEach, describe, expect, it } from "vitest";
import { CLI_PATH, waitUntil } from "./helpers/cli-process.js";

const socketName = `tcpchat-cli-test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
let server: ChatServer | undefined;
let other: ChatClient | undefined;

function tmux(...args: string[]): string {
  return execFileSync("tmux", ["-L", socketName, ...args], { encoding: "utf8" });
}

function pane(): string[] {
  return tmux("capture-pane", "-p").split("\n");
}

function lastLine(): string {
  return (
    pane()
      .filter((line) => line.trim() !== "")
      .at(-1) ?? ""
  );
}

afterEach(async () => {
  try {
    tmux("kill-server");
  } catch {
    // Already gone.
  }
  await other?.quit();
  await server?.close({ graceMs: 0 });
});

describe("connect in a terminal (tmux)", () => {
  it("keeps the prompt and the partial input intact while messages arrive", async () => {
    server = createServer();
    const { port } = await server.listen(0, "127.0.0.1");
    const command = `'${process.execPath}' '${CLI_PATH}' connect 127.0.0.1:${port} --nick typer`;
    tmux("new-session", "-d", "-x", "100", "-y", "24", command);
    await waitUntil(
      () => pane().some((l) => l.includes("you are typer in #lobby")),
      "the client to connect",
    );

    other = createClient({ port, nick: "other" });
    await other.connect();
    await waitUntil(
      () => pane().some((l) => /<-- |--> .*joined|known as other/.test(l)),
      "the join to show",
    );

    tmux("send-keys", "-l", "partial 한글 input");
    await waitUntil(() => lastLine() === "#lobby> partial 한글 input", "the typed text to show");

    // Messages arrive while the user is in the middle of typing.
    await other.send("first message");
    tmux("send-keys", "-l", " and");
    await other.send("둘째 메시지, in Korean");
    tmux("send-keys", "-l", " more");
    await other.send("third message");
    await waitUntil(
      () => pane().some((l) => l.endsWith("<other> third message")),
      "the messages to show",
    );
    await waitUntil(
      () => lastLine() === "#lobby> partial 한글 input and more",
      "the prompt to be redrawn",
    );

    const lines = pane();
    const messages = lines.filter((l) => l.includes("<other>"));
    expect(messages).toHaveLength(3);
    for (const line of messages)
      expect(line).toMatch(
        /^\d\d:\d\d:\d\d #lobby <other> (first message|둘째 메시지, in Korean|third message)$/,
      );
    // The prompt appears once: no stale copies were left between the messages.
    expect(lines.filter((l) => l.startsWith("#lobby>"))).toEqual([
      "#lobby> partial 한글 input and more",
    ]);

    const received = new Promise<string>((resolve) => {
      other!.on("frame:message", (m) => {
        if (m.from === "typer") resolve(m.text);
      });
    });
    tmux("send-keys", "Enter");
    expect(await received).toBe("partial 한글 input and more");
    await waitUntil(() => lastLine() === "#lobby>", "an empty prompt after Enter");
    // The typed copy is erased: the line shows once, as the server's echo with time and nick.
    await waitUntil(
      () =>
        pane().some((l) => /^\d\d:\d\d:\d\d #lobby <typer> partial 한글 input and more$/.test(l)),
      "the echo",
    );
    expect(pane().filter((l) => l.includes("partial 한글 input and more"))).toHaveLength(1);
  });

  it("redraws a prompt whose input wraps onto a second row, with no blank rows left behind", async () => {
    server = createServer();
    const { port } = await server.listen(0, "127.0.0.1");
    const command = `'${process.execPath}' '${CLI_PATH}' connect 127.0.0.1:${port} --nick narrow --no-timestamps`;
    tmux("new-session", "-d", "-x", "40", "-y", "30", command);
    await waitUntil(
      () => pane().some((l) => l.includes("you are narrow")),
      "the client to connect",
    );
    other = createClient({ port, nick: "other" });
    await other.connect();
    await waitUntil(
      () => pane().some((l) => l.includes("other joined")),
      "the other client's arrival to show",
    );

    const typed = "a long input that wraps: 한글 입력도 섞여서 두 줄이 됩니다";
    tmux("send-keys", "-l", typed);
    tmux("send-keys", "Left", "Left");
    await waitUntil(
      () => pane().join("").replaceAll(" ", "").includes(`#lobby>${typed}`.replaceAll(" ", "")),
      "the typed text",
    );
    await other.send("one");
    await other.send("two");
    await waitUntil(() => pane().some((l) => l === "#lobby <other> two"), "the messages");
    tmux("send-keys", "-l", "!");

    const expected = `#lobby> ${typed.slice(0, -2)}!${typed.slice(-2)}`;
    await waitUntil(() => {
      const rows = pane();
      const last = rows.findLastIndex((l) => l.trim() !== "");
      return rows
        .slice(0, last + 1)
        .join("")
        .replaceAll(" ", "")
        .endsWith(expected.replaceAll(" ", ""));
    }, "the edited input to be redrawn");
    const rows = pane();
    const last = rows.findLastIndex((l) => l.trim() !== "");
    // Every row up to the prompt holds something: no blank row was left where a prompt was.
    expect(rows.slice(0, last + 1).filter((l) => l.trim() === "")).toEqual([]);
    expect(rows.filter((l) => l.startsWith("#lobby>"))).toHaveLength(1);

    // Enter erases both rows of the typed copy; the text shows once, as the server's echo.
    tmux("send-keys", "Enter");
    await waitUntil(
      () => pane().some((l) => l.startsWith("#lobby <narrow> a long input")),
      "the echo",
    );
    await waitUntil(() => lastLine() === "#lobby>", "an empty prompt");
    const screen = pane().join("").replaceAll(" ", "");
    expect(screen.split("한글입력도섞여서").length - 1).toBe(1);
  });
});
