/**
 * The TUI (in tmux) against a hostile server: malformed frames, a frame named like the client's
 * `close` event, a welcome without limits, a 100 MB line and an endless stream. It must stay
 * up and online, log each problem with its code in the status tab, and keep memory bounded.
 */
import { readFileSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { Cleanup, requireBuild, startTui } from "./harness.js";

const cleanup = new Cleanup();
beforeAll(requireBuild);
afterEach(() => cleanup.run());

const MiB = 1024 * 1024;

function message(text: string): string {
  return `${JSON.stringify({ type: "message", id: text, ts: Date.now(), room: "lobby", from: "eve", text })}\n`;
}

/** Greets like tcpchat, sends a welcome without limits after the hello, then runs `script`. */
async function hostileServer(script: (socket: Socket) => void): Promise<number> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => {});
    socket.write("*** tcpchat/1 evil: welcome, you are mallory in #lobby. /help lists commands.\n");
    let greeted = false;
    socket.on("data", (chunk: Buffer) => {
      // Ack every request (the TUI pings for its lag figure and asks who is in the room).
      for (const [, ref] of chunk.toString("utf8").matchAll(/"ref":"([^"]+)"/g)) {
        socket.write(`${JSON.stringify({ type: "ack", ref, ts: Date.now() })}\n`);
      }
      if (greeted) return;
      greeted = true;
      socket.write(
        `${JSON.stringify({ type: "welcome", proto: 1, server: "evil", session: "s", nick: "mallory", room: "lobby" })}\n`,
      );
      script(socket);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  cleanup.add(
    () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(resolve);
      }),
  );
  return (server.address() as { port: number }).port;
}

/** Resident memory of the TUI: the node process the pane's shell runs. */
function tuiResidentBytes(shellPid: number): number {
  const children = readFileSync(`/proc/${shellPid}/task/${shellPid}/children`, "utf8").trim();
  const pid = Number(children.split(/\s+/)[0]);
  const kib = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return Number(kib![1]) * 1024;
}

describe("TUI in tmux against a hostile server", () => {
  it("stays online through malformed frames and a {type: close}, logging each with its code", async () => {
    const port = await hostileServer((socket) => {
      socket.write('{"type":"presence","room":"lobby","count":2}\n');
      socket.write('{"type":"rooms","rooms":null}\n');
      socket.write('{"type":"close"}\n');
      socket.write("not json\n");
      socket.write(message("still here"));
    });
    const pane = await startTui(cleanup, { port, nick: "mallory" });
    const rows = await pane.waitForText("<eve> still here");
    expect(rows.join("\n")).toContain("[online]");
    expect(rows.join("\n")).not.toMatch(/crashed|offline|exited/);
    await pane.press("M-1");
    const status = (await pane.waitForText("CHAT_ERR_BAD_SERVER_FRAME")).join("\n");
    expect(status).toMatch(/`limits` is missing/);
    expect(status).toMatch(/`nicks` is missing/);
    expect(status).toMatch(/`rooms` must be an array/);
    expect(status).toMatch(/unknown type "close"/);
    expect(status).toMatch(/not JSON/);
  });

  it("reports a 100 MB line, survives an endless stream, and keeps its memory bounded", async () => {
    let sent = 0;
    const port = await hostileServer((socket) => {
      socket.write('{"type":"notice","text":"');
      const chunk = Buffer.alloc(MiB, 0x61);
      const pump = () => {
        while (sent < 100 * MiB) {
          sent += chunk.length;
          if (!socket.write(chunk)) return void socket.once("drain", pump);
        }
        if (sent === 100 * MiB) {
          sent += 1;
          socket.write('"}\n');
          socket.write(message("after the long line"));
          // Then an endless stream with no newline, bounded at 100 MiB more.
          const endless = () => {
            while (sent < 200 * MiB) {
              sent += chunk.length;
              if (!socket.write(chunk)) return void socket.once("drain", endless);
            }
          };
          endless();
        }
      };
      pump();
    });
    const pane = await startTui(cleanup, { port, nick: "mallory" });
    const shellPid = Number(await pane.display("#{pane_pid}"));
    let peak = 0;
    await pane.waitFor(
      (rows) => {
        peak = Math.max(peak, tuiResidentBytes(shellPid));
        return rows.some((r) => r.includes("<eve> after the long line")) && sent >= 200 * MiB;
      },
      "the message after the long line, and the endless stream sent",
      60_000,
    );
    peak = Math.max(peak, tuiResidentBytes(shellPid));
    expect(peak).toBeLessThan(250 * MiB);
    await pane.press("M-1");
    const status = (await pane.waitForText("CHAT_ERR_LINE_TOO_LONG")).join("\n");
    // At least one report per over-long line; the acks this server writes into the middle of
    // its stream (the TUI pings and asks who is in the room) split a long line into several.
    expect(status.match(/CHAT_ERR_LINE_TOO_LONG/g)!.length).toBeGreaterThanOrEqual(2);
    expect(status).not.toMatch(/crashed|exited/);
  });
});
