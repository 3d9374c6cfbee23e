import type { ChatStore, StoredTopic } from "../store/types.js";
import { whenDone } from "../store/types.js";

/**
 * Room topics, by room key. Kept apart from the rooms themselves: a room goes when its last
 * member leaves, its topic stays. Reads are synchronous (the map), so a join shows the topic in
 * the same turn; writes go through to the store when there is one, and are loaded back at start.
 */
export class Topics {
  private readonly byRoom = new Map<string, StoredTopic>();
  /** When each room's topic was last cleared (a cluster compares a change from elsewhere). */
  private readonly clearedAt = new Map<string, number>();
  /** Told of every topic set here (not of one applied from elsewhere): a cluster shares them. */
  onLocalChange: ((topic: StoredTopic) => void) | undefined;

  /**
   * @param store where topics outlive the process (none: kept in memory only).
   * @param onStoreError told when a write fails; the topic still holds in memory.
   */
  constructor(
    private readonly store: ChatStore | undefined,
    private readonly onStoreError: (what: string, error: unknown) => void,
  ) {}

  /** Reads every stored topic (once, before the server listens). */
  async load(): Promise<void> {
    if (this.store === undefined) return;
    for (const topic of await this.store.loadTopics()) this.byRoom.set(topic.roomKey, topic);
  }

  /** The topic of a room, if it has one. */
  get(roomKey: string): StoredTopic | undefined {
    return this.byRoom.get(roomKey);
  }

  /** Every topic held (for a cluster that writes back what is newer here). */
  all(): StoredTopic[] {
    return [...this.byRoom.values()];
  }

  /** Sets a room's topic; "" clears it. */
  set(topic: StoredTopic): void {
    this.keep(topic);
    this.onLocalChange?.(topic);
  }

  /**
   * A topic set on another node of a cluster: kept (and stored) here unless what this node has
   * is newer. Returns whether it was kept.
   */
  applyRemote(topic: StoredTopic): boolean {
    const known = this.byRoom.get(topic.roomKey)?.ts ?? this.clearedAt.get(topic.roomKey) ?? 0;
    if (known > topic.ts) return false;
    const same = this.byRoom.get(topic.roomKey);
    if (same !== undefined && same.ts === topic.ts && same.text === topic.text) return false;
    if (same === undefined && topic.text === "" && this.clearedAt.has(topic.roomKey)) return false;
    this.keep(topic);
    return true;
  }

  private keep(topic: StoredTopic): void {
    const store = this.store;
    if (topic.text === "") {
      this.byRoom.delete(topic.roomKey);
      this.clearedAt.set(topic.roomKey, topic.ts);
      if (store !== undefined) {
        whenDone(
          () => store.deleteTopic(topic.roomKey),
          () => {},
          (error) => this.onStoreError("topic", error),
        );
      }
      return;
    }
    this.clearedAt.delete(topic.roomKey);
    this.byRoom.set(topic.roomKey, topic);
    if (store !== undefined) {
      whenDone(
        () => store.saveTopic(topic),
        () => {},
        (error) => this.onStoreError("topic", error),
      );
    }
  }
}
