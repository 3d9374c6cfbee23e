import type { Socket } from "node:net";
import { classifyConnectError, connectTcp, encodeLine } from "@tcpchat/core";
import { EXIT_CODE, exitCodeForError } from "../exit-codes.js";
import { formatHostPort } from "../lan-addresses.js";
import { PeerLines } from "./peer-lines.js";
import { createSessionIo } from "./session-io.js";
import { reportFatal } from "./structured.js";

/** Options of {@link runRaw}. */
export interface RawOptions {
  host: string;
  port: number;
  timeoutMs: number;
  timestamps: boolean | undefined;
  /** Why plain line mode was picked, shown once (auto-detection); absent with --raw. */
  notice?: string;
}

/** How long, after stdin ends, to wait for the peer to finish answering before closing. */
const DRAIN_AFTER_EOF_MS = 2000;
/** A line the peer leaves unfinished this long is shown anyway: it is most likely a prompt. */
const SHOW_PARTIAL_AFTER_MS = 200;

/**
 * Plain line mode: every typed line goes to the peer as is (with LF), every line from the peer
 * is printed. For any line-based server: a Java `ServerSocket` tutorial server, `ncat -l`, or
 * a tcpchat server in its text mode.
 */
export async function runRaw(options: RawOptions): Promise<number> {
  let socket: Socket;
  try {
    socket = await connectTcp({
      host: options.host,
      port: options.port,
      timeoutMs: options.timeoutMs,
    });
  } catch (error) {
    const classified = classifyConnectError(error, options);
    reportFatal(classified);
    return exitCodeForError(classified);
  }
  return new Promise((resolve) => {
    const peerLines = new PeerLines();
    let partialTimer: NodeJS.Timeout | undefined;
    let done = false;
    let inputEnded = false;
    const io = createSessionIo({
      prompt: "> ",
      timestamps: options.timestamps,
      onLine: (line) => {
        try {
          socket.write(encodeLine(line));
        } catch (error) {
          io.status(`!!! ${(error as Error).message}`);
        }
      },
      onEnd: () => {
        // Half-close: the peer sees EOF, as with `nc -N`, and may still answer.
        inputEnded = true;
        socket.end();
        setTimeout(() => finish(EXIT_CODE.ok), DRAIN_AFTER_EOF_MS).unref();
      },
      onInterrupt: () => finish(EXIT_CODE.ok),
    });
    const onSigint = () => finish(EXIT_CODE.interrupted);
    process.on("SIGINT", onSigint);
    if (options.notice) io.status(options.notice);
    io.status(
      `*** connected to ${formatHostPort(options.host, options.port)} in plain line mode; Ctrl+D or Ctrl+C quits`,
    );

    const showAll = (lines: string[]) => {
      for (const line of lines) io.show(line);
    };
    socket.on("data", (chunk: Buffer) => {
      showAll(peerLines.push(chunk));
      clearTimeout(partialTimer);
      partialTimer = setTimeout(() => {
        const partial = peerLines.takePartial();
        if (partial !== undefined) io.show(partial);
      }, SHOW_PARTIAL_AFTER_MS);
    });
    socket.on("end", () => {
      clearTimeout(partialTimer);
      showAll(peerLines.end());
      if (!inputEnded) io.status("*** the peer closed the connection");
      finish(EXIT_CODE.ok);
    });
    socket.on("error", (error) => {
      if (done) return;
      const classified = classifyConnectError(error, options);
      reportFatal(classified);
      finish(EXIT_CODE.connectionLost);
    });
    socket.on("close", () => finish(EXIT_CODE.ok));

    function finish(code: number): void {
      if (done) return;
      done = true;
      process.off("SIGINT", onSigint);
      clearTimeout(partialTimer);
      socket.destroy();
      io.close();
      resolve(code);
    }
  });
}
