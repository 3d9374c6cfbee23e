import { randomBytes } from "node:crypto";
import { createClient } from "redis";
import { ChatError, type ChatErrorCode } from "../errors.js";
import type { DmFrame, ServerFrame } from "../protocol/frames.js";
import type { RoomBus } from "../session/bus.js";
import { coveredBy } from "./ban-kicks.js";
import { ClusterBans } from "./ban-sync.js";
import { type Envelope, encodeEnvelope } from "./envelope.js";
import { ClusterMessageIds, NODE_SLOTS } from "./message-ids.js";
import { NickMirror } from "./nick-mirror.js";
import { readLiveNodes, writeHeartbeat } from "./presence.js";
import { backfillRoom, type LogMark } from "./room-backfill.js";
import { RoomLog } from "./room-log.js";
import { type ClusterRoom, RoomReceiver } from "./room-receiver.js";
import {
  ADD_MEMBER,
  CLAIM_SLOT,
  PRUNE_ROOM,
  PUBLISH_BATCH,
  RELEASE_SLOT,
  REMOVE_MEMBER,
} from "./scripts.js";
import { ClusterTopics } from "./topic-sync.js";
import type { ClusterHub, ClusterNodeInfo, ClusterOptions, ClusterStats } from "./types.js";

export type { ClusterHub, ClusterNodeInfo, ClusterOptions, ClusterStats } from "./types.js";

type Client = ReturnType<typeof createClient>;

const DEFAULT_HEARTBEAT_MS = 1000;
const DEFAULT_NODE_TTL_MS = 3000;
const DEFAULT_STREAM_MAX_LEN = 10_000;
/** How long a kick waits for the node that holds the nick to answer, in ms. */
const KICK_TIMEOUT_MS = 2000;
/**
 * A node of a tcpchat cluster on Redis: the {@link RoomBus} of a hub.
 *
 * - Rooms: a channel per room, subscribed only while the room has members here. A room's batch
 *   goes through one script that gives it the next place in the room's sequence, adds it to
 *   the room's capped stream and publishes it (Centrifugo's broker). Every node, the publisher
 *   included, hears it; the publisher already wrote it to its own members and only notes the
 *   position. A gap in the sequence, or a reconnect, is filled from the stream in order;
 *   re-sent batches are dropped by their (node, batch) counter.
 * - Presence: each node refreshes a heartbeat key with a TTL; members and nicks in Redis name
 *   their node, and when a node's key expires the others drop its members and tell theirs.
 * - Nicks: a hash of nick -> node, claimed by a script that lets a live holder keep it, mirrored
 *   on every node through a channel so that the hub's checks stay synchronous.
 * - DMs: published on the channel of the node that holds the target, and nowhere else.
 * - Bans: operator bans are shared through a hash and a channel (see {@link ClusterBans}).
 */
export class RedisCluster implements RoomBus {
  readonly nodeId: string;
  private readonly url: string;
  private readonly prefix: string;
  private readonly heartbeatMs: number;
  private readonly nodeTtlMs: number;
  private readonly streamMaxLen: number;
  private readonly client: Client;
  private readonly sub: Client;
  private hub: ClusterHub | undefined;
  private readonly rooms = new Map<string, ClusterRoom>();
  private readonly nicks: NickMirror;
  /** Batches not yet acknowledged by Redis, in order; the first `sent` are in flight. */
  private readonly outbox: Array<{ room: ClusterRoom; text: string }> = [];
  private sent = 0;
  /** Bumped when Redis is lost: replies from before are ignored and the outbox is re-sent. */
  private generation = 0;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private readonly startedAt = Date.now();
  private closed = false;
  /** Set once both connections are up: from then on a lost connection is retried. */
  private started = false;
  private connectedOnce = false;
  private subscribedOnce = false;
  readonly stats: ClusterStats = {
    published: 0,
    received: 0,
    dmsReceived: 0,
    dmsKept: 0,
    recovered: 0,
    lost: 0,
    outbox: 0,
    redisLagMs: 0,
    reconnects: 0,
  };
  private readonly describe: () => { connections: number };
  private lastNodes: ClusterNodeInfo[] = [];
  /** This node's batch counter (for every room: what receivers drop re-sent batches by). */
  private nextBatch = 0;
  /** Rooms whose channel is being left (their UNSUBSCRIBE not answered yet). */
  private readonly unsubscribing = new Map<string, Promise<void>>();
  /** Where a room's batches from its channel and its stream are applied, in sequence. */
  private readonly receiver: RoomReceiver;
  /** Operator bans shared with the other nodes (the server links its accept policy here). */
  readonly bans: ClusterBans;
  /** Room topics shared with the other nodes (the server links its topics here). */
  readonly topics: ClusterTopics;
  /** Kicks sent to other nodes, waiting for their answer: request id -> settle. */
  private readonly kicks = new Map<number, (nick: string | null) => void>();
  /** Addresses asked of the nodes that hold nicks (`/ban NICK`): request id -> settle. */
  private readonly addressAsks = new Map<
    number,
    (found: { nick: string; address: string } | null) => void
  >();
  /** `/ban --kick` requests sent to the other nodes: request id -> one answer counted. */
  private readonly coverKicks = new Map<number, (node: string, count: number) => void>();
  private nextKick = 0;
  /** This node's message ids, unique across the cluster (its slot is claimed in `start`). */
  readonly messageIds = new ClusterMessageIds(0);
  private readonly backfillBatches: number;
  private slotClaimed = false;
  /** Where each room's log stood when its last member here left (a later backfill starts there). */
  private readonly marks = new Map<string, LogMark>();

