import { connect } from "node:net";
import {
  type ChatError,
  classifyConnectError,
  LineDecoder,
  parseGreeting,
  parseRefusalLine,
} from "@tcpchat/core";

/** What one TCP connect attempt to one address found. */
export const PROBE_RESULT = {
  /** Accepted, and something answered or stayed silent (see `greeting` / `firstLine`). */
  listening: "listening",
  /** The server accepted the TCP connection and its accept policy then refused us. */
  refusedByPolicy: "refused-by-policy",
  /** RST: the host is up, nothing listens on the port. */
  refused: "refused",
  /** No answer at all within the timeout: packets dropped. */
  timedOut: "timed-out",
  /** No route to the host or network. */
  unreachable: "unreachable",
  /** Any other failure (reset during the greeting, ...). */
  error: "error",
} as const;
/** One of {@link PROBE_RESULT}'s values. */
export type ProbeResult = (typeof PROBE_RESULT)[keyof typeof PROBE_RESULT];

/** The outcome of {@link probeAddress}. */
export interface ProbeOutcome {
  address: string;
  family: 4 | 6;
  result: ProbeResult;
  /** Milliseconds from the start of the attempt to the TCP outcome. */
  connectMs: number;
  /** The parsed tcpchat greeting, when the peer is a tcpchat server. */
  greeting?: { version: number; software: string };
  /** The peer's first line when it is not a tcpchat greeting (or a refusal line). */
  firstLine?: string;
  /** The error: a refusal by policy, or the classified connect failure. */
  error?: { code: string; message: string; hint: string; syscallCode?: string };
}

/** Options of {@link probeAddress}. */
export interface ProbeOptions {
  address: string;
  family: 4 | 6;
  port: number;
  /** Connect timeout, and then again the time allowed for the first line, in milliseconds. */
  timeoutMs: number;
}

/**
 * Connects to one address and reads the peer's first line. A tcpchat server writes its greeting
 * (or, when its policy refuses, one `!!! CHAT_ERR_REFUSED_*` line) right after accepting, so
 * the first line says what is listening. The probe leaves with `/quit`, so it is a short
 * visit, not a broken connection, in the server's log.
 */
export function probeAddress(options: ProbeOptions): Promise<ProbeOutcome> {
  const started = performance.now();
  const base = { address: options.address, family: options.family };
  return new Promise((resolve) => {
    const socket = connect({ host: options.address, port: options.port });
    const decoder = new LineDecoder();
    let connectMs = 0;
    let settled = false;
    const finish = (outcome: Omit<ProbeOutcome, "address" | "family" | "connectMs">): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({
        ...base,
        connectMs: Math.round(connectMs || performance.now() - started),
        ...outcome,
      });
    };
    let timer = setTimeout(() => {
      const error = classifyConnectError(
        Object.assign(new Error("connect timed out"), { code: "ETIMEDOUT" }),
      );
      finish({ result: PROBE_RESULT.timedOut, error: describe(error) });
    }, options.timeoutMs);

    socket.once("connect", () => {
      connectMs = performance.now() - started;
      clearTimeout(timer);
      // A silent peer is still a listening one; it just is not tcpchat.
      timer = setTimeout(() => finish({ result: PROBE_RESULT.listening }), options.timeoutMs);
    });
    const onLine = (line: string): void => {
      const greeting = parseGreeting(line);
      if (greeting) {
        socket.write("/quit tcpchat doctor\n");
        finish({
          result: PROBE_RESULT.listening,
          greeting: { version: greeting.version, software: greeting.software },
        });
        return;
      }
      const refusal = parseRefusalLine(line);
      if (refusal) {
        finish({ result: PROBE_RESULT.refusedByPolicy, error: describe(refusal) });
        return;
      }
      finish({ result: PROBE_RESULT.listening, firstLine: line });
    };
    socket.on("data", (chunk: Buffer) => {
      for (const item of decoder.push(chunk)) {
        if (typeof item === "string") onLine(item);
      }
    });
    socket.once("end", () => {
      for (const item of decoder.end()) {
        if (typeof item === "string") onLine(item);
      }
      finish({ result: PROBE_RESULT.listening });
    });
    socket.once("error", (cause) => {
      if (connectMs > 0) {
        // Accepted, then reset before a line came: something listens, but it hung up on us.
        finish({ result: PROBE_RESULT.listening, error: describe(classifyConnectError(cause)) });
        return;
      }
      const error = classifyConnectError(cause);
      finish({ result: resultFor(error), error: describe(error) });
    });
  });
}

function resultFor(error: ChatError): ProbeResult {
  switch (error.code) {
    case "CHAT_ERR_CONN_REFUSED":
      return PROBE_RESULT.refused;
    case "CHAT_ERR_CONN_TIMEOUT":
      return PROBE_RESULT.timedOut;
    case "CHAT_ERR_CONN_UNREACHABLE":
      return PROBE_RESULT.unreachable;
    default:
      return PROBE_RESULT.error;
  }
}

/** A plain-data view of an error, for the report and `--json`. */
export function describe(error: ChatError): NonNullable<ProbeOutcome["error"]> {
  const syscallCode = (error as { syscallCode?: string }).syscallCode;
  return {
    code: error.code,
    message: error.message,
    hint: error.hint,
    ...(syscallCode ? { syscallCode } : {}),
  };
}
