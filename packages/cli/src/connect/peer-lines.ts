import { StringDecoder } from "node:string_decoder";

/** A partial line longer than this (in UTF-16 units) is shown as it is, without waiting for LF. */
const MAX_PARTIAL = 64 * 1024;

/**
 * Splits a foreign peer's bytes into lines for plain line mode. Unlike the protocol's decoder,
 * it keeps the unfinished tail available: line servers often write a prompt such as
 * `Enter your name: ` with no line ending and wait, and a user must see it. Bytes that are not
 * UTF-8 show as U+FFFD rather than being dropped: this is a display, not the protocol.
 */
export class PeerLines {
  private readonly decoder = new StringDecoder("utf8");
  private partial = "";

  /** Feeds bytes; returns the lines they complete (without endings). */
  push(chunk: Buffer): string[] {
    const text = this.partial + this.decoder.write(chunk);
    const parts = text.split("\n");
    this.partial = parts.pop() ?? "";
    const lines = parts.map((line) => line.replace(/\r$/, ""));
    if (this.partial.length > MAX_PARTIAL) lines.push(this.takePartial()!);
    return lines;
  }

  /** The unfinished tail, if any, which then counts as shown. */
  takePartial(): string | undefined {
    if (this.partial === "") return undefined;
    const partial = this.partial;
    this.partial = "";
    return partial;
  }

  /** The peer closed: whatever is left is a last line. */
  end(): string[] {
    const rest = this.partial + this.decoder.end();
    this.partial = "";
    return rest === "" ? [] : [rest.replace(/\r$/, "")];
  }
}
