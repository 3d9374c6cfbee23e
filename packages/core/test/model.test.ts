import { randomBytes, scryptSync } from "node:crypto";
import { connect as tcpConnect } from "node:net";
import { RedisServer, until } from "@tcpchat/testing/redis-server";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import {
  type ChatServer,
  createAcceptPolicy,
  type ManagedAcceptPolicy,
  openSqliteStore,
} from "../src/index.js";
import { DEFAULT_LOGIN_THROTTLE } from "../src/session/login-throttle.js";
import { LineClient, startServer } from "./helpers.js";
import {
  KINDS,
  type Kind,
  ModelClient,
  type ModelTarget,
  overWebSocket,
  speaksText,
} from "./model-client.js";
import { makeCertificate, removeCertificate } from "./peers.js";

/**
 * Model-based test of the hub over real sockets (fast-check `fc.commands`): random interleavings
 * of text, telnet, JSON-line and WebSocket clients, in the clear and inside TLS on the same port,
 * joining, parting, renaming, talking, sending DMs, quitting, closing, resetting and not
 * reading, checked against a small reference model after every step: every open, reading client
 * has heard exactly the events of its rooms, each once and in order, and `/who` counts match the
 * model. The server keeps history (in a cluster, each node its own store, filled with the other
 * nodes' messages through Redis): a client that joins a room first hears the room's last
 * {@link JOIN_HISTORY} messages as history, wherever they were said, and asking for history gets
 * the model's last messages of that room. Topics set on one node are shown on every node. An
 * operator account (on the first node of a cluster) kicks and bans members wherever they are
 * connected: the model knows who is gone and who hears it, what the operator is told, and that
 * a banned address is refused on every node until unbanned. Members of every kind register
 * their nick and log in (from any connection: the nick moves to it, and whoever held it is
 * renamed to a guest nick; a JSON hello that brings a registered nick holds it under the login
 * grace period until someone logs in), are refused a nick registered to another account with
 * its code, and page back their DMs with an account: exactly those sent while both ends were
 * logged in, in order, with their ids, on each end's node (in a cluster the sender's node
 * stores its copy when the recipient's node reports the delivery). Accounts live in each node's
 * store.
 */

const ROOMS = ["lobby", "alpha", "beta"] as const;
// Nicks that are not lookalikes of one another (no digits, no l/I/1 or O/0 pairs).
const NICKS = ["red", "green", "blue", "gold", "pink", "gray", "teal", "navy", "plum", "rust"];
const MAX_CLIENTS = 6;
/** Messages of history a joiner gets (small, so that runs go past it). */
const JOIN_HISTORY = 3;

interface ModelMember {
  kind: Kind;
  nick: string;
  /** Rooms in join order: the last one is the text client's current room after a part. */
  rooms: string[];
  current: string | undefined;
  reading: boolean;
  /** Every event it must have heard, in order. */
  expected: string[];
  /** Connected from {@link OUTSIDER_ADDRESS}: the one address an operator's ban may cover. */
  outsider: boolean;
  /** The server (node of a cluster) it is connected to. */
  node: number;
  /**
   * The account it is logged in to (registered or logged in); kept when the account's owner
   * logs in elsewhere and renames it to a guest nick.
   */
  account: string | undefined;
}

/** A DM a node's store keeps: one sent while both ends were logged in. */
interface StoredDm {
  /** The two accounts, sorted, as one key. */
  conversation: string;
  /** Its id, as the server gave it (heard from the server's `dm` event). */
  id: string;
  from: string;
  to: string;
  text: string;
}

/** The key of the conversation between two accounts (either order). */
function conversation(a: string, b: string): string {
  return a <= b ? `${a} ${b}` : `${b} ${a}`;
}

interface Model {
  members: Map<number, ModelMember>;
  nextId: number;
  nextText: number;
  usedNicks: Set<string>;
  /** Request lines sent so far: the server has acted on a step once it has parsed as many. */
  requests: number;
  /** Every room message so far, by room, as `FROM TEXT` (the sender's nick when it spoke). */
  said: Map<string, string[]>;
  /** Servers the clients are spread over (the nodes of a cluster, or one). */
  nodes: number;
  /** Each room's topic, set by the operator. */
  topics: Map<string, string>;
  /** Whether an operator client is logged in (see {@link openOperator}). */
  operator: boolean;
  /** Whether {@link OUTSIDER_ADDRESS} is banned now. */
  outsiderBanned: boolean;
  /** Accounts registered on each node (each node's store has its own): name -> password. */
  accounts: Array<Map<string, string>>;
  /** The DMs each node's store keeps, in the order they were sent. */
  storedDms: StoredDm[][];
  /**
   * DMs each node stored as the sender's copy when the recipient's node delivered them (a DM
   * between accounts on two nodes of a cluster).
   */
  dmsKept: number[];
  /** The last DM stored: who sent it (a member id), from which account, to which. */
  lastDm: { senderId: number; fromAccount: string; toAccount: string } | undefined;
}

/** The `topic` event a joiner of `room` hears, if the room has a topic. */
function topicOf(model: Model, room: string): string[] {
  const topic = model.topics.get(room);
  return topic === undefined ? [] : [`topic ${room} ${topic}`];
}

/** Whether some member connected to `node` is in `room` (the room is open on that node). */
function openOnNode(model: Model, node: number, room: string): boolean {
  return [...model.members.values()].some((o) => o.node === node && o.rooms.includes(room));
}

/** The `hist` events of a room's last `limit` messages, oldest first. */
function historyOf(model: Model, room: string, limit: number): string[] {
  return (model.said.get(room) ?? []).slice(-limit).map((said) => `hist ${room} ${said}`);
}

interface Real {
  /** One server, or the nodes of a cluster; a client connects to one of them. */
  servers: ChatServer[];
  targets: ModelTarget[];
  clients: Map<number, ModelClient>;
  /** The operator's client (on the first server), in a room of its own. */
  operator: LineClient | undefined;
  /** Each server's accept policy (their operator bans are shared in a cluster). */
  policies: ManagedAcceptPolicy[];
  /** The id each DM got, by its text (texts are unique), from the servers' `dm` events. */
  dmIds: Map<string, string>;
}

function requestsIn(real: Real): number {
  return real.servers.reduce((sum, server) => sum + server.stats().requestsIn, 0);
}

/**
 * In a cluster, every node's mirror of the cluster's nicks has let go of `nick` (so that a
 * client of any node may take it next).
 */
async function nickFreed(real: Real, client: ModelClient, nick: string): Promise<void> {
  await client.until(
    () =>
      real.servers.every(
        (server) =>
          !server.sessions().some((s) => s.nick === nick) &&
          server.cluster?.remoteNick(nick) === undefined,
      ),
    `every node to free ${nick}`,
  );
}