  constructor(options: ClusterOptions) {
    this.nodeId = randomBytes(4).toString("hex");
    this.url = options.url;
    this.prefix = options.prefix ?? "tcpchat";
    this.heartbeatMs = options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
    this.nodeTtlMs = options.nodeTtlMs ?? DEFAULT_NODE_TTL_MS;
    this.streamMaxLen = options.streamMaxLen ?? DEFAULT_STREAM_MAX_LEN;
    this.backfillBatches = options.backfillBatches ?? this.streamMaxLen;
    this.describe = options.describe ?? (() => ({ connections: 0 }));
    this.client = createClient({
      url: options.url,
      // Commands are not queued while Redis is away: the outbox keeps batches in order itself.
      disableOfflineQueue: true,
      socket: {
        // Lost after start: retried for as long as it takes. Unreachable at start: start fails.
        reconnectStrategy: (retries, cause) =>
          this.started ? Math.min(50 * (retries + 1), 500) : cause,
      },
    });
    this.sub = this.client.duplicate();
    this.nicks = new NickMirror({
      client: this.client,
      nodeId: this.nodeId,
      nicksKey: this.key("nicks"),
      nodeKeyPrefix: this.key("node:"),
      lost: (key) => this.hub?.nickLost(key),
    });
    // Errors are reported by the commands that fail; a lost connection is retried.
    this.client.on("error", () => {});
    this.sub.on("error", () => {});
    this.bans = new ClusterBans({
      client: this.client,
      nodeId: this.nodeId,
      hashKey: this.key("bans"),
      channel: this.key("bans:changes"),
    });
    this.topics = new ClusterTopics({
      client: this.client,
      nodeId: this.nodeId,
      hashKey: this.key("topics"),
      channel: this.key("topics:changes"),
    });
    this.receiver = new RoomReceiver({
      nodeId: this.nodeId,
      stats: this.stats,
      hub: () => this.hub,
      readPosition: async (roomKey) => {
        const [epoch, seq] = await this.client.hmGet(this.roomKey(roomKey, "meta"), [
          "epoch",
          "seq",
        ]);
        return [epoch ?? null, seq ?? null];
      },
      readLog: (roomKey, from, to, count) =>
        this.client.xRange(this.roomKey(roomKey, "log"), from, to, { COUNT: count }),
    });
    this.client.on("ready", () => this.clientReady());
    this.sub.on("ready", () => this.subReady());
  }

