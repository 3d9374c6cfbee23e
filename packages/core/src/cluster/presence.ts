import type { createClient } from "redis";
import type { ClusterNodeInfo } from "./types.js";

type Client = ReturnType<typeof createClient>;

/** What a node says of itself in its heartbeat. */
export interface Heartbeat {
  nodeId: string;
  info: { connections: number; startedAt: number };
  /** The key expires after this long without another heartbeat: the node is then gone. */
  ttlMs: number;
}

/**
 * Says that a node is alive: its key (with a TTL, so a dead node's expires by itself) and its
 * id in the set of nodes, where others find it.
 */
export async function writeHeartbeat(
  client: Client,
  nodesKey: string,
  nodeKey: string,
  heartbeat: Heartbeat,
): Promise<void> {
  await client.set(nodeKey, JSON.stringify(heartbeat.info), {
    expiration: { type: "PX", value: heartbeat.ttlMs },
  });
  await client.sAdd(nodesKey, heartbeat.nodeId);
}

/**
 * The live nodes, oldest first: the ids in the set whose heartbeat key still exists. Ids whose
 * key expired are dropped from the set on the way.
 */
export async function readLiveNodes(
  client: Client,
  nodesKey: string,
  nodeKey: (id: string) => string,
  selfId: string,
): Promise<ClusterNodeInfo[]> {
  const nodes: ClusterNodeInfo[] = [];
  for (const id of await client.sMembers(nodesKey)) {
    const text = await client.get(nodeKey(id));
    if (text === null) {
      await client.sRem(nodesKey, id);
      continue;
    }
    const info = JSON.parse(text) as { connections: number; startedAt: number };
    nodes.push({
      id,
      connections: info.connections,
      startedAt: info.startedAt,
      self: id === selfId,
    });
  }
  return nodes.sort((a, b) => a.startedAt - b.startedAt);
}
