import type { Socket } from "node:net";
import {
  classifyConnectError,
  connectTcp,
  encodeLine,
  type ForeignConnection,
  type TlsClientOptions,
} from "@tcpchat/core";
import { EXIT_CODE, exitCodeForError } from "../exit-codes.js";
import { formatHostPort } from "../lan-addresses.js";
import { PeerLines } from "./peer-lines.js";
import { createSessionIo } from "./session-io.js";
import { reportFatal } from "./structured.js";

/** Options of {@link runRaw}. */
export interface RawOptions {
  /** Speak TLS (see `--tls`). */
  tls?: TlsClientOptions;
  host: string;
  port: number;
  timeoutMs: number;
  timestamps: boolean | undefined;
  /** Why plain line mode was picked, shown once (auto-detection); absent with --raw. */
  notice?: string;
  /**
   * The connection auto-detection already opened (and what the peer sent on it): plain line
   * mode goes on with it. A peer that accepts one connection only (a Java `ServerSocket`
   * tutorial, `ncat -l`) would refuse a second one.
   */
  connection?: ForeignConnection;
}

/** How long, after stdin ends, to wait for the peer to finish answering before closing. */
const DRAIN_AFTER_EOF_MS = 2000;
/** A line the peer leaves unfinished this long is shown anyway: it is most likely a prompt. */
const SHOW_PARTIAL_AFTER_MS = 200;
/** Errors of writing to a peer that has closed: the end of the conversation, not a failure. */
const PEER_GONE = new Set(["EPIPE", "ECONNRESET"]);

/**
 * Plain line mode: every typed line goes to the peer as is (with LF), every line from the peer
 * is printed. For any line-based server: a Java `ServerSocket` tutorial server, `ncat -l`, or
 * a tcpchat server in its text mode.
 */
export async function runRaw(options: RawOptions): Promise<number> {
  let socket: Socket;
  if (options.connection !== undefined) {
    socket = options.connection.socket;
  } else {
    try {
      socket = await connectTcp({
        host: options.host,
        port: options.port,
        timeoutMs: options.timeoutMs,
        allowHalfOpen: true,
        ...(options.tls === undefined ? {} : { tls: options.tls }),
      });
    } catch (error) {
      const classified = classifyConnectError(error, options);
      reportFatal(classified);
      return exitCodeForError(classified);
    }
  }
  return new Promise((resolve) => {
    const peerLines = new PeerLines();
    let partialTimer: NodeJS.Timeout | undefined;
    let idleTimer: NodeJS.Timeout | undefined;
    let done = false;
    let inputEnded = false;
    let peerEnded = false;
    const io = createSessionIo({
      prompt: "> ",
      timestamps: options.timestamps,
      onLine: (line) => {
        if (done) return;
        try {
          socket.write(encodeLine(line));
        } catch (error) {
          io.status(`!!! ${(error as Error).message}`);
        }
        if (peerEnded) armIdleAfterPeerEnd();
      },
      onEnd: () => {
        // Half-close: the peer sees EOF, as with `nc -N`, and may still answer.
        inputEnded = true;
        clearTimeout(idleTimer);
        // Once every line is written: quit if the peer is gone, else give it time to answer.
        socket.end(() => {
          if (peerEnded) finish(EXIT_CODE.ok);
          else setTimeout(() => finish(EXIT_CODE.ok), DRAIN_AFTER_EOF_MS).unref();
        });
      },
      onInterrupt: () => finish(EXIT_CODE.ok),
    });
    const onSigint = () => finish(EXIT_CODE.interrupted);
    process.on("SIGINT", onSigint);
    if (options.notice) io.status(options.notice);
    io.status(
      `*** connected to ${formatHostPort(options.host, options.port)} ${options.tls === undefined ? "" : " over TLS"} in plain line mode; Ctrl+D or Ctrl+C quits`,
    );

    const received = (chunk: Buffer) => {
      for (const line of peerLines.push(chunk)) io.show(line);
      clearTimeout(partialTimer);
      partialTimer = setTimeout(() => {
        const partial = peerLines.takePartial();
        if (partial !== undefined) io.show(partial);
      }, SHOW_PARTIAL_AFTER_MS);
      // Backpressure: a stdout nobody reads stops the socket, not the memory.
      io.holdWhileFull(socket);
    };
    const peerClosed = () => {
      if (peerEnded) return;
      peerEnded = true;
      clearTimeout(partialTimer);
      for (const line of peerLines.end()) io.show(line);
      // Both sides ended: the socket closes once our last line is out ('close' below).
      if (inputEnded) return;
      // A peer that only listens (`ncat -l --recv-only`) closes its side at once: piped input
      // still goes to it until stdin ends. At a terminal there is nobody to answer: quit.
      if (io.interactive) {
        io.status("*** the peer closed the connection");
        finish(EXIT_CODE.ok);
      } else {
        armIdleAfterPeerEnd();
      }
    };
    socket.on("data", received);
    socket.on("end", peerClosed);
    socket.on("error", (error: NodeJS.ErrnoException) => {
      if (done) return;
      if (peerEnded && PEER_GONE.has(error.code ?? "")) {
        io.status("*** the peer closed the connection");
        return finish(EXIT_CODE.ok);
      }
      const classified = classifyConnectError(error, options);
      reportFatal(classified);
      finish(EXIT_CODE.connectionLost);
    });
    socket.on("close", () => finish(EXIT_CODE.ok));
    if (options.connection !== undefined) {
      // What the peer said while the client looked for a tcpchat greeting comes first.
      if (options.connection.received.length > 0) received(options.connection.received);
      if (options.connection.ended) peerClosed();
    }
    if (!done) socket.resume();

    // The peer closed its side while stdin (a pipe) still runs: send what stdin has, and end
    // once it has been quiet for a while, as after EOF; a peer that closed for good makes the
    // next write fail instead.
    function armIdleAfterPeerEnd(): void {
      clearTimeout(idleTimer);
      idleTimer = setTimeout(() => {
        io.status("*** the peer closed the connection");
        socket.end(() => finish(EXIT_CODE.ok));
      }, DRAIN_AFTER_EOF_MS);
    }

    function finish(code: number): void {
      if (done) return;
      done = true;
      process.off("SIGINT", onSigint);
      clearTimeout(partialTimer);
      clearTimeout(idleTimer);
      socket.destroy();
      io.close();
      resolve(code);
    }
  });
}