  /** Connects to Redis and starts the heartbeat. Rejects when Redis cannot be reached. */
  async start(hub: ClusterHub): Promise<void> {
    this.hub = hub;
    try {
      await this.client.connect();
      await this.sub.connect();
    } catch (error) {
      this.client.destroy();
      this.sub.destroy();
      throw new ChatError("CHAT_ERR_REDIS_UNREACHABLE", {
        message: `Cannot reach Redis at ${this.url}: ${(error as Error).message}.`,
        cause: error,
      });
    }
    this.started = true;
    const slot = await this.claimSlot();
    if (slot < 0) {
      this.client.destroy();
      this.sub.destroy();
      throw new ChatError("CHAT_ERR_CLUSTER_FULL");
    }
    await this.heartbeat();
    await this.sub.subscribe(this.key("nicks"), (text) => this.nicks.heard(text));
    await this.sub.subscribe(this.key(`node:${this.nodeId}:dm`), (text) => this.dmMessage(text));
    await this.nicks.load();
    await this.sub.subscribe(this.key("bans:changes"), (text) => this.bans.heard(text));
    await this.bans.load();
    await this.sub.subscribe(this.key("topics:changes"), (text) => this.topics.heard(text));
    this.heartbeatTimer = setInterval(
      () => void this.heartbeat().catch(() => {}),
      this.heartbeatMs,
    );
    this.heartbeatTimer.unref();
  }

  /** Leaves the cluster: frees this node's nicks and members at once, then disconnects. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.heartbeatTimer);
    try {
      if (this.client.isReady) {
        await this.drainOutbox(2000);
        await this.nicks.releaseAll();
        for (const room of this.rooms.values()) {
          for (const nick of room.local.keys())
            await this.removeMember(room.key, nick, this.nodeId);
        }
        await this.client.del(this.key(`node:${this.nodeId}`));
        await this.client.eval(RELEASE_SLOT, {
          keys: [this.key(`slot:${this.messageIds.slot}`)],
          arguments: [this.nodeId],
        });
        await this.client.sRem(this.key("nodes"), this.nodeId);
      }
    } catch {
      // Redis went away while leaving: the heartbeat's TTL cleans up instead.
    }
    this.client.destroy();
    this.sub.destroy();
  }

  /** The live nodes as of the last heartbeat (refreshed every `heartbeatMs`). */
  knownNodes(): readonly ClusterNodeInfo[] {
    return this.lastNodes;
  }

  /** The live nodes of the cluster (from their heartbeat keys). */
  nodes(): Promise<ClusterNodeInfo[]> {
    return readLiveNodes(
      this.client,
      this.key("nodes"),
      (id) => this.key(`node:${id}`),
      this.nodeId,
    );
  }

  // RoomBus

  roomOpened(roomKey: string, roomName: string): void {
    const room: ClusterRoom = {
      key: roomKey,
      name: roomName,
      log: new RoomLog(),
      remote: new Map(),
      local: new Map(),
      pendingMembers: [],
      waiting: [],
      ready: false,
      heard: false,
      closed: false,
      backfill: undefined,
      listener: (text) => this.receiver.heard(room, text),
    };
    this.rooms.set(roomKey, room);
    const subscribed = this.subscribeRoom(room);
    if (this.hub?.keepsHistory === true) {
      room.backfill = subscribed.finally(() => {
        room.backfill = undefined;
      });
    }
  }

  historyPending(roomKey: string): Promise<void> | undefined {
    return this.rooms.get(roomKey)?.backfill;
  }

  roomClosed(roomKey: string): void {
    const room = this.rooms.get(roomKey);
    if (room === undefined) return;
    room.closed = true;
    this.rooms.delete(roomKey);
    if (room.log.epoch !== "")
      this.marks.set(roomKey, { epoch: room.log.epoch, seq: room.log.seq });
    this.unsubscribeRoom(room);
  }

  publish(roomKey: string, frames: readonly ServerFrame[]): void {
    const room = this.rooms.get(roomKey);
    if (room === undefined) return;
    this.enqueue(room, [...frames]);
  }

  memberChanged(roomKey: string, nick: string, joined: boolean): void {
    const room = this.rooms.get(roomKey);
    if (room === undefined) return;
    const count = room.local.get(nick) ?? 0;
    if (joined) room.local.set(nick, count + 1);
    else if (count <= 1) room.local.delete(nick);
    else room.local.set(nick, count - 1);
    room.pendingMembers.push(`${joined ? "+" : "-"}${nick}`);
    if (room.pendingMembers.length === 1) setImmediate(() => this.flushMembers(room));
    if (!this.client.isReady) return;
    const done = joined
      ? this.addMember(roomKey, nick)
      : this.removeMember(roomKey, nick, this.nodeId);
    void done.catch(() => {});
  }

