import { randomBytes } from "node:crypto";
import { createClient } from "redis";
import { ChatError } from "../errors.js";
import type { ServerFrame } from "../protocol/frames.js";
import type { RoomBus } from "../session/bus.js";
import {
  decodeEnvelope,
  decodePublished,
  type Envelope,
  encodeEnvelope,
  type Sequenced,
} from "./envelope.js";
import { NickMirror } from "./nick-mirror.js";
import { readLiveNodes, writeHeartbeat } from "./presence.js";
import { RoomLog } from "./room-log.js";
import { PUBLISH_BATCH, REMOVE_MEMBER } from "./scripts.js";
import type { ClusterHub, ClusterNodeInfo, ClusterOptions, ClusterStats } from "./types.js";

export type { ClusterHub, ClusterNodeInfo, ClusterOptions, ClusterStats } from "./types.js";

/** This node's view of one room it has members in. */
interface ClusterRoom {
  key: string;
  name: string;
  log: RoomLog;
  /** Members on other nodes: nick -> node id. */
  remote: Map<string, string>;
  /** Members here (nicks), sent to other nodes as `+nick` and `-nick` in the next batch. */
  local: Map<string, number>;
  pendingMembers: string[];
  /** Batches arriving while the room catches up, applied after it. */
  waiting: Sequenced[] | null;
  /** Whether a batch was heard since the room opened here (what was missed before is not ours). */
  heard: boolean;
  /** Subscribed (or failed to be): its batches may be published, the node will hear them. */
  ready: boolean;
  closed: boolean;
  /** Its listener on the room's channel (removed alone: a reopened room has its own). */
  listener: (text: string) => void;
}

type Client = ReturnType<typeof createClient>;