function membersOf(model: Model, room: string): ModelMember[] {
  return [...model.members.values()].filter((m) => m.rooms.includes(room));
}

/**
 * Waits until the server has acted on every request sent (even those nobody can observe, like
 * a paused client's part), then until every open, reading client has heard what the model
 * says, and compares.
 */
async function check(model: Model, real: Real): Promise<void> {
  const deadline = Date.now() + 5000;
  while (requestsIn(real) < model.requests) {
    if (Date.now() > deadline)
      throw new Error(`the servers acted on ${requestsIn(real)} of ${model.requests} requests`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  // In a cluster, a step is done once every node has handed its batches to Redis: a node that
  // opens a room in the next step starts after them (a join at the same moment as a message may
  // hear it; that race is the cluster's, not the model's).
  while (real.servers.some((server) => (server.stats().cluster?.outbox ?? 0) > 0)) {
    if (Date.now() > deadline) throw new Error("the nodes did not publish their batches");
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  // Then until every node has applied every batch of its rooms: a member that does not read is
  // not waited for below, and what a node tells it next (a DM) must come after them.
  while (real.servers.length > 1) {
    const caughtUp = await Promise.all(real.servers.map((server) => server.cluster!.caughtUp()));
    if (caughtUp.every(Boolean)) break;
    if (Date.now() > deadline)
      throw new Error("the nodes did not apply every batch of their rooms");
    await new Promise((resolve) => setTimeout(resolve, 2));
  }

  for (const [id, member] of model.members) {
    if (!member.reading) continue;
    const client = real.clients.get(id)!;
    await client.until(
      () => client.heard.length >= member.expected.length,
      `${member.nick} (${member.kind}) to hear ${member.expected.length} events`,
    );
    expect(client.heard, `what ${member.nick} (${member.kind}) heard`).toEqual(member.expected);
  }
  // The sender's copy of a DM between accounts on two nodes comes back through Redis.
  if (model.nodes > 1) {
    const kept = () => real.servers.map((server) => server.stats().cluster?.dmsKept ?? 0);
    await until(
      () => kept().every((count, node) => count >= model.dmsKept[node]!),
      "every node to store its copies of DMs sent from it",
    );
    expect(kept(), "DMs each node stored as the sender's copy").toEqual(model.dmsKept);
  }
}

/**
 * A nick nobody holds that a member of `node` may take: not registered there, unless to the
 * member's own `account`.
 */
function freeNick(model: Model, pick: number, node: number, account?: string): string | undefined {
  const free = NICKS.filter(
    (n) => !model.usedNicks.has(n) && (n === account || !model.accounts[node]!.has(n)),
  );
  // In a cluster an odd pick prefers a nick registered only on another node (this node does
  // not know the account): its owner may then log in there while a member here holds it.
  const elsewhere = free.filter((n) => model.accounts.some((names) => names.has(n)));
  const choices = pick % 2 === 1 && elsewhere.length > 0 ? elsewhere : free;
  return choices.length === 0 ? undefined : choices[pick % choices.length];
}

class Connect implements fc.AsyncCommand<Model, Real> {
  /**
   * @param outsider connect from {@link OUTSIDER_ADDRESS} (one such member at a time: a ban then
   * removes exactly one member, so its parts come in the order of a quit's)
   * @param registered a JSON client whose hello brings a nick registered on its node: it holds
   * the nick under the login grace period (longer than a run), told to log in, not logged in
   */
  constructor(
    readonly kind: Kind,
    readonly pick: number,
    readonly outsider = false,
    readonly registered = false,
  ) {}
  private nick(m: Model): string | undefined {
    const node = this.pick % m.nodes;
    if (!this.registered) return freeNick(m, this.pick, node);
    const free = accountsOn(m, node).filter((name) => !m.usedNicks.has(name));
    return free.length === 0 ? undefined : free[this.pick % free.length];
  }
  check(m: Readonly<Model>) {
    if (this.outsider && (!m.operator || [...m.members.values()].some((o) => o.outsider))) {
      return false;
    }
    // Only a hello gets the grace period: a text client's /nick is refused a registered nick.
    if (this.registered && speaksText(this.kind)) return false;
    return m.members.size < MAX_CLIENTS && this.nick(m as Model) !== undefined;
  }
  async run(m: Model, r: Real) {
    if (this.outsider && m.outsiderBanned) {
      // Refused at accept time: nobody hears of it, and the server parses nothing from it.
      expect(await refusedLine(r.targets[this.pick % m.nodes]!)).toMatch(/CHAT_ERR_REFUSED_BANNED/);
      await check(m, r);
      return;
    }
    const nick = this.nick(m)!;
    m.usedNicks.add(nick);
    const id = m.nextId++;
    for (const other of membersOf(m, "lobby")) other.expected.push(`join lobby ${nick}`);
    m.members.set(id, {
      kind: this.kind,
      nick,
      rooms: ["lobby"],
      current: "lobby",
      reading: true,
      expected: [
        ...topicOf(m, "lobby"),
        ...historyOf(m, "lobby", JOIN_HISTORY),
        `join lobby ${nick}`,
      ],
      outsider: this.outsider,
      node: this.pick % m.nodes,
      account: undefined,
    });
    m.requests += 1;
    // Clients are spread over the nodes of a cluster.
    const target = r.targets[this.pick % m.nodes]!;
    const from = this.outsider ? OUTSIDER_ADDRESS : undefined;
    const client = await ModelClient.open(target, this.kind, nick, from);
    r.clients.set(id, client);
    if (this.registered) {
      const notice = `${nick} is registered: log in within`;
      await client.until(
        () => client.lines.some((line) => line.includes(notice)),
        `the login grace notice for ${nick}`,
      );
    }
    await check(m, r);
  }
  toString() {
    const how = `${this.outsider ? ", outsider" : ""}${this.registered ? ", registered nick" : ""}`;
    return `connect(${this.kind}${how})`;
  }
}

/** A command on one existing client, picked by index among the open ones. */
abstract class OnClient implements fc.AsyncCommand<Model, Real> {
  constructor(readonly pick: number) {}
  check(m: Readonly<Model>) {
    return m.members.size > 0;
  }
  protected target(m: Model): [number, ModelMember] {
    const ids = [...m.members.keys()];
    const id = ids[this.pick % ids.length]!;
    return [id, m.members.get(id)!];
  }
  abstract run(m: Model, r: Real): Promise<void>;
}

class Join extends OnClient {
  constructor(
    pick: number,
    readonly room: string,
  ) {
    super(pick);
  }
  async run(m: Model, r: Real) {
    const [id, me] = this.target(m);
    const client = r.clients.get(id)!;
    if (!me.rooms.includes(this.room)) {
      for (const other of membersOf(m, this.room))
        other.expected.push(`join ${this.room} ${me.nick}`);
      me.rooms.push(this.room);
      // The topic and history first: written before the room's batch that carries the join.
      me.expected.push(
        ...topicOf(m, this.room),
        ...historyOf(m, this.room, JOIN_HISTORY),
        `join ${this.room} ${me.nick}`,
      );
    }
    me.current = this.room;
    m.requests += 1;
    if (speaksText(me.kind)) client.write(`/join ${this.room}`);
    else client.write(JSON.stringify({ type: "join", ref: "j", room: this.room }));
    await check(m, r);
  }
  override toString() {
    return `join(${this.pick}, ${this.room})`;
  }
}

class Part extends OnClient {
  constructor(
    pick: number,
    readonly room: string,
  ) {
    super(pick);
  }
  async run(m: Model, r: Real) {
    const [id, me] = this.target(m);
    const client = r.clients.get(id)!;
    if (me.rooms.includes(this.room)) {
      me.rooms.splice(me.rooms.indexOf(this.room), 1);
      for (const other of membersOf(m, this.room))
        other.expected.push(`part ${this.room} ${me.nick}`);
      if (me.current === this.room) me.current = me.rooms.at(-1);
    }
    m.requests += 1;
    if (speaksText(me.kind)) client.write(`/part #${this.room}`);
    else client.write(JSON.stringify({ type: "part", ref: "p", room: this.room }));
    await check(m, r);
  }
  override toString() {
    return `part(${this.pick}, ${this.room})`;
  }
}

/**
 * A member says `count` messages in one write: the server reads them in one turn, so members
 * that ask for runs (spec 4.6) get two or more as one `messages` frame.
 */
class Say extends OnClient {
  constructor(
    pick: number,
    readonly roomPick: number,
    readonly count = 1,
  ) {
    super(pick);
  }
  async run(m: Model, r: Real) {
    const [id, me] = this.target(m);
    const client = r.clients.get(id)!;
    // A text client talks to its current room; a JSON client names any room it is in.
    const room = speaksText(me.kind)
      ? me.current
      : me.rooms[this.roomPick % Math.max(1, me.rooms.length)];
    const lines: string[] = [];
    for (let i = 0; i < this.count; i++) {
      // A telnet client says Hangul: its bytes cross the telnet filter (8-bit once negotiated).
      const text = me.kind === "telnet" ? `m${m.nextText++}-한글` : `m${m.nextText++}`;
      if (room !== undefined) {
        for (const member of membersOf(m, room))
          member.expected.push(`msg ${room} ${me.nick} ${text}`);
        m.said.set(room, [...(m.said.get(room) ?? []), `${me.nick} ${text}`]);
      }
      m.requests += 1;
      lines.push(
        speaksText(me.kind)
          ? text
          : JSON.stringify({ type: "send", ref: "s", room: room ?? "lobby", text }),
      );
    }
    client.writeLines(lines);
    await check(m, r);
  }
  override toString() {
    return this.count === 1 ? `say(${this.pick})` : `say(${this.pick}, ${this.count} at once)`;
  }
}

/**
 * A DM from one member to another (maybe itself). With `loggedIn`, both ends are members
 * logged in to accounts (in a cluster, often on two nodes), so that runs store DMs often
 * enough to page them back.
 */
class Dm extends OnClient {
  constructor(
    pick: number,
    readonly to: number,
    readonly loggedIn = false,
  ) {
    super(pick);
  }
  private ends(m: Model): [number, ModelMember, ModelMember] | undefined {
    const candidates = [...m.members].filter(([, o]) => !this.loggedIn || o.account !== undefined);
    if (candidates.length === 0) return undefined;
    const [id, me] = candidates[this.pick % candidates.length]!;
    // Between accounts, an odd `to` picks a member of another node when there is one.
    const across = candidates.filter(([, o]) => o.node !== me.node);
    const targets = this.loggedIn && this.to % 2 === 1 && across.length > 0 ? across : candidates;
    return [id, me, targets[this.to % targets.length]![1]];
  }
  override check(m: Readonly<Model>) {
    return this.ends(m as Model) !== undefined;
  }
  async run(m: Model, r: Real) {
    const [id, me, target] = this.ends(m)!;
    const text = `d${m.nextText++}`;
    target.expected.push(`dm ${me.nick} ${text}`);
    // Stored when both ends are logged in: on the sender's node and on the recipient's.
    const stored = me.account !== undefined && target.account !== undefined;
    if (stored && target.node !== me.node) m.dmsKept[me.node]! += 1;
    const client = r.clients.get(id)!;
    m.requests += 1;
    if (speaksText(me.kind)) client.write(`/msg ${target.nick} ${text}`);
    else client.write(JSON.stringify({ type: "dm", ref: "d", to: target.nick, text }));
    await check(m, r);
    if (!stored) return;
    const dmId = r.dmIds.get(text);
    expect(dmId, `the id of DM ${text}`).toBeDefined();
    const dm: StoredDm = {
      conversation: conversation(me.account!, target.account!),
      id: dmId!,
      from: me.nick,
      to: target.nick,
      text,
    };
    for (const node of new Set([me.node, target.node])) m.storedDms[node]!.push(dm);
    m.lastDm = { senderId: id, fromAccount: me.account!, toAccount: target.account! };
  }
  override toString() {
    return `dm(${this.pick} -> ${this.to}${this.loggedIn ? ", logged in" : ""})`;
  }
}

/**
 * Everyone who hears `who` take `nick`: each peer sharing a room hears it once, however many
 * rooms they share, and so does `who`.
 */
function tellRename(m: Model, who: ModelMember, nick: string): void {
  const told = new Set<ModelMember>([who]);
  for (const room of who.rooms) for (const member of membersOf(m, room)) told.add(member);
  for (const member of told) member.expected.push(`nick ${who.nick} ${nick}`);
}

class Rename extends OnClient {
  constructor(
    pick: number,
    readonly nickPick: number,
  ) {
    super(pick);
  }
  override check(m: Readonly<Model>) {
    if (m.members.size === 0) return false;
    const [, me] = this.target(m as Model);
    return freeNick(m as Model, this.nickPick, me.node, me.account) !== undefined;
  }
  async run(m: Model, r: Real) {
    const [id, me] = this.target(m);
    const nick = freeNick(m, this.nickPick, me.node, me.account)!;
    tellRename(m, me, nick);
    m.usedNicks.delete(me.nick);
    m.usedNicks.add(nick);
    const old = me.nick;
    me.nick = nick;
    const client = r.clients.get(id)!;
    m.requests += 1;
    if (speaksText(me.kind)) client.write(`/nick ${nick}`);
    else client.write(JSON.stringify({ type: "nick", ref: "n", nick }));
    await check(m, r);
    await nickFreed(r, client, old);
  }
  override toString() {
    return `nick(${this.pick})`;
  }
}

const LEAVE_WAYS = ["quit", "close", "reset"] as const;

class Leave extends OnClient {
  constructor(
    pick: number,
    readonly how: (typeof LEAVE_WAYS)[number],
  ) {
    super(pick);
  }
  async run(m: Model, r: Real) {
    const [id, me] = this.target(m);
    const client = r.clients.get(id)!;
    for (const room of me.rooms) {
      for (const member of membersOf(m, room)) {
        if (member !== me) member.expected.push(`part ${room} ${me.nick}`);
      }
    }
    m.members.delete(id);
    m.usedNicks.delete(me.nick);
    r.clients.delete(id);
    if (this.how === "quit") {
      m.requests += 1;
      client.write(
        speaksText(me.kind) ? "/quit bye" : JSON.stringify({ type: "quit", reason: "bye" }),
      );
    } else if (this.how === "close") {
      // Known limit: the server forgets a WebSocket client when its close handshake ends, and a
      // client that sent its close frame but does not read the reply stays until ws's close
      // timeout (30 s). A closing client here reads, as browsers do.
      if (overWebSocket(me.kind) && !me.reading) client.resume();
      client.end();
    } else {
      client.reset();
    }
    // The server has forgotten it once no session holds its nick (even with nobody to tell).
    await nickFreed(r, client, me.nick);
    if (this.how !== "reset") client.reset();
    await check(m, r);
  }
  override toString() {
    return `${this.how}(${this.pick})`;
  }
}

class Reading extends OnClient {
  constructor(
    pick: number,
    readonly reading: boolean,
  ) {
    super(pick);
  }
  async run(m: Model, r: Real) {
    const [id, me] = this.target(m);
    const client = r.clients.get(id)!;
    if (this.reading) {
      // Whatever it heard while paused must match too: check before taking it as reading.
      me.reading = true;
      client.resume();
    } else {
      // Let it catch up first, so that the check cannot miss events it had already been sent.
      await check(m, r);
      me.reading = false;
      client.pause();
    }
    await check(m, r);
  }
  override toString() {
    return `${this.reading ? "read" : "stop-reading"}(${this.pick})`;
  }
}

class Who extends OnClient {
  constructor(
    pick: number,
    readonly room: string,
  ) {
    super(pick);
  }
  async run(m: Model, r: Real) {
    const [id, me] = this.target(m);
    const client = r.clients.get(id)!;
    const count = membersOf(m, this.room).length;
    const from = client.lines.length;
    m.requests += 1;
    if (speaksText(me.kind)) client.write(`/who #${this.room}`);
    else client.write(JSON.stringify({ type: "who", ref: "w", room: this.room }));
    if (!me.reading) return;
    // Only this request's answer: a presence of the room, or "There is no room #x." (an
    // earlier request's error may still be on its way).
    const noRoom = `There is no room #${this.room}.`;
    const answer = () =>
      client.lines
        .slice(from)
        .find((line) =>
          speaksText(me.kind)
            ? line.startsWith(`*** #${this.room} (`) || line.includes(noRoom)
            : line.includes(`"type":"presence","room":"${this.room}"`) || line.includes(noRoom),
        );
    await client.until(() => answer() !== undefined, `${me.nick}'s /who #${this.room}`);
    const line = answer()!;
    if (count === 0) expect(line).toMatch(/CHAT_ERR_NOT_IN_ROOM.*There is no room/);
    else if (speaksText(me.kind))
      expect(line).toMatch(new RegExp(`^\\*\\*\\* #${this.room} \\(${count}\\): `));
    else expect((JSON.parse(line) as { count: number }).count).toBe(count);
    await check(m, r);
  }
  override toString() {
    return `who(${this.pick}, ${this.room})`;
  }
}

/** Asks for a room's last messages: `/history N` (current room) or a JSON `history` request. */
class AskHistory extends OnClient {
  constructor(
    pick: number,
    readonly room: string,
    readonly limit: number,
  ) {
    super(pick);
  }
  async run(m: Model, r: Real) {
    const [id, me] = this.target(m);
    const client = r.clients.get(id)!;
    // A text client asks about its current room; a JSON client about any room, joined or not.
    const room = speaksText(me.kind) ? me.current : this.room;
    // A node has a room's whole history only while the room is open there (it fills what it
    // missed when the room opens): in a cluster, a JSON client asks about rooms of its node.
    if (room !== undefined && m.nodes > 1 && !openOnNode(m, me.node, room)) return;
    if (room !== undefined) me.expected.push(...historyOf(m, room, this.limit));
    m.requests += 1;
    if (speaksText(me.kind)) client.write(`/history ${this.limit}`);
    else client.write(JSON.stringify({ type: "history", ref: "h", room, limit: this.limit }));
    await check(m, r);
  }
  override toString() {
    return `history(${this.pick}, ${this.room}, ${this.limit})`;
  }
}

/**
 * The operator sets (or clears) a room's topic from the console: the room's members hear it in
 * order with the room's messages, and whoever joins the room later is shown it.
 */
class SetTopic implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly room: string,
    readonly clear: boolean,
  ) {}
  check(m: Readonly<Model>) {
    // In a cluster a step ends when every node shows the change, which a clear of no topic
    // does not: its notice could reach another node's members after the next step.
    return !this.clear || m.nodes === 1 || m.topics.has(this.room);
  }
  async run(m: Model, r: Real) {
    const text = this.clear ? "" : `t${m.nextText++}`;
    for (const member of membersOf(m, this.room))
      member.expected.push(`topic ${this.room} ${text}`);
    if (text === "") m.topics.delete(this.room);
    else m.topics.set(this.room, text);
    r.servers[0]!.setTopic(this.room, text);
    // Set on one node; the others learn of it through Redis. A joiner on another node is shown
    // the topic its node knows, so the step ends when every node knows it.
    await until(
      () => r.servers.every((server) => (server.topic(this.room)?.text ?? "") === text),
      `every node to know the topic of ${this.room}`,
    );
    await check(m, r);
  }
  toString() {
    return `topic(${this.room}${this.clear ? ", clear" : ""})`;
  }
}

// Operator actions: an operator account's client, on the first node, kicks, bans and unbans.

/** Where outsiders connect from: a ban of their address covers no one else (all others use 127.0.0.1). */
const OUTSIDER_ADDRESS = "127.0.0.2";
const OPERATOR = { name: "boss", password: "boss-password" };

/**
 * A PHC string for the operator's password with a tiny scrypt cost (N = 16): the server checks
 * any cost stored with a hash, and the runs need not pay 32 MiB per login.
 */
function cheapHash(password: string): string {
  const salt = randomBytes(16);
  const hash = scryptSync(password.normalize("NFC"), salt, 32, { N: 16, r: 8, p: 1 });
  const b64 = (b: Buffer) => b.toString("base64").replace(/=+$/, "");
  return `$scrypt$ln=4,r=8,p=1$${b64(salt)}$${b64(hash)}`;
}

/**
 * Logs in to the operator account and moves to #ops, before any member connects (so the model
 * hears nothing of it); its lines count in the server's requests, which the model then starts from.
 */
async function openOperator(port: number): Promise<LineClient> {
  const operator = await LineClient.greeted(port);
  const from = operator.lines.length;
  operator.send(`/login ${OPERATOR.name} ${OPERATOR.password}`);
  await operator.waitFor(`*** logged in as ${OPERATOR.name}`, 5000, from);
  operator.send("/join #ops");
  operator.send("/part #lobby");
  await operator.waitFor(/^\*\*\* you left #lobby/, 5000, from);
  return operator;
}

/** The first line a connection from {@link OUTSIDER_ADDRESS} hears (a refusal), or "" at close. */
function refusedLine(target: ModelTarget): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tcpConnect({
      port: target.port,
      host: "127.0.0.1",
      localAddress: OUTSIDER_ADDRESS,
    });
    let text = "";
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      text += chunk;
      if (text.includes("\n")) {
        socket.destroy();
        resolve(text.slice(0, text.indexOf("\n")));
      }
    });
    socket.on("close", () => resolve(text));
    socket.on("error", reject);
  });
}