  remoteMembers(roomKey: string): Iterable<string> {
    return this.rooms.get(roomKey)?.remote.keys() ?? [];
  }

  /**
   * Whether every room open here has applied every batch Redis holds for it (the room's
   * position here is its position in Redis): what a probe, or a test between two steps, waits
   * for before it expects another node's batches to have reached the members here. One HMGET
   * per open room.
   */
  async caughtUp(): Promise<boolean> {
    for (const room of this.rooms.values()) {
      if (room.closed) continue;
      if (!room.ready) return false;
      const [epoch, seq] = await this.client.hmGet(this.roomKey(room.key, "meta"), [
        "epoch",
        "seq",
      ]);
      if ((epoch ?? "") !== room.log.epoch || Number(seq ?? 0) > room.log.seq) return false;
    }
    return true;
  }

  remoteCount(roomKey: string): number {
    return this.rooms.get(roomKey)?.remote.size ?? 0;
  }

  remoteNick(nickKey: string): string | undefined {
    return this.nicks.remote(nickKey)?.nick;
  }

  remoteLookalike(nick: string, nickKey: string): string | undefined {
    return this.nicks.remoteLookalike(nick, nickKey);
  }

  nickChanged(oldKey: string | null, nick: string | null, nickKey: string | null): void {
    const oldNick = this.nicks.changed(oldKey, nick, nickKey);
    if (nick !== null && oldNick !== undefined) this.renameMember(oldNick, nick);
  }

  async lookupRoom(roomKey: string): Promise<{ name: string; nicks: string[] } | null> {
    const [name, members] = await Promise.all([
      this.client.hGet(this.roomKey(roomKey, "meta"), "name"),
      this.client.hGetAll(this.roomKey(roomKey, "members")),
    ]);
    const nicks = Object.keys(members);
    return nicks.length === 0 ? null : { name: name ?? roomKey, nicks };
  }

  async listRooms(): Promise<Array<{ name: string; members: number }>> {
    const keys = await this.client.sMembers(this.key("rooms"));
    const rooms = await Promise.all(
      keys.map(async (key) => {
        const [name, members] = await Promise.all([
          this.client.hGet(this.roomKey(key, "meta"), "name"),
          this.client.hLen(this.roomKey(key, "members")),
        ]);
        if (members === 0) {
          // Emptied everywhere: dropped from the list, unless a member arrives meanwhile.
          void this.client
            .eval(PRUNE_ROOM, {
              keys: [this.roomKey(key, "members"), this.key("rooms")],
              arguments: [key],
            })
            .catch(() => {});
        }
        return { name: name ?? key, members };
      }),
    );
    return rooms.filter((room) => room.members > 0).sort((a, b) => a.name.localeCompare(b.name));
  }

  sendDm(toKey: string, frame: DmFrame, fromAccount?: string): boolean {
    const holder = this.nicks.remote(toKey);
    if (holder === undefined || !this.client.isReady) return false;
    const channel = this.key(`node:${holder.node}:dm`);
    const message: DmMessage = {
      to: toKey,
      frame,
      ...(fromAccount === undefined ? {} : { from: this.nodeId, fromAccount }),
    };
    void this.client.publish(channel, JSON.stringify(message)).catch(() => {});
    return true;
  }

  // Publishing

  private enqueue(room: ClusterRoom, frames: ServerFrame[]): void {
    // One counter for the node, not per room object: a room that empties here and fills again
    // is a new object, and its batches must still count up for the nodes that remember it.
    const envelope: Envelope = { origin: this.nodeId, batch: ++this.nextBatch, frames };
    if (room.pendingMembers.length > 0) {
      envelope.members = room.pendingMembers;
      room.pendingMembers = [];
    }
    this.outbox.push({ room, text: encodeEnvelope(envelope) });
    this.stats.outbox = this.outbox.length;
    this.pump();
  }

  /** Membership changes that no batch carried this turn go out on their own. */
  private flushMembers(room: ClusterRoom): void {
    if (room.pendingMembers.length > 0) this.enqueue(room, []);
  }

