/**
 * Seeds a stored room with many messages, as the history bench and the abuse bench's read
 * attacks both need: a big room whose messages share a few common words.
 */
import type { SqliteStore, StoredMessage } from "@tcpchat/core";

/** Words of the seeded messages: message `id` holds SEED_WORDS[id % 10] and SEED_WORDS[7 * id % 10]. */
export const SEED_WORDS = [
  "deploy",
  "build",
  "lunch",
  "review",
  "merge",
  "coffee",
  "점심",
  "회의",
  "release",
  "bug",
] as const;

/** Options of {@link seedRoom}. */
export interface SeedRoomOptions {
  /** The room's name (and key). */
  room: string;
  /** Messages written, with ids 1 to `count`, 100 ms apart, the last one now. */
  count: number;
  /** A word found only in every `every`-th message (a rare word to search for). */
  rare?: { word: string; every: number };
}

/** Writes the room's messages into `store`, 10,000 per batch. */
export function seedRoom(
  store: Pick<SqliteStore, "appendMessages">,
  options: SeedRoomOptions,
): void {
  const { room, count, rare } = options;
  const now = Date.now();
  const batchSize = 10_000;
  for (let first = 1; first <= count; first += batchSize) {
    const batch: StoredMessage[] = [];
    for (let id = first; id < Math.min(first + batchSize, count + 1); id++) {
      const extra = rare !== undefined && id % rare.every === 0 ? ` ${rare.word}` : "";
      batch.push({
        id,
        ts: now - (count - id) * 100,
        room,
        roomKey: room,
        from: `user${id % 97}`,
        text: `${SEED_WORDS[id % 10]} ${SEED_WORDS[(id * 7) % 10]} message ${id}${extra}`,
        action: false,
      });
    }
    store.appendMessages(batch);
  }
}
