import { RedisServer } from "@tcpchat/testing/redis-server";
import { afterAll, afterEach, beforeAll } from "vitest";
import { type ChatServer, type ChatServerOptions, createServer } from "../src/index.js";

/** What {@link clusterFixture} gives a test file. */
export interface ClusterFixture {
  /** The file's redis-server (started before its first test). */
  readonly redis: RedisServer;
  /** Clients a test opened: each is closed after the test. */
  readonly open: Array<{ close(): void }>;
  /** A node's Redis options: key `prefix` (one cluster per prefix), quick heartbeats and TTL. */
  nodeRedis(prefix: string): NonNullable<ChatServerOptions["redis"]>;
  /**
   * Starts a node of cluster `prefix` on a free loopback port with `options`; disposing of it
   * closes the server, and then its store when it has one.
   */
  startNode(prefix: string, options?: ChatServerOptions): Promise<ClusterNode>;
}

/** A node started by {@link ClusterFixture.startNode}. */
export interface ClusterNode extends AsyncDisposable {
  readonly server: ChatServer;
  readonly port: number;
}

/**
 * The set-up every cluster test file shares: one real redis-server on a free loopback port for
 * the file, stopped after its tests, and the clients each test opened closed after it. Call it
 * at the top of the file (it registers the hooks).
 */
export function clusterFixture(): ClusterFixture {
  let redis: RedisServer | undefined;
  const open: Array<{ close(): void }> = [];
  beforeAll(async () => {
    redis = await RedisServer.start();
  });
  afterAll(async () => {
    await redis?.[Symbol.asyncDispose]();
  });
  afterEach(() => {
    for (const client of open.splice(0)) client.close();
  });
  return {
    get redis() {
      if (redis === undefined) throw new Error("the redis-server starts before the first test");
      return redis;
    },
    open,
    nodeRedis(prefix) {
      return { url: this.redis.url, prefix, heartbeatMs: 200, nodeTtlMs: 1000 };
    },
    async startNode(prefix, options = {}) {
      const server = createServer({ ...options, redis: this.nodeRedis(prefix) });
      const { port } = await server.listen(0, "127.0.0.1");
      return {
        server,
        port,
        async [Symbol.asyncDispose]() {
          await server.close({ graceMs: 200 });
          options.store?.close();
        },
      };
    },
  };
}