  /**
   * Sends what the outbox holds, in order, pipelined. Batches are acknowledged in order; when
   * Redis is lost, everything not acknowledged is sent again once it is back (a batch Redis took
   * but whose reply was lost is then dropped by receivers as a duplicate).
   */
  private pump(): void {
    if (!this.client.isReady) return;
    const generation = this.generation;
    while (this.sent < this.outbox.length) {
      const item = this.outbox[this.sent]!;
      // A room's first batches wait for its subscription, so that this node hears its own
      // batches and a gap means a batch from elsewhere; the outbox stays in order behind them.
      if (!item.room.ready) return;
      this.sent += 1;
      this.client
        .eval(PUBLISH_BATCH, {
          keys: [
            this.roomKey(item.room.key, "meta"),
            this.roomKey(item.room.key, "log"),
            this.roomKey(item.room.key, "channel"),
          ],
          arguments: [item.text, String(this.streamMaxLen), newEpoch()],
        })
        .then(
          () => {
            if (generation !== this.generation) return;
            this.outbox.shift();
            this.sent -= 1;
            this.stats.published += 1;
            this.stats.outbox = this.outbox.length;
          },
          () => {
            if (generation !== this.generation) return;
            this.generation += 1;
            this.sent = 0;
            // Not a lost connection (a script error): try again shortly rather than spin.
            if (this.client.isReady) setTimeout(() => this.pump(), 100).unref();
          },
        );
    }
  }

