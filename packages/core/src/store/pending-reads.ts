import type { HistoryAnchor, HistoryQuery, StoredMessage } from "./types.js";

/**
 * The answer to a history query over the store's committed rows and the messages not yet
 * committed, as if all were stored. `stored` is the store's answer to `query` (oldest first);
 * `pending` the room's uncommitted messages (oldest first; a batch whose commit is not yet
 * acknowledged may be in both). Exact: every message of the full answer is either among the
 * store's answer or pending, since the store's answer holds the best `limit` committed ones.
 */
export function withPending(
  query: HistoryQuery,
  stored: readonly StoredMessage[],
  pending: readonly StoredMessage[],
): StoredMessage[] {
  const seen = new Set<number>();
  for (const m of stored) seen.add(m.id);
  const all = [...stored];
  for (const m of pending) if (!seen.has(m.id)) all.push(m);
  all.sort((a, b) => a.id - b.id);
  const limit = Math.max(0, Math.floor(query.limit));
  if (limit === 0) return [];
  if (query.kind === "latest") return all.slice(-limit);
  const anchor = query.anchor;
  switch (query.kind) {
    case "before":
      return older(all, anchor, limit, false);
    case "after":
      return newer(all, anchor, limit);
    case "around": {
      // As SqliteStore: the anchor and what precedes it get the larger half.
      const after = newer(all, anchor, Math.floor(limit / 2));
      return [...older(all, anchor, limit - after.length, true), ...after];
    }
  }
}

/** Where a message stands against an anchor: negative before it, 0 at it, positive after. */
function compare(m: StoredMessage, anchor: HistoryAnchor): number {
  return "id" in anchor ? m.id - anchor.id : m.ts - anchor.ts;
}

function older(
  all: readonly StoredMessage[],
  anchor: HistoryAnchor,
  limit: number,
  inclusive: boolean,
): StoredMessage[] {
  if (limit <= 0) return [];
  const kept = all.filter((m) => (inclusive ? compare(m, anchor) <= 0 : compare(m, anchor) < 0));
  return kept.slice(-limit);
}

function newer(
  all: readonly StoredMessage[],
  anchor: HistoryAnchor,
  limit: number,
): StoredMessage[] {
  if (limit <= 0) return [];
  return all.filter((m) => compare(m, anchor) > 0).slice(0, limit);
}