/** Sends an operator command and waits for its answer (the server has acted on it then). */
async function operate(m: Model, r: Real, line: string, answer: RegExp): Promise<string> {
  const operator = r.operator!;
  const from = operator.lines.length;
  m.requests += 1;
  operator.send(line);
  return operator.waitFor(answer, 5000, from);
}

/**
 * Takes a member the operator removed out of the model: the members of its rooms hear it leave
 * as `how` (kick or ban), and its nick is free again.
 */
async function removed(m: Model, r: Real, id: number, how: "kick" | "ban"): Promise<void> {
  const me = m.members.get(id)!;
  for (const room of me.rooms) {
    for (const member of membersOf(m, room)) {
      if (member !== me) member.expected.push(`${how} ${room} ${me.nick}`);
    }
  }
  m.members.delete(id);
  m.usedNicks.delete(me.nick);
  const client = r.clients.get(id)!;
  r.clients.delete(id);
  // The server has let it go already; a client that does not read would keep its socket open.
  client.reset();
  await nickFreed(r, client, me.nick);
  await check(m, r);
}

/**
 * The operator kicks a member (`/kick NICK REASON`), on its own node or, through the cluster,
 * on another, and is told which.
 */
class Kick extends OnClient {
  override check(m: Readonly<Model>) {
    return m.operator && m.members.size > 0;
  }
  async run(m: Model, r: Real) {
    const [id, me] = this.target(m);
    const expected = `*** kicked ${me.nick}${me.node === 0 ? "" : " (on another node)"}`;
    const deadline = Date.now() + 5000;
    let answer = await operate(m, r, `/kick ${me.nick} off you go`, /^(\*\*\*|!!!) /);
    // The operator's node learns of a nick taken on another node through Redis, apart from
    // the join the model waited for: asked again until it has.
    while (me.node !== 0 && answer.includes("CHAT_ERR_NO_SUCH_NICK") && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      answer = await operate(m, r, `/kick ${me.nick} off you go`, /^(\*\*\*|!!!) /);
    }
    expect(answer).toBe(expected);
    await removed(m, r, id, "kick");
  }
  override toString() {
    return `kick(${this.pick})`;
  }
}

