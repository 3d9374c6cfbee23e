import type { DecodedLine } from "../framing/line-decoder.js";
import { TELNET_COMMAND } from "../framing/telnet.js";
import type { Session } from "./session.js";
import { decodeInput } from "./telnet-session.js";

/**
 * The input side of a session, under its budget. Bytes are decoded only as far as the session
 * may afford to act on them: each line costs work tokens, and a session whose replies are piling
 * up (it does not read them) is not served. What it cannot afford stays unread: the rest of the
 * chunk waits in its inbox and the transport is paused, so the kernel's receive window, not the
 * server's memory, holds a flood (InspIRCd's recvq, Redis's client output buffer limits).
 */

/** Most lines decoded per slice: bounds the work one session causes before others are served. */
export const MAX_LINES_PER_SLICE = 64;
/**
 * Lines a session read from its socket is served in each turn, whatever the turn has already
 * cost: a chatter who sends a line now and then is never made to wait behind a flood.
 */
export const TURN_FAIR_LINES = 1;
/**
 * Most lines per slice after a session's first of the turn, and from an inbox: the turn's clock
 * is read between slices, so this bounds how far a turn overruns its time.
 */
export const TURN_SLICE_LINES = 8;

/** Most bytes decoded per slice on the telnet path (a text line is at most the line limit). */
const MAX_TELNET_SLICE_BYTES = 4096;
const LF = 0x0a;

/** What the input side needs from the hub. */
export interface InputOwner {
  /** Lines the session may be served now (0: pause it). */
  lineAllowance(session: Session, now: number): number;
  handleDecoded(session: Session, line: DecodedLine, now: number): void;
  /** The session started or finished a partial line (line timeouts watch it). */
  midLineChanged(session: Session, midLine: boolean, now: number): void;
  paused(session: Session): void;
}

/**
 * Decodes and handles `chunk` as far as the budget allows. Returns false when input is left
 * in the inbox (the caller pauses reading), true when all of it was consumed.
 */
export function consume(owner: InputOwner, session: Session, chunk: Buffer, now: number): boolean {
  let start = 0;
  /** Whether the chunk holds an IAC byte; scanned for once, and only for a text peer. */
  let iac: boolean | undefined;
  while (start < chunk.length) {
    if (!session.open) return true;
    const allowance = owner.lineAllowance(session, now);
    if (allowance === 0) {
      keep(session, chunk.subarray(start));
      owner.paused(session);
      return false;
    }
    const wasMidLine = session.decoder.midLine;
    const slice = start === 0 ? chunk : chunk.subarray(start);
    let lines: DecodedLine[];
    // Most input is plain lines: the decoder applies the allowance in the scan that finds them.
    // Input that may need the telnet filter is cut here and decoded as before.
    let plain = false;
    if (session.telnet === undefined) {
      if (session.structured || session.wireCodec !== null) plain = true;
      else {
        if (iac === undefined) iac = chunk.indexOf(TELNET_COMMAND.IAC) !== -1;
        plain = !iac;
      }
    }
    if (plain) {
      lines = session.decoder.push(slice, allowance);
      start += session.decoder.consumed;
    } else {
      // Bounded in bytes too: telnet commands cost budget without ending a line (their answers
      // are charged), so a run of them must not be decoded all at once.
      const end = Math.min(afterLines(chunk, start, allowance), start + MAX_TELNET_SLICE_BYTES);
      lines = decodeInput(session, chunk.subarray(start, end));
      start = end;
    }
    const midLine = session.decoder.midLine;
    if (midLine !== wasMidLine || (midLine && lines.length > 0)) {
      owner.midLineChanged(session, midLine, now);
    }
    for (let i = 0; i < lines.length && session.open; i++)
      owner.handleDecoded(session, lines[i]!, now);
  }
  return true;
}

/**
 * Works through a paused session's inbox as far as its budget allows. Returns true when the
 * inbox is empty (reading may resume).
 */
export function drainInbox(owner: InputOwner, session: Session, now: number): boolean {
  const inbox = session.inbox;
  if (inbox === null) return true;
  session.inbox = null;
  for (let i = 0; i < inbox.length; i++) {
    if (!consume(owner, session, inbox[i]!, now)) {
      // consume() put the unconsumed rest first in a new inbox: the older chunks follow it.
      for (let j = i + 1; j < inbox.length; j++) session.inbox!.push(inbox[j]!);
      return false;
    }
  }
  return true;
}

/** Where the `count`th line from `start` ends (after its LF), or the chunk's end. */
function afterLines(chunk: Buffer, start: number, count: number): number {
  let end = start;
  for (let found = 0; found < count; found++) {
    const lf = chunk.indexOf(LF, end);
    if (lf === -1) return chunk.length;
    end = lf + 1;
  }
  return end;
}

function keep(session: Session, rest: Buffer): void {
  if (session.inbox === null) session.inbox = [rest];
  else session.inbox.unshift(rest);
}
