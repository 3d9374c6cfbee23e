/**
 * Input history, browsed with Up/Down like a shell: the line being typed is kept as a draft
 * and comes back when the user walks past the newest entry.
 */

/** Submitted lines (oldest first), the browsing position and the saved draft. */
export interface History {
  readonly entries: readonly string[];
  /** Index into `entries` being shown, or `entries.length` when not browsing. */
  readonly position: number;
  readonly draft: string;
}

/** Most lines kept in the history. */
export const HISTORY_LIMIT = 200;

/** An empty history. */
export const EMPTY_HISTORY: History = { entries: [], position: 0, draft: "" };

/** Records a submitted line (skipping blanks and repeats of the last one) and stops browsing. */
export function remember(history: History, line: string): History {
  const last = history.entries[history.entries.length - 1];
  const entries =
    line.trim() === "" || line === last
      ? history.entries
      : [...history.entries, line].slice(-HISTORY_LIMIT);
  return { entries, position: entries.length, draft: "" };
}

/**
 * Moves one entry back (`-1`) or forward (`+1`) from the current line `current`. Returns the
 * new history and the text to show, or undefined when there is nowhere to go.
 */
export function browse(
  history: History,
  direction: -1 | 1,
  current: string,
): { history: History; text: string } | undefined {
  const { entries, position } = history;
  const next = position + direction;
  if (next < 0 || next > entries.length) return undefined;
  const draft = position === entries.length ? current : history.draft;
  const text = next === entries.length ? draft : entries[next]!;
  return { history: { entries, position: next, draft }, text };
}