/** Waits until every node's ban list agrees with the model about the outsiders' address. */
async function bansAgree(m: Model, r: Real): Promise<void> {
  await until(
    () =>
      r.policies.every((p) => (p.isBanned(OUTSIDER_ADDRESS) !== undefined) === m.outsiderBanned),
    `every node to ${m.outsiderBanned ? "ban" : "unban"} ${OUTSIDER_ADDRESS}`,
  );
}

/**
 * The operator bans the outsider by nick (`/ban NICK`), wherever it is connected: its address
 * is refused on every node until unbanned, and the outsider is disconnected. In a cluster the
 * answer says how many of the disconnected were on other nodes.
 */
class Ban implements fc.AsyncCommand<Model, Real> {
  check(m: Readonly<Model>) {
    return m.operator && !m.outsiderBanned && [...m.members.values()].some((o) => o.outsider);
  }
  async run(m: Model, r: Real) {
    const [id, me] = [...m.members].find(([, o]) => o.outsider)!;
    const deadline = Date.now() + 5000;
    let answer = await operate(m, r, `/ban ${me.nick}`, /^(\*\*\*|!!!) /);
    // As for a kick: the operator's node learns of a nick on another node through Redis.
    while (me.node !== 0 && answer.startsWith("!!! ") && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      answer = await operate(m, r, `/ban ${me.nick}`, /^(\*\*\*|!!!) /);
    }
    const elsewhere = m.nodes === 1 ? "" : ` (${me.node === 0 ? 0 : 1} on other nodes)`;
    expect(answer).toBe(
      `*** banned ${OUTSIDER_ADDRESS} (${me.nick}) until lifted; disconnected 1${elsewhere}`,
    );
    m.outsiderBanned = true;
    await bansAgree(m, r);
    await removed(m, r, id, "ban");
  }
  toString() {
    return "ban(outsider)";
  }
}