const DEFAULT_HEARTBEAT_MS = 1000;
const DEFAULT_NODE_TTL_MS = 3000;
const DEFAULT_STREAM_MAX_LEN = 10_000;
/** Batches fetched per XRANGE while catching up. */
const CATCH_UP_PAGE = 500;

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

  constructor(options: ClusterOptions) {
    this.nodeId = randomBytes(4).toString("hex");
    this.url = options.url;
    this.prefix = options.prefix ?? "tcpchat";
    this.heartbeatMs = options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
    this.nodeTtlMs = options.nodeTtlMs ?? DEFAULT_NODE_TTL_MS;
    this.streamMaxLen = options.streamMaxLen ?? DEFAULT_STREAM_MAX_LEN;
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
    await this.heartbeat();
    await this.sub.subscribe(this.key("nicks"), (text) => this.nicks.heard(text));
    await this.sub.subscribe(this.key(`node:${this.nodeId}:dm`), (text) => this.dmMessage(text));
    await this.nicks.load();
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
      listener: (text) => this.roomMessage(room, text),
    };
    this.rooms.set(roomKey, room);
    void this.subscribeRoom(room);
  }

  roomClosed(roomKey: string): void {
    const room = this.rooms.get(roomKey);
    if (room === undefined) return;
    room.closed = true;
    this.rooms.delete(roomKey);
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
    const members = this.roomKey(roomKey, "members");
    const done = joined
      ? this.client.hSet(members, nick, this.nodeId)
      : this.removeMember(roomKey, nick, this.nodeId);
    void done.catch(() => {});
  }

  remoteMembers(roomKey: string): Iterable<string> {
    return this.rooms.get(roomKey)?.remote.keys() ?? [];
  }

  remoteCount(roomKey: string): number {
    return this.rooms.get(roomKey)?.remote.size ?? 0;
  }

  remoteNick(nickKey: string): string | undefined {
    return this.nicks.remote(nickKey)?.nick;
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

  sendDm(toKey: string, frame: ServerFrame): boolean {
    const holder = this.nicks.remote(toKey);
    if (holder === undefined || !this.client.isReady) return false;
    const channel = this.key(`node:${holder.node}:dm`);
    void this.client.publish(channel, JSON.stringify({ to: toKey, frame })).catch(() => {});
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
    } catch {
      // Redis is away: subReady catches this room up when it is back.
    }
    room.ready = true;
    this.release(room);
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

  private roomMessage(room: ClusterRoom, text: string): void {
    if (room.closed) return;
    const batch = decodePublished(text);
    if (batch === null) return;
    if (room.waiting !== null) {
      room.waiting.push(batch);
      return;
    }
    this.apply(room, batch);
  }

  /** Applies a batch in sequence, or starts a catch-up when batches before it are missing. */
  private apply(room: ClusterRoom, batch: Sequenced): void {
    if (!room.heard) {
      // The first batch since the room opened here: what the log has before it was published
      // before this node's join was, so it belongs to the room's past, not to these members.
      room.heard = true;
      room.log.start(batch.epoch, batch.seq - 1);
    }
    const verdict = room.log.check(batch.epoch, batch.seq);
    if (verdict.kind === "duplicate") return;
    if (verdict.kind === "gap") {
      room.waiting = [batch];
      void this.catchUp(room, batch.epoch, verdict.from, verdict.to).finally(() =>
        this.release(room),
      );
      return;
    }
    this.accept(room, batch);
  }

  /** Takes a batch in sequence; returns whether it came from another node and was new. */
  private accept(room: ClusterRoom, batch: Sequenced): boolean {
    const { envelope } = batch;
    const fresh = room.log.advance(batch.epoch, batch.seq, envelope.origin, envelope.batch);
    if (!fresh || envelope.origin === this.nodeId) return false;
    for (const change of envelope.members ?? []) {
      const nick = change.slice(1);
      if (change.startsWith("+")) room.remote.set(nick, envelope.origin);
      else if (room.remote.get(nick) === envelope.origin) room.remote.delete(nick);
    }
    let frames = envelope.frames;
    if (frames.some((frame) => frame.type === "nick")) {
      // Heard once per shared room: the hub tells each member here once.
      for (const frame of frames)
        if (frame.type === "nick") this.hub?.announceRemoteNick(frame, room.key);
      frames = frames.filter((frame) => frame.type !== "nick");
    }
    if (frames.length > 0) {
      this.stats.received += 1;
      this.hub?.deliverRemote(room.key, frames);
    }
    return true;
  }

  /** Applies the batches that waited for a catch-up, which may start another one. */
  private release(room: ClusterRoom): void {
    const waiting = room.waiting ?? [];
    room.waiting = null;
    for (let i = 0; i < waiting.length; i++) {
      if (room.closed) return;
      this.apply(room, waiting[i]!);
      // apply() may have started another catch-up: the rest waits for it.
      const again = room.waiting as Sequenced[] | null;
      if (again !== null) {
        again.push(...waiting.slice(i + 1));
        return;
      }
    }
  }

  /**
   * Fetches positions `from`..`to` of a room's log from its stream, in order. What the stream
   * no longer has (past its cap, or a log that restarted empty) is counted and the room's
   * members here are told how many batches they missed.
   */
  private async catchUp(room: ClusterRoom, epoch: string, from: number, to: number): Promise<void> {
    let next = from;
    try {
      while (next <= to && !room.closed) {
        const entries = await this.client.xRange(
          this.roomKey(room.key, "log"),
          `${next}-0`,
          `${to}-0`,
          {
            COUNT: CATCH_UP_PAGE,
          },
        );
        if (entries === null || entries.length === 0) break;
        for (const entry of entries) {
          const seq = Number.parseInt(entry.id, 10);
          const envelope = decodeEnvelope(String(entry.message.m));
          if (entry.message.e !== epoch || envelope === null) continue;
          // Members hear what is missing at the place it is missing from.
          if (seq > next) this.reportLost(room, seq - next);
          // Pretend the log was at seq-1 so that accept() takes this one in sequence.
          if (room.log.epoch !== epoch) room.log.start(epoch, seq - 1);
          room.log.seq = Math.max(room.log.seq, seq - 1);
          if (this.accept(room, { epoch, seq, envelope })) this.stats.recovered += 1;
          next = seq + 1;
        }
      }
    } catch {
      // Redis went away again: the reconnect starts another catch-up.
      return;
    }
    if (next <= to && !room.closed) {
      this.reportLost(room, to - next + 1);
      room.log.start(epoch, to);
    }
  }

  /** Tells the room's members here how many batches could not be recovered (Centrifugo's "insufficient state"). */
  private reportLost(room: ClusterRoom, count: number): void {
    this.stats.lost += count;
    this.hub?.deliverRemote(room.key, [
      {
        type: "notice",
        text: `${count} batch${count === 1 ? "" : "es"} of messages in #${room.name} could not be recovered (the cluster's log no longer has them).`,
      },
    ]);
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
      void this.resync(room).finally(() => this.release(room));
    }
  }

  private async resync(room: ClusterRoom): Promise<void> {
    try {
      const [epoch, seq] = await this.client.hmGet(this.roomKey(room.key, "meta"), [
        "epoch",
        "seq",
      ]);
      if (epoch === null || epoch === undefined) return;
      const last = Number(seq ?? 0);
      if (epoch !== room.log.epoch) await this.catchUp(room, epoch, 1, last);
      else if (last > room.log.seq) await this.catchUp(room, epoch, room.log.seq + 1, last);
    } catch {
      // Lost again: the next reconnect retries.
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
      for (const room of this.rooms.values()) {
        for (const nick of room.local.keys()) {
          await this.client.hSet(this.roomKey(room.key, "members"), nick, this.nodeId);
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

  private async heartbeat(): Promise<void> {
    const started = Date.now();
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

  // Direct messages

  private dmMessage(text: string): void {
    try {
      const { to, frame } = JSON.parse(text) as { to: string; frame: ServerFrame };
      this.stats.dmsReceived += 1;
      this.hub?.deliverDm(to, frame);
    } catch {
      // Not a DM of this protocol: ignored.
    }
  }

  // Keys

  private key(name: string): string {
    return `${this.prefix}:${name}`;
  }

  private roomKey(roomKey: string, part: "meta" | "log" | "channel" | "members"): string {
    return `${this.prefix}:room:${roomKey}:${part}`;
  }
}

/** A new epoch for a room's log that starts now (used only if the log does not exist). */
function newEpoch(): string {
  return randomBytes(6).toString("hex");
}
