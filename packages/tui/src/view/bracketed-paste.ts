/**
 * Separates pasted text from typed keys. Terminals in bracketed-paste mode (xterm, tmux,
 * screen) wrap a paste in ESC[200~ ... ESC[201~; without it, a single read that holds
 * several lines of text can only be a paste, since nobody types two lines in one read.
 */

const START = "\x1b[200~";
const END = "\x1b[201~";

/** What one chunk of terminal input holds: keys to pass on, and finished pastes. */
export interface SplitInput {
  readonly keys: string;
  readonly pastes: readonly string[];
}

/** Splits a stream of terminal input into keys and pastes; keeps state across chunks. */
export class PasteSplitter {
  private pasting: string | undefined;

  /** Feeds one decoded chunk. */
  push(chunk: string): SplitInput {
    let keys = "";
    const pastes: string[] = [];
    let rest = chunk;
    while (rest !== "") {
      if (this.pasting !== undefined) {
        const end = rest.indexOf(END);
        if (end < 0) {
          this.pasting += rest;
          break;
        }
        pastes.push(this.pasting + rest.slice(0, end));
        this.pasting = undefined;
        rest = rest.slice(end + END.length);
        continue;
      }
      const start = rest.indexOf(START);
      if (start < 0) {
        keys += rest;
        break;
      }
      keys += rest.slice(0, start);
      this.pasting = "";
      rest = rest.slice(start + START.length);
    }
    if (isUnbracketedPaste(keys)) return { keys: "", pastes: [...pastes, keys] };
    return { keys, pastes };
  }
}

/** Two or more lines of plain text (no escape sequences) arriving in one read. */
function isUnbracketedPaste(keys: string): boolean {
  if (keys.includes("\x1b")) return false;
  const lines = keys.split(/\r\n|\r|\n/);
  return lines.filter((l) => l.trim() !== "").length >= 2;
}

/** Asks the terminal to mark pastes (DEC private mode 2004). */
export const BRACKETED_PASTE_ON = "\x1b[?2004h";
/** Turns marked pastes off again, for whatever runs in the terminal next. */
export const BRACKETED_PASTE_OFF = "\x1b[?2004l";
