import type { ChatStore, StoredTopic } from "../store/types.js";
import { whenDone } from "../store/types.js";

/**
 * Room topics, by room key. Kept apart from the rooms themselves: a room goes when its last
 * member leaves, its topic stays. Reads are synchronous (the map), so a join shows the topic in
 * the same turn; writes go through to the store when there is one, and are loaded back at start.
 */
export class Topics {
  private readonly byRoom = new Map<string, StoredTopic>();

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

  /** Sets a room's topic; "" clears it. */
  set(topic: StoredTopic): void {
    const store = this.store;
    if (topic.text === "") {
      this.byRoom.delete(topic.roomKey);
      if (store !== undefined) {
        whenDone(
          () => store.deleteTopic(topic.roomKey),
          () => {},
          (error) => this.onStoreError("topic", error),
        );
      }
      return;
    }
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
