/**
 * Tab completion of nicks and /commands, cycling through candidates on repeated Tab like
 * irssi: the first Tab completes to the first match, each further Tab to the next one.
 */
import type { InputLine } from "./input.js";

/** An ongoing completion: where the word starts, what was typed, and the candidates. */
export interface Completion {
  /** Offset in the input text where the completed word starts. */
  readonly start: number;
  /** Candidates in the order they are cycled through. */
  readonly candidates: readonly string[];
  /** Index of the candidate currently inserted. */
  readonly index: number;
  /** What follows the inserted candidate (": " after a nick at the line start, else " "). */
  readonly suffix: string;
}

/** What completion needs to know besides the input line. */
export interface CompletionSource {
  readonly commands: readonly string[];
  /** Nicks of the current room, most relevant first. */
  readonly nicks: readonly string[];
  /** The user's own nick, never offered. */
  readonly ownNick: string | undefined;
}

function fold(text: string): string {
  return text.normalize("NFC").toLocaleLowerCase();
}

/**
 * Starts or continues a completion. Returns the new input and completion state, or undefined
 * when nothing matches.
 */
export function complete(
  input: InputLine,
  previous: Completion | undefined,
  source: CompletionSource,
): { input: InputLine; completion: Completion } | undefined {
  if (previous && previous.candidates.length > 0) {
    const index = (previous.index + 1) % previous.candidates.length;
    return { input: insertCandidate(input, previous, index), completion: { ...previous, index } };
  }
  const before = input.text.slice(0, input.cursor);
  const start = before.search(/\S*$/);
  const word = before.slice(start);
  const isCommand = start === 0 && word.startsWith("/");
  let candidates: string[];
  if (isCommand) {
    const prefix = fold(word.slice(1));
    candidates = source.commands.filter((c) => fold(c).startsWith(prefix)).map((c) => `/${c}`);
  } else {
    if (word === "") return undefined;
    const prefix = fold(word);
    const own = source.ownNick === undefined ? undefined : fold(source.ownNick);
    candidates = source.nicks.filter((n) => fold(n).startsWith(prefix) && fold(n) !== own);
  }
  if (candidates.length === 0) return undefined;
  // No extra space when the text after the cursor already starts with one.
  const spaced = /^\s/.test(input.text.slice(input.cursor));
  const suffix = start === 0 && !isCommand ? ": " : spaced ? "" : " ";
  const inserted = candidates[0]! + suffix;
  return {
    input: {
      text: input.text.slice(0, start) + inserted + input.text.slice(input.cursor),
      cursor: start + inserted.length,
    },
    completion: { start, candidates, index: 0, suffix },
  };
}

/** Replaces the previously inserted candidate with candidate `index`. */
function insertCandidate(input: InputLine, previous: Completion, index: number): InputLine {
  const old = previous.candidates[previous.index]! + previous.suffix;
  const replacement = previous.candidates[index]! + previous.suffix;
  return {
    text:
      input.text.slice(0, previous.start) +
      replacement +
      input.text.slice(previous.start + old.length),
    cursor: previous.start + replacement.length,
  };
}