/** The operator lifts the outsiders' ban (`/unban ADDRESS`). */
class Unban implements fc.AsyncCommand<Model, Real> {
  check(m: Readonly<Model>) {
    return m.operator && m.outsiderBanned;
  }
  async run(m: Model, r: Real) {
    expect(await operate(m, r, `/unban ${OUTSIDER_ADDRESS}`, /^(\*\*\*|!!!) /)).toBe(
      `*** unbanned ${OUTSIDER_ADDRESS}`,
    );
    m.outsiderBanned = false;
    await bansAgree(m, r);
    await check(m, r);
  }
  toString() {
    return "unban(outsider)";
  }
}

// Accounts: members of every kind register their nick, log in (taking the nick from whoever
// holds it), are refused registered nicks, and page back their stored DMs. Each node of a
// cluster has its own accounts (its own store): the model keeps them per node.

/**
 * Accounts in every node's store before the run (as an administrator would provision them):
 * members of both nodes log in to them, so that DMs between accounts on two nodes are read back
 * on both (a node reads a conversation only with accounts it knows).
 */
const PRESET_ACCOUNTS = new Map([
  ["gold", "gold-password"],
  ["pink", "pink-password"],
]);

/** What a clear-text login line sets off: the server warns that the password was readable. */
const CLEAR_TEXT_WARNING = "*** warning: this connection is not encrypted";

