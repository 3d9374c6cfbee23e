import type { RedisCluster } from "../cluster/redis-cluster.js";
import type { MetricFamily } from "./metrics.js";

/**
 * The `/metrics` families of a cluster node. Every sample carries the node's id, so that the
 * figures of all nodes can be scraped into one place and told apart; the connections of the
 * other nodes are as their last heartbeat said.
 */
export function clusterMetrics(cluster: RedisCluster): MetricFamily[] {
  const node = cluster.nodeId;
  const s = cluster.stats;
  const counter = (name: string, help: string, value: number): MetricFamily => ({
    name,
    help,
    type: "counter",
    samples: [{ labels: { node }, value }],
  });
  const gauge = (name: string, help: string, value: number): MetricFamily => ({
    name,
    help,
    type: "gauge",
    samples: [{ labels: { node }, value }],
  });
  return [
    {
      name: "tcpchat_cluster_node_connections",
      help: "Open sessions on each live node of the cluster, as its last heartbeat said.",
      type: "gauge",
      samples: cluster.knownNodes().map((info) => ({
        labels: { node: info.id },
        value: info.connections,
      })),
    },
    counter(
      "tcpchat_cluster_batches_published_total",
      "Room batches this node published.",
      s.published,
    ),
    counter(
      "tcpchat_cluster_batches_received_total",
      "Room batches from other nodes written to members here.",
      s.received,
    ),
    counter(
      "tcpchat_cluster_dms_received_total",
      "Direct messages from other nodes for sessions here.",
      s.dmsReceived,
    ),
    counter(
      "tcpchat_cluster_batches_recovered_total",
      "Room batches fetched from a room's stream after a gap or a reconnect.",
      s.recovered,
    ),
    counter(
      "tcpchat_cluster_batches_lost_total",
      "Room batches known lost (past the stream's cap, or a log that restarted empty).",
      s.lost,
    ),
    counter("tcpchat_cluster_redis_reconnects_total", "Reconnections to Redis.", s.reconnects),
    gauge("tcpchat_cluster_outbox_batches", "Batches waiting to be published.", s.outbox),
    gauge(
      "tcpchat_cluster_redis_lag_seconds",
      "Round trip of the last heartbeat to Redis.",
      s.redisLagMs / 1000,
    ),
  ];
}
