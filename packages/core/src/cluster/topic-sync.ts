import type { createClient } from "redis";
import type { Topics } from "../session/topics.js";
import type { StoredTopic } from "../store/types.js";
import { CHANGE_TOPIC } from "./scripts.js";

type Client = ReturnType<typeof createClient>;

/** Options of {@link ClusterTopics}. */
export interface ClusterTopicsOptions {
  client: Client;
  nodeId: string;
  /** Hash of room key -> topic (JSON; a cleared topic has text ""): read by a node that starts. */
  hashKey: string;
  /** Channel every node hears topic changes on. */
  channel: string;
}

/** What goes on the topic channel. */
interface TopicNotice {
  node: string;
  topic: StoredTopic;
}

function isTopic(value: unknown): value is StoredTopic {
  const topic = value as StoredTopic | null;
  return (
    typeof topic === "object" &&
    topic !== null &&
    typeof topic.roomKey === "string" &&
    typeof topic.room === "string" &&
    typeof topic.text === "string" &&
    typeof topic.by === "string" &&
    typeof topic.ts === "number"
  );
}

/**
 * Room topics shared by the nodes of a cluster, as bans are (ban-sync.ts): a topic set on one
 * node (console or operator client) is written to a Redis hash and announced on a channel in one
 * script, which keeps the newest by time (a clear is kept too, as text ""), so that a late,
 * older change cannot undo a newer one. Every other node keeps it in its own topics (and its
 * store), so joins and `/topic` there show it, and shows it to the room's members it has: the
 * change is not relayed in the room's batch, which a node still subscribing to the room would
 * miss. A node that starts, or finds Redis again, reads the hash and writes back what is newer
 * here.
 */
export class ClusterTopics {
  private topics: Topics | undefined;
  private show: ((topic: StoredTopic) => void) | undefined;

  constructor(private readonly options: ClusterTopicsOptions) {}

  /**
   * Links this node's topics: changes made here go to the cluster, and changes from elsewhere
   * are kept there and shown with `show` (to the room's members on this node). Reads the hash.
   */
  async attach(topics: Topics, show: (topic: StoredTopic) => void): Promise<void> {
    this.topics = topics;
    this.show = show;
    topics.onLocalChange = (topic) => this.publish(topic);
    await this.restore();
  }

  /** A message on the topic channel: another node's change is kept here. */
  heard(text: string): void {
    let notice: TopicNotice;
    try {
      notice = JSON.parse(text) as TopicNotice;
    } catch {
      return;
    }
    if (notice.node === this.options.nodeId || !isTopic(notice.topic)) return;
    if (this.topics?.applyRemote(notice.topic) === true) this.show?.(notice.topic);
  }

  /** Reads the cluster's topics (newer ones are kept here), and writes back what is newer here. */
  async restore(): Promise<void> {
    const topics = this.topics;
    if (topics === undefined) return;
    const { client, hashKey } = this.options;
    const stored = await client.hGetAll(hashKey);
    const inRedis = new Set<string>();
    for (const text of Object.values(stored)) {
      let topic: unknown;
      try {
        topic = JSON.parse(text);
      } catch {
        continue;
      }
      if (!isTopic(topic)) continue;
      inRedis.add(topic.roomKey);
      topics.applyRemote(topic);
    }
    for (const topic of topics.all()) {
      const there = stored[topic.roomKey];
      if (!inRedis.has(topic.roomKey) || (there !== undefined && topicTs(there) < topic.ts)) {
        await this.write(topic, false);
      }
    }
  }

  private publish(topic: StoredTopic): void {
    if (!this.options.client.isReady) return;
    void this.write(topic, true).catch(() => {});
  }

  private async write(topic: StoredTopic, announce: boolean): Promise<void> {
    const { client, nodeId, hashKey, channel } = this.options;
    await client.eval(CHANGE_TOPIC, {
      keys: [hashKey, channel],
      arguments: [
        topic.roomKey,
        JSON.stringify(topic),
        String(topic.ts),
        announce ? JSON.stringify({ node: nodeId, topic } satisfies TopicNotice) : "",
      ],
    });
  }
}

function topicTs(text: string): number {
  try {
    const topic = JSON.parse(text) as { ts?: unknown };
    return typeof topic.ts === "number" ? topic.ts : 0;
  } catch {
    return 0;
  }
}