/**
 * The answer to a request sent when `client` had `from` lines: for a JSON client the frame
 * with the request's `ref`, for a text client the first line `text` matches (the answer's own
 * codes only: an earlier request's error may still be on its way).
 */
async function answerOf(
  client: ModelClient,
  from: number,
  ref: string,
  text: RegExp,
): Promise<string> {
  const json = !speaksText(client.kind);
  const found = () =>
    client.lines
      .slice(from)
      .find((line) =>
        json
          ? line.startsWith("{") && (JSON.parse(line) as { ref?: string }).ref === ref
          : text.test(line),
      );
  await client.until(() => found() !== undefined, `the answer to ${ref}`);
  return found()!;
}

/** Checks a register or login answer: an ack (JSON) or `success` (text), and the warning. */
function expectAccepted(client: ModelClient, from: number, answer: string, success: string): void {
  if (speaksText(client.kind)) expect(answer).toBe(success);
  else expect(JSON.parse(answer)).toMatchObject({ type: "ack" });
  const warned = client.lines.slice(from).some((line) => line.startsWith(CLEAR_TEXT_WARNING));
  expect(warned, "the clear-text password warning").toBe(
    client.kind === "text" || client.kind === "telnet",
  );
}

/** Accounts registered on a node, in registration order (the pick's choices). */
function accountsOn(m: Model, node: number): string[] {
  return [...m.accounts[node]!.keys()];
}

/** A member registers its nick (`/register PASSWORD`, or a JSON `register` frame). */
class Register extends OnClient {
  override check(m: Readonly<Model>) {
    if (m.members.size === 0) return false;
    const [, me] = this.target(m as Model);
    return (
      me.reading &&
      me.account === undefined &&
      !me.nick.startsWith("guest-") &&
      !m.accounts[me.node]!.has(me.nick)
    );
  }
  async run(m: Model, r: Real) {
    const [id, me] = this.target(m);
    const client = r.clients.get(id)!;
    const password = `secret-${m.nextText++}`;
    const ref = `r${m.nextText++}`;
    const from = client.lines.length;
    m.requests += 1;
    if (speaksText(me.kind)) client.write(`/register ${password}`);
    else client.write(JSON.stringify({ type: "register", ref, password }));
    const answer = await answerOf(
      client,
      from,
      ref,
      /^\*\*\* registered |^!!! CHAT_ERR_(ACCOUNT|WEAK|REGISTER|LOGIN|SERVER|HISTORY)/,
    );
    expectAccepted(
      client,
      from,
      answer,
      `*** registered ${me.nick}: only you can use it now; next time, /login ${me.nick} PASSWORD`,
    );
    m.accounts[me.node]!.set(me.nick, password);
    me.account = me.nick;
    await check(m, r);
  }
  override toString() {
    return `register(${this.pick})`;
  }
}

/**
 * A member logs in to an account of its node (`/login NAME PASSWORD`, or a JSON `auth` frame),
 * maybe one another member registered or holds: it takes the account's nick, and whoever held
 * the nick on the same node is renamed to a guest nick (still logged in to the account, if it
 * was). In a cluster, a holder on another node keeps the nick (accounts live in each node's
 * store, and that node may not know the account): the cluster refuses the nick's claim, and the
 * member that logged in is renamed to a guest nick instead, still logged in.
 */
class Login extends OnClient {
  constructor(
    pick: number,
    readonly accountPick: number,
  ) {
    super(pick);
  }
  private account(m: Model, me: ModelMember): string | undefined {
    const names = accountsOn(m, me.node);
    return names.length === 0 ? undefined : names[this.accountPick % names.length];
  }
  override check(m: Readonly<Model>) {
    if (m.members.size === 0) return false;
    const [, me] = this.target(m as Model);
    const name = this.account(m as Model, me);
    return me.reading && name !== undefined && (me.nick !== name || me.account !== name);
  }
  async run(m: Model, r: Real) {
    const [id, me] = this.target(m);
    const client = r.clients.get(id)!;
    const name = this.account(m, me)!;
    const password = m.accounts[me.node]!.get(name)!;
    const holder = [...m.members.values()].find((o) => o.nick === name);
    const known = new Set([...m.members.values()].map((o) => o.nick));
    const ref = `l${m.nextText++}`;
    const from = client.lines.length;
    m.requests += 1;
    if (speaksText(me.kind)) client.write(`/login ${name} ${password}`);
    else client.write(JSON.stringify({ type: "auth", ref, name, password }));
    const answer = await answerOf(
      client,
      from,
      ref,
      /^\*\*\* logged in as |^!!! CHAT_ERR_(LOGIN|SERVER|ACCOUNTS)/,
    );
    expectAccepted(client, from, answer, `*** logged in as ${name}`);
    // The server picks the guest nick: the model learns it from the node's sessions.
    const guestNick = async (who: string) => {
      const found = () =>
        r.servers[me.node]!.sessions()
          .map((s) => s.nick)
          .find((nick) => nick.startsWith("guest-") && !known.has(nick));
      await client.until(() => found() !== undefined, `the guest nick ${who} is renamed to`);
      return found()!;
    };
    if (holder !== undefined && holder !== me && holder.node === me.node) {
      const guest = await guestNick(holder.nick);
      tellRename(m, holder, guest);
      holder.nick = guest;
    }
    const old = me.nick;
    // A member holding the nick under the login grace period keeps it: nobody hears a change.
    if (holder !== me) tellRename(m, me, name);
    me.nick = name;
    me.account = name;
    m.usedNicks.delete(old);
    m.usedNicks.add(name);
    if (holder !== undefined && holder.node !== me.node) {
      const guest = await guestNick(me.nick);
      tellRename(m, me, guest);
      me.nick = guest;
    }
    await check(m, r);
    if (old !== name) await nickFreed(r, client, old);
  }
  override toString() {
    return `login(${this.pick}, ${this.accountPick})`;
  }
}