  private async drainOutbox(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.outbox.length > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  // Receiving

  private async subscribeRoom(room: ClusterRoom): Promise<void> {
    try {
      // A room reopened while its channel is being left: a SUBSCRIBE sent before the UNSUBSCRIBE
      // is answered would be undone by it, so the new one waits.
      await this.unsubscribing.get(room.key);
      // The position is read before subscribing: anything published in between shows as a gap.
      const [epoch, seq] = await this.client.hmGet(this.roomKey(room.key, "meta"), [
        "epoch",
        "seq",
      ]);
      room.log.start(epoch ?? "", Number(seq ?? 0));
      // Its name as people spell it, for nodes that look it up without holding it.
      void this.client.hSet(this.roomKey(room.key, "meta"), "name", room.name).catch(() => {});
      await this.sub.subscribe(this.roomKey(room.key, "channel"), room.listener);
      // Closed while subscribing: roomClosed found nothing to unsubscribe yet.
      if (room.closed) this.unsubscribeRoom(room);
      const members = await this.client.hGetAll(this.roomKey(room.key, "members"));
      for (const [nick, node] of Object.entries(members)) {
        if (node !== this.nodeId) room.remote.set(nick, node);
      }
      await backfillRoom(room, {
        nodeId: this.nodeId,
        hub: this.hub,
        maxBatches: this.backfillBatches,
        mark: this.marks.get(room.key),
        readNewest: async (key) => {
          const newest = await this.client.xRevRange(this.roomKey(key, "log"), "+", "-", {
            COUNT: 1,
          });
          return newest?.[0] ?? null;
        },
        readLog: (key, from, to, count) =>
          this.client.xRange(this.roomKey(key, "log"), from, to, { COUNT: count }),
      });
    } catch {
      // Redis is away: subReady catches this room up when it is back.
    }
    room.ready = true;
    this.receiver.release(room);
    this.pump();
  }

  private unsubscribeRoom(room: ClusterRoom): void {
    if (!this.sub.isReady) return;
    const done = this.sub
      .unsubscribe(this.roomKey(room.key, "channel"), room.listener)
      .catch(() => {});
    this.unsubscribing.set(room.key, done);
    void done.then(() => {
      if (this.unsubscribing.get(room.key) === done) this.unsubscribing.delete(room.key);
    });
  }

  /** Redis is back for the subscriber: every room catches up from where it stopped. */
  private subReady(): void {
    if (!this.subscribedOnce) {
      this.subscribedOnce = true;
      return;
    }
    for (const room of this.rooms.values()) {
      if (room.waiting !== null) continue;
      room.waiting = [];
      void this.receiver.resync(room).finally(() => this.receiver.release(room));
    }
  }

  /** Redis is back for commands: re-register what a Redis that lost its data forgot. */
  private clientReady(): void {
    if (!this.connectedOnce) {
      this.connectedOnce = true;
      return;
    }
    this.stats.reconnects += 1;
    this.generation += 1;
    this.sent = 0;
    void (async () => {
      await this.heartbeat();
      await this.nicks.reclaimAll();
      await this.bans.restore();
      await this.topics.restore();
      for (const room of this.rooms.values()) {
        for (const nick of room.local.keys()) {
          await this.addMember(room.key, nick);
          room.pendingMembers.push(`+${nick}`);
        }
      }
    })()
      .catch(() => {})
      .finally(() => {
        for (const room of this.rooms.values()) this.flushMembers(room);
        this.pump();
      });
  }

  // Presence

  /**
   * Claims (or renews) this node's slot for message ids; -1 when all are held. A node that lost
   * its slot while Redis was away (another took it) moves to a free one: its ids stay unique,
   * since they keep growing whatever the slot.
   */
  private async claimSlot(): Promise<number> {
    const slot = Number(
      await this.client.eval(CLAIM_SLOT, {
        arguments: [
          this.key("slot:"),
          this.nodeId,
          String(this.nodeTtlMs),
          String(NODE_SLOTS),
          String(this.slotClaimed ? this.messageIds.slot : -1),
        ],
      }),
    );
    if (slot >= 0) {
      this.messageIds.slot = slot;
      this.slotClaimed = true;
    }
    return slot;
  }

  private async heartbeat(): Promise<void> {
    const started = Date.now();
    await this.claimSlot();
    const info = { ...this.describe(), startedAt: this.startedAt };
    await writeHeartbeat(this.client, this.key("nodes"), this.key(`node:${this.nodeId}`), {
      nodeId: this.nodeId,
      info,
      ttlMs: this.nodeTtlMs,
    });
    this.stats.redisLagMs = Date.now() - started;
    await this.reapDeadNodes();
    this.lastNodes = await this.nodes();
  }

  /** Nodes whose heartbeat expired: their members leave every room here, their nicks free. */
  private async reapDeadNodes(): Promise<void> {
    const nodes = new Set<string>();
    for (const room of this.rooms.values())
      for (const node of room.remote.values()) nodes.add(node);
    for (const node of this.nicks.remoteNodes()) nodes.add(node);
    for (const node of nodes) {
      if ((await this.client.exists(this.key(`node:${node}`))) === 1) continue;
      this.nodeGone(node);
      await this.client.sRem(this.key("nodes"), node);
    }
  }

  private nodeGone(node: string): void {
    const now = Date.now();
    for (const room of this.rooms.values()) {
      const frames: ServerFrame[] = [];
      for (const [nick, holder] of room.remote) {
        if (holder !== node) continue;
        room.remote.delete(nick);
        frames.push({ type: "part", ts: now, room: room.name, nick, reason: "node lost" });
        void this.removeMember(room.key, nick, node).catch(() => {});
      }
      room.log.forgetOrigin(node);
      if (frames.length > 0) this.hub?.deliverRemote(room.key, frames);
    }
    this.nicks.nodeGone(node);
  }

  private addMember(roomKey: string, nick: string): Promise<unknown> {
    return this.client.eval(ADD_MEMBER, {
      keys: [this.roomKey(roomKey, "members"), this.key("rooms")],
      arguments: [nick, this.nodeId, roomKey],
    });
  }

  private removeMember(roomKey: string, nick: string, node: string): Promise<unknown> {
    return this.client.eval(REMOVE_MEMBER, {
      keys: [this.roomKey(roomKey, "members")],
      arguments: [nick, node],
    });
  }

  private renameMember(oldNick: string, nick: string): void {
    for (const room of this.rooms.values()) {
      if (!room.local.has(oldNick)) continue;
      this.memberChanged(room.key, oldNick, false);
      this.memberChanged(room.key, nick, true);
    }
  }

  /**
   * Kicks a nick held on another node: asks that node (on its own channel, as a DM goes) and
   * resolves with the nick as it was spelt there once it answers, or null when no node holds it,
   * it is gone there, or no answer comes within `timeoutMs`.
   */
  kickRemote(
    nickKey: string,
    code: ChatErrorCode,
    reason: string | undefined,
    timeoutMs = KICK_TIMEOUT_MS,
  ): Promise<string | null> {
    const holder = this.nicks.remote(nickKey);
    if (holder === undefined || !this.client.isReady) return Promise.resolve(null);
    const id = ++this.nextKick;
    return new Promise((resolve) => {
      const timer = setTimeout(() => settle(null), timeoutMs);
      const settle = (nick: string | null) => {
        clearTimeout(timer);
        this.kicks.delete(id);
        resolve(nick);
      };
      this.kicks.set(id, settle);
      const request: KickRequest = { kick: { id, from: this.nodeId, nickKey, code, reason } };
      void this.client
        .publish(this.key(`node:${holder.node}:dm`), JSON.stringify(request))
        .catch(() => settle(null));
    });
  }

  /**
   * The peer address of a nick held on another node (for `/ban NICK`): asks that node, on its
   * own channel as a kick goes; null when no node holds it, it is gone there, or no answer comes
   * within `timeoutMs`.
   */
  remoteAddress(
    nickKey: string,
    timeoutMs = KICK_TIMEOUT_MS,
  ): Promise<{ nick: string; address: string } | null> {
    const holder = this.nicks.remote(nickKey);
    if (holder === undefined || !this.client.isReady) return Promise.resolve(null);
    const id = ++this.nextKick;
    return new Promise((resolve) => {
      const timer = setTimeout(() => settle(null), timeoutMs);
      const settle = (found: { nick: string; address: string } | null) => {
        clearTimeout(timer);
        this.addressAsks.delete(id);
        resolve(found);
      };
      this.addressAsks.set(id, settle);
      const request: AddressRequest = { addressOf: { id, from: this.nodeId, nickKey } };
      void this.client
        .publish(this.key(`node:${holder.node}:dm`), JSON.stringify(request))
        .catch(() => settle(null));
    });
  }

  /**
   * `/ban --kick` for the other nodes: asks every live node (on its own channel, as a kick of a
   * nick goes) to disconnect its sessions that `target` covers, and resolves with how many they
   * disconnected once every node answered, or with those that answered within `timeoutMs`.
   */
  async kickCovered(
    target: string,
    code: ChatErrorCode,
    reason: string | undefined,
    timeoutMs = KICK_TIMEOUT_MS,
  ): Promise<number> {
    if (!this.client.isReady) return 0;
    const nodes = (await this.nodes()).filter((node) => !node.self).map((node) => node.id);
    if (nodes.length === 0) return 0;
    const id = ++this.nextKick;
    const waiting = new Set(nodes);
    let total = 0;
    return new Promise((resolve) => {
      const finish = () => {
        clearTimeout(timer);
        this.coverKicks.delete(id);
        resolve(total);
      };
      const timer = setTimeout(finish, timeoutMs);
      this.coverKicks.set(id, (node, count) => {
        if (!waiting.delete(node)) return;
        total += count;
        if (waiting.size === 0) finish();
      });
      const request: CoverKickRequest = {
        kickCovered: { id, from: this.nodeId, target, code, reason },
      };
      const text = JSON.stringify(request);
      for (const node of nodes) {
        void this.client.publish(this.key(`node:${node}:dm`), text).then(
          // Nobody listens there (the node just left): it has nothing to answer.
          (listeners) => {
            if (listeners === 0) this.coverKicks.get(id)?.(node, 0);
          },
          () => this.coverKicks.get(id)?.(node, 0),
        );
      }
    });
  }

  // Direct messages (and kicks: the same channel, to the node that holds the nick)

  private dmMessage(text: string): void {
    let message: Partial<
      DmMessage &
        DmKept &
        KickRequest &
        KickAnswer &
        CoverKickRequest &
        CoverKickAnswer &
        AddressRequest &
        AddressAnswer
    >;
    try {
      message = JSON.parse(text);
    } catch {
      return;
    }
    if (message.kick !== undefined) return this.kickAsked(message.kick);
    if (message.kickCovered !== undefined) return this.kickCoveredAsked(message.kickCovered);
    if (message.addressOf !== undefined) {
      const { id, from, nickKey } = message.addressOf;
      const answer: AddressAnswer = {
        addressIs: { id, found: this.hub?.addressOf(nickKey) ?? null },
      };
      void this.client.publish(this.key(`node:${from}:dm`), JSON.stringify(answer)).catch(() => {});
      return;
    }
    if (message.addressIs !== undefined) {
      this.addressAsks.get(message.addressIs.id)?.(message.addressIs.found);
      return;
    }
    if (message.coverKicked !== undefined) {
      const { id, node, count } = message.coverKicked;
      this.coverKicks.get(id)?.(node, count);
      return;
    }
    if (message.kicked !== undefined) {
      this.kicks.get(message.kicked.id)?.(message.kicked.nick);
      return;
    }
    if (message.dmKept !== undefined) {
      const { frame, fromAccount, toAccount } = message.dmKept;
      this.stats.dmsKept += 1;
      this.hub?.recordSentDm(frame, fromAccount, toAccount);
      return;
    }
    if (typeof message.to !== "string" || message.frame === undefined) return;
    this.stats.dmsReceived += 1;
    const { fromAccount, from } = message;
    const toAccount = this.hub?.deliverDm(message.to, message.frame, fromAccount);
    // Delivered between two accounts: stored here, and the sender's node stores it too.
    if (typeof toAccount !== "string" || fromAccount === undefined || from === undefined) return;
    const kept: DmKept = { dmKept: { frame: message.frame, fromAccount, toAccount } };
    void this.client.publish(this.key(`node:${from}:dm`), JSON.stringify(kept)).catch(() => {});
  }

  /** Another node's operator kicks a nick held here: done, and the answer goes back. */
  private kickAsked(request: KickRequest["kick"]): void {
    const nick = this.hub?.kickLocal(request.nickKey, request.code, request.reason) ?? null;
    const answer: KickAnswer = { kicked: { id: request.id, nick } };
    void this.client
      .publish(this.key(`node:${request.from}:dm`), JSON.stringify(answer))
      .catch(() => {});
  }

  /** Another node's `/ban --kick`: the sessions here that the ban covers go, and the count goes back. */
  private kickCoveredAsked(request: CoverKickRequest["kickCovered"]): void {
    const pick = coveredBy(request.target);
    const count =
      pick === undefined
        ? 0
        : (this.hub?.disconnectAddresses(pick, request.code, request.reason) ?? 0);
    const answer: CoverKickAnswer = { coverKicked: { id: request.id, node: this.nodeId, count } };
    void this.client
      .publish(this.key(`node:${request.from}:dm`), JSON.stringify(answer))
      .catch(() => {});
  }

  // Keys

  private key(name: string): string {
    return `${this.prefix}:${name}`;
  }

  private roomKey(roomKey: string, part: "meta" | "log" | "channel" | "members"): string {
    return `${this.prefix}:room:${roomKey}:${part}`;
  }
}

/** A DM, to the node that holds its target. `from` and `fromAccount`: a logged-in sender. */
interface DmMessage {
  to: string;
  frame: DmFrame;
  from?: string;
  fromAccount?: string;
}

/** The receiving node's word that it delivered a DM to a logged-in recipient (and stored it). */
interface DmKept {
  dmKept: { frame: DmFrame; fromAccount: string; toAccount: string };
}

/** A kick sent to the node that holds the nick. */
interface KickRequest {
  kick: {
    id: number;
    from: string;
    nickKey: string;
    code: ChatErrorCode;
    reason: string | undefined;
  };
}

/** The answer: the nick kicked as it was spelt there, or null when it was not found. */
interface KickAnswer {
  kicked: { id: number; nick: string | null };
}

/** `/ban NICK` of a nick held on another node: that node is asked the session's address. */
interface AddressRequest {
  addressOf: { id: number; from: string; nickKey: string };
}

/** The answer: the nick as spelt there and its peer address, or null when it is not there. */
interface AddressAnswer {
  addressIs: { id: number; found: { nick: string; address: string } | null };
}

/** `/ban --kick` sent to every other node: disconnect the sessions `target` covers. */
interface CoverKickRequest {
  kickCovered: {
    id: number;
    from: string;
    target: string;
    code: ChatErrorCode;
    reason: string | undefined;
  };
}

/** A node's answer to a {@link CoverKickRequest}: how many it disconnected. */
interface CoverKickAnswer {
  coverKicked: { id: number; node: string; count: number };
}

/** A new epoch for a room's log that starts now (used only if the log does not exist). */
function newEpoch(): string {
  return randomBytes(6).toString("hex");
}
