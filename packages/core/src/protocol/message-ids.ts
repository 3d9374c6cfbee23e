/**
 * Message ids on the wire (spec 4.4): a serial written in base 36. Clients that page history
 * compare and order them as numbers; these helpers are the one place that reads them.
 */

/** Messages a client asks for per page of older history (PageUp, "Load older messages"). */
export const OLDER_HISTORY_PAGE_SIZE = 50;

/** A message id as a number; NaN when there is none or it is not one. */
export function messageIdValue(id: string | undefined): number {
  return id === undefined ? Number.NaN : Number.parseInt(id, 36);
}

/** The smallest message id among `lines` (lines without one are skipped), if any. */
export function oldestMessageId(lines: Iterable<{ readonly id?: string }>): number | undefined {
  let oldest: number | undefined;
  for (const line of lines) {
    const value = messageIdValue(line.id);
    if (!Number.isNaN(value) && (oldest === undefined || value < oldest)) oldest = value;
  }
  return oldest;
}

/**
 * Where a message with id `value` belongs among `lines` kept in id order: before the first line
 * with a larger id, or -1 for the end.
 */
export function messageIdIndex(lines: readonly { readonly id?: string }[], value: number): number {
  return lines.findIndex((line) => messageIdValue(line.id) > value);
}