/** A member asks for a nick registered to another account: refused with a stable code. */
class TakeRegistered extends OnClient {
  constructor(
    pick: number,
    readonly accountPick: number,
  ) {
    super(pick);
  }
  private nick(m: Model, me: ModelMember): string | undefined {
    const names = accountsOn(m, me.node).filter((name) => name !== me.account);
    return names.length === 0 ? undefined : names[this.accountPick % names.length];
  }
  override check(m: Readonly<Model>) {
    if (m.members.size === 0) return false;
    const [, me] = this.target(m as Model);
    return me.reading && this.nick(m as Model, me) !== undefined;
  }
  async run(m: Model, r: Real) {
    const [id, me] = this.target(m);
    const client = r.clients.get(id)!;
    const nick = this.nick(m, me)!;
    const ref = `n${m.nextText++}`;
    const from = client.lines.length;
    m.requests += 1;
    if (speaksText(me.kind)) client.write(`/nick ${nick}`);
    else client.write(JSON.stringify({ type: "nick", ref, nick }));
    const answer = await answerOf(client, from, ref, /^\*\*\* .* is now known as |^!!! CHAT_ERR_/);
    if (speaksText(me.kind)) {
      expect(answer).toMatch(
        new RegExp(`^!!! CHAT_ERR_NICK_REGISTERED: The nick ${nick} is registered\\.`),
      );
    } else {
      expect(JSON.parse(answer)).toMatchObject({ type: "error", code: "CHAT_ERR_NICK_REGISTERED" });
    }
    await check(m, r);
  }
  override toString() {
    return `take-registered(${this.pick}, ${this.accountPick})`;
  }
}

/**
 * A logged-in member pages back its DMs with an account of its node (`/history NICK N`, or a
 * JSON `history` request with `nick`): exactly the last N DMs between the two accounts sent
 * while both ends were logged in, in order, with their ids (JSON clients see the ids).
 */
class DmHistory implements fc.AsyncCommand<Model, Real> {
  /**
   * @param lastSender the member that sent the last stored DM asks about that conversation (in
   * a cluster its node's copy came back from the recipient's node), if it is still logged in
   */
  constructor(
    readonly pick: number,
    readonly accountPick: number,
    readonly limit: number,
    readonly lastSender = false,
  ) {}
  /** Who asks, and about which account (maybe one its node does not know). */
  private ask(m: Model): { id: number; me: ModelMember; other: string } | undefined {
    if (this.lastSender) {
      const last = m.lastDm;
      const me = last === undefined ? undefined : m.members.get(last.senderId);
      if (me === undefined || !me.reading || me.account !== last!.fromAccount) return undefined;
      return { id: last!.senderId, me, other: last!.toAccount };
    }
    const ids = [...m.members.keys()];
    if (ids.length === 0) return undefined;
    const id = ids[this.pick % ids.length]!;
    const me = m.members.get(id)!;
    if (!me.reading || me.account === undefined) return undefined;
    // An odd pick asks about an account it has DMs with on this node, when there is one.
    const talkedWith = accountsOn(m, me.node).filter((name) =>
      m.storedDms[me.node]!.some((dm) => dm.conversation === conversation(me.account!, name)),
    );
    const names =
      this.accountPick % 2 === 1 && talkedWith.length > 0 ? talkedWith : accountsOn(m, me.node);
    return { id, me, other: names[this.accountPick % names.length]! };
  }
  check(m: Readonly<Model>) {
    return this.ask(m as Model) !== undefined;
  }
  async run(m: Model, r: Real) {
    const { id, me, other } = this.ask(m)!;
    const client = r.clients.get(id)!;
    // A node reads a conversation only with an account it knows (each node has its own).
    const known = m.accounts[me.node]!.has(other);
    const key = conversation(me.account!, other);
    const kept = known
      ? m.storedDms[me.node]!.filter((dm) => dm.conversation === key).slice(-this.limit)
      : [];
    const json = !speaksText(me.kind);
    me.expected.push(
      ...kept.map((dm) => `dmhist ${dm.from} ${dm.to} ${dm.text}${json ? ` id=${dm.id}` : ""}`),
    );
    const ref = `h${m.nextText++}`;
    const from = client.lines.length;
    m.requests += 1;
    if (json)
      client.write(JSON.stringify({ type: "history", ref, nick: other, limit: this.limit }));
    else client.write(`/history ${other} ${this.limit}`);
    const answer = await answerOf(
      client,
      from,
      ref,
      /^\*\*\* (end of history|no messages found)|^!!! CHAT_ERR_(DM_HISTORY|HISTORY)/,
    );
    // The stored DMs come before the answer: compared now, not waited for.
    expect(client.heard, `what ${me.nick} (${me.kind}) heard`).toEqual(me.expected);
    const count = kept.length;
    if (!known) {
      const code = "CHAT_ERR_DM_HISTORY_ACCOUNTS";
      if (json) expect(JSON.parse(answer)).toMatchObject({ type: "error", code });
      else expect(answer).toMatch(new RegExp(`^!!! ${code}: ${other} is not a registered nick`));
    } else if (json) expect(JSON.parse(answer)).toMatchObject({ type: "ack" });
    else {
      expect(answer).toBe(
        count === 0
          ? "*** no messages found"
          : `*** end of history (${count} message${count === 1 ? "" : "s"})`,
      );
    }
    await check(m, r);
  }
  toString() {
    const who = this.lastSender ? "last sender" : `${this.pick}, ${this.accountPick}`;
    return `dm-history(${who}, ${this.limit})`;
  }
}

const kind = fc.constantFrom<Kind>(...KINDS);
const pick = fc.nat(20);
const room = fc.constantFrom(...ROOMS);
const connect = fc.tuple(kind, pick).map(([k, p]) => new Connect(k, p));
const commands = [
  // Weighted towards connects, so that runs reach rooms of several clients of both kinds.
  connect,
  connect,
  connect,
  fc.tuple(pick, room).map(([p, r]) => new Join(p, r)),
  fc.tuple(pick, room).map(([p, r]) => new Part(p, r)),
  fc.tuple(pick, pick).map(([p, q]) => new Say(p, q)),
  fc.tuple(pick, pick, fc.integer({ min: 2, max: 4 })).map(([p, q, count]) => new Say(p, q, count)),
  fc.tuple(pick, pick).map(([p, q]) => new Dm(p, q)),
  fc.tuple(pick, pick).map(([p, q]) => new Rename(p, q)),
  fc.tuple(pick, fc.constantFrom(...LEAVE_WAYS)).map(([p, how]) => new Leave(p, how)),
  fc.tuple(pick, fc.boolean()).map(([p, reading]) => new Reading(p, reading)),
  fc.tuple(pick, room).map(([p, r]) => new Who(p, r)),
  fc.tuple(pick, room, fc.integer({ min: 1, max: 6 })).map(([p, r, n]) => new AskHistory(p, r, n)),
  fc.tuple(room, fc.boolean()).map(([r, clear]) => new SetTopic(r, clear)),
  // Operator actions (see the section above).
  fc.tuple(kind, pick).map(([k, p]) => new Connect(k, p, true)),
  pick.map((p) => new Kick(p)),
  fc.constant(new Ban()),
  fc.constant(new Unban()),
  // Accounts (see the section above).
  pick.map((p) => new Register(p)),
  pick.map((p) => new Register(p)),
  fc.tuple(pick, pick).map(([p, q]) => new Login(p, q)),
  fc.tuple(pick, pick).map(([p, q]) => new Login(p, q)),
  fc.tuple(pick, pick).map(([p, q]) => new Login(p, q)),
  fc.tuple(pick, pick).map(([p, q]) => new TakeRegistered(p, q)),
  fc.tuple(kind, pick).map(([k, p]) => new Connect(k, p, false, true)),
  fc.tuple(pick, pick).map(([p, q]) => new Dm(p, q, true)),
  fc.tuple(pick, pick).map(([p, q]) => new Dm(p, q, true)),
  fc.tuple(pick, pick).map(([p, q]) => new Dm(p, q, true)),
  fc.tuple(pick, pick, fc.integer({ min: 1, max: 6 })).map(([p, q, n]) => new DmHistory(p, q, n)),
  fc.integer({ min: 1, max: 6 }).map((n) => new DmHistory(0, 0, n, true)),
  fc.integer({ min: 1, max: 6 }).map((n) => new DmHistory(0, 0, n, true)),
];

