import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ChatServer, createServer } from "@tcpchat/core";
import { afterEach, describe, expect, it } from "vitest";

const guide = readFileSync(new URL("../guide/getting-started.md", import.meta.url), "utf8");
const javaSource = guide.match(/```java\n([\s\S]*?)```/)?.[1];
const haveJava = spawnSync("java", ["-version"], { stdio: "ignore" }).status === 0;
if (!haveJava) {
  console.warn("\n!!! docs: no `java` on PATH, the Java snippet of getting-started is NOT run\n");
}

/** Runs a program to its end, feeding stdin; fails if it outlives the deadline. */
function run(
  command: string,
  args: string[],
  options: { cwd: string; stdin: string; deadlineMs: number },
) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((done, fail) => {
    const child = spawn(command, args, { cwd: options.cwd, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      fail(
        new Error(`${command} still running after ${options.deadlineMs} ms:\n${stdout}\n${stderr}`),
      );
    }, options.deadlineMs);
    child.on("error", fail);
    child.on("close", (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr });
    });
    child.stdin.end(options.stdin);
  });
}

describe.skipIf(!haveJava)("the Java client in getting started", () => {
  let server: ChatServer | undefined;
  let workDir: string | undefined;

  afterEach(async () => {
    await server?.close({ graceMs: 0 });
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  it("joins, renames itself in Hangul, chats and quits against a real server", async () => {
    expect(javaSource, "no ```java block in guide/getting-started.md").toBeDefined();
    server = createServer();
    const { port } = await server.listen(0, "127.0.0.1");
    const heard: string[] = [];
    server.on("message", (message: { from: string; text: string }) =>
      heard.push(`${message.from}: ${message.text}`),
    );
    workDir = mkdtempSync(join(tmpdir(), "tcpchat-java-"));
    writeFileSync(join(workDir, "ChatClient.java"), javaSource!);

    const result = await run("java", ["ChatClient.java", "127.0.0.1", String(port)], {
      cwd: workDir,
      stdin: "/nick 민수\n안녕하세요, hello from Java\n/quit bye\n",
      deadlineMs: 60_000,
    });

    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const lines = result.stdout.split("\n");
    expect(lines[0]).toMatch(/^\*\*\* tcpchat\/1 .*: welcome, you are guest-\S+ in #lobby\./);
    expect(lines).toContain("#lobby <민수> 안녕하세요, hello from Java");
    expect(lines).toContain("*** disconnected");
    expect(heard).toEqual(["민수: 안녕하세요, hello from Java"]);
  });
});
