import { FramingError } from "../errors.js";
import type { DecodedLine } from "../framing/line-decoder.js";
import { TELNET_COMMAND, TelnetFilter } from "../framing/telnet.js";
import type { Session } from "./session.js";

const LF = 0x0a;
const OPEN_BRACE = 0x7b;
/** Every answer the filter writes is IAC, a verb and an option. */
const TELNET_ANSWER_BYTES = 3;

/**
 * A text-mode session's telnet side (protocol spec section 8): the filter, plus the line that a
 * telnet command broke and that is being skipped up to its LF.
 */
export class TelnetInput {
  readonly filter = new TelnetFilter();
  /** True from a command that replaced typed bytes up to the LF that ends that line. */
  private skippingLine = false;

  /** Filters a chunk, queues the negotiation answers and decodes the lines it completes. */
  decode(session: Session, chunk: Buffer): DecodedLine[] {
    const { data, replies, events } = this.filter.push(chunk);
    if (replies.length > 0) {
      // Every answer is a write the peer asked for, like a reply to a line, so it costs the same
      // budget: a peer flooding negotiation (IAC DO TIMING-MARK) is paused like a line flood.
      session.workTokens -= replies.length / TELNET_ANSWER_BYTES;
      // Written at once, ahead of this turn's batched output: telnet throws away what it
      // receives until its TIMING-MARK is answered, so the answer must not wait behind chat lines.
      session.writeNow(replies);
    }
    const out: DecodedLine[] = [];
    let from = 0;
    for (const event of events) {
      if (event.type !== "lost-bytes") continue;
      this.feed(session, data, from, event.offset, out);
      from = event.offset;
      if (this.skippingLine) continue;
      // The line around the command lost bytes: what came before is dropped, the rest skipped.
      session.decoder.reset();
      this.skippingLine = true;
      // In binary mode telnet only sends these for a control key really pressed (^C cancels the
      // line, as in a shell). Before it, the command most likely stood for a byte of UTF-8.
      if (!this.filter.binary) out.push(new FramingError("CHAT_ERR_TELNET_MANGLED_LINE"));
    }
    this.feed(session, data, from, data.length, out);
    return out;
  }

  private feed(session: Session, data: Buffer, from: number, to: number, out: DecodedLine[]): void {
    let start = from;
    if (this.skippingLine) {
      const lf = data.indexOf(LF, start);
      if (lf === -1 || lf >= to) return;
      this.skippingLine = false;
      start = lf + 1;
    }
    if (start >= to) return;
    for (const line of session.decoder.push(data.subarray(start, to))) out.push(line);
  }
}

/**
 * Decodes a chunk from the peer into lines. A text-mode peer that sends an IAC byte (0xFF, never
 * part of UTF-8) is a telnet client: from then on its input goes through a {@link TelnetInput}.
 * Structured (JSON) sessions are never filtered.
 */
export function decodeInput(session: Session, chunk: Buffer): DecodedLine[] {
  if (session.telnet === undefined) {
    if (
      session.structured ||
      // A WebSocket peer's bytes are messages, never telnet (no negotiation may reach its frames).
      session.wireCodec !== null ||
      chunk.indexOf(TELNET_COMMAND.IAC) === -1 ||
      startsJson(session, chunk)
    ) {
      return session.decoder.push(chunk);
    }
    session.telnet = new TelnetInput();
  }
  return session.telnet.decode(session, chunk);
}

/** Whether the session's first line, still being received, starts with `{` (a JSON hello). */
function startsJson(session: Session, chunk: Buffer): boolean {
  // A first line that is a JSON hello settles structured mode even after a silent start was
  // taken for text (spec 2), so the codec alone cannot tell yet.
  if (session.linesIn > 0) return false;
  return (session.decoder.firstBufferedByte ?? chunk[0]) === OPEN_BRACE;
}