describe("the hub against a reference model, over real sockets", () => {
  // The TLS kinds connect to the same port; a certificate made at run time, never committed.
  const certificate = makeCertificate();
  afterAll(() => removeCertificate(certificate));
  let redis: RedisServer | undefined;
  afterAll(async () => {
    await redis?.[Symbol.asyncDispose]();
  });
  let cluster = 0;

  /** One server, or `nodes` servers joined by a real redis-server (a fresh key prefix per run). */
  async function startServers(nodes: number) {
    const options = {
      // Budgets are tested on their own; here nothing may be refused for pace.
      messageRate: 1e6,
      messageBurst: 1e6,
      requestRate: 1e6,
      requestBurst: 1e6,
      nickRate: 1e6,
      nickBurst: 1e6,
      nickHoldMs: 0,
      // WebSocket clients share the port: the server then sniffs first bytes, and a short
      // deadline keeps the text clients' greeting quick.
      webSocket: true,
      tls: certificate,
      sniffTimeoutMs: 50,
      // Registrations hash with a tiny scrypt cost (as the operator's stored hash has), and
      // every client shares one address: registrations are not paced here.
      // A hello that brings a registered nick holds it for longer than any run: the model
      // does not predict the rename at the end of the grace period.
      loginGraceMs: 60_000,
      passwordLimits: {
        scrypt: { ln: 4, r: 8, p: 1 },
        registrationThrottle: { ...DEFAULT_LOGIN_THROTTLE, freeFailures: 1e6 },
      },
    };
    if (nodes > 1 && redis === undefined) redis = await RedisServer.start();
    const prefix = `model${++cluster}`;
    // Every server keeps history: in a cluster each node has a store of its own, and a room's
    // messages from the other nodes reach it through Redis.
    const stores = Array.from({ length: nodes }, () => openSqliteStore(":memory:"));
    // Read by each server when it starts: the operator account (accounts live in each node's
    // store), and an accept policy that bans (in a cluster the nodes share operator bans).
    for (const store of stores) {
      store.createAccount({
        key: OPERATOR.name,
        name: OPERATOR.name,
        passwordHash: cheapHash(OPERATOR.password),
        createdAt: Date.now(),
        operator: true,
      });
      for (const [name, password] of PRESET_ACCOUNTS) {
        store.createAccount({
          key: name,
          name,
          passwordHash: cheapHash(password),
          createdAt: Date.now(),
          operator: false,
        });
      }
    }
    const policies = stores.map(() => createAcceptPolicy({}));
    const started: Array<Awaited<ReturnType<typeof startServer>>> = [];
    for (let i = 0; i < nodes; i++) {
      started.push(
        await startServer({
          ...options,
          store: stores[i]!,
          history: { joinLimit: JOIN_HISTORY },
          policy: policies[i]!,
          ...(nodes === 1 ? {} : { redis: { url: redis!.url, prefix } }),
        }),
      );
    }
    // Each DM's id, as its sender's node gave it: the model predicts stored DMs with their ids.
    const dmIds = new Map<string, string>();
    for (const { server } of started) {
      server.on("dm", (dm: { id: string; text: string }) => dmIds.set(dm.text, dm.id));
    }
    return {
      policies,
      dmIds,
      servers: started.map((s) => s.server),
      targets: started.map((s) => ({ port: s.port, ca: certificate.cert })),
      async [Symbol.asyncDispose]() {
        for (const s of started) await s[Symbol.asyncDispose]();
        for (const each of stores) each.close();
      },
    };
  }

  async function modelRuns(nodes: number, runs: number): Promise<void> {
    await fc.assert(
      fc.asyncProperty(
        fc.commands(commands, {
          maxCommands: 60,
          size: "+1",
        }),
        async (cmds) => {
          await using s = await startServers(nodes);
          const operator = await openOperator(s.targets[0]!.port);
          const real: Real = {
            servers: s.servers,
            targets: s.targets,
            clients: new Map(),
            operator,
            policies: s.policies,
            dmIds: s.dmIds,
          };
          const model: Model = {
            members: new Map(),
            nextId: 0,
            nextText: 0,
            usedNicks: new Set(),
            // The operator's lines were requests too.
            requests: requestsIn(real),
            said: new Map(),
            nodes,
            topics: new Map(),
            operator: true,
            outsiderBanned: false,
            accounts: Array.from({ length: nodes }, () => new Map(PRESET_ACCOUNTS)),
            storedDms: Array.from({ length: nodes }, () => []),
            dmsKept: Array.from({ length: nodes }, () => 0),
            lastDm: undefined,
          };
          try {
            await fc.asyncModelRun(() => ({ model, real }), cmds);
            // Everyone reads again at the end: what the paused ones missed must have waited.
            for (const [id, member] of model.members) {
              member.reading = true;
              real.clients.get(id)!.resume();
            }
            await check(model, real);
          } finally {
            for (const client of real.clients.values()) client.reset();
            operator.close();
          }
        },
      ),
      { numRuns: runs },
    );
  }

  it("every open, reading client hears exactly its rooms' events, once and in order", async () => {
    await modelRuns(1, Number(process.env["TCPCHAT_MODEL_RUNS"] ?? 40));
    // Bounded: 40 runs of at most 60 steps, each step waiting for its events with a deadline.
  }, 240_000);

  it("the same holds with clients spread over two nodes of a cluster on Redis", async () => {
    await modelRuns(2, Number(process.env["TCPCHAT_CLUSTER_MODEL_RUNS"] ?? 30));
  }, 240_000);
});
