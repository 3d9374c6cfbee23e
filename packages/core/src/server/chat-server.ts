import { EventEmitter } from "node:events";
import { availableParallelism } from "node:os";
import { type IntervalHistogram, monitorEventLoopDelay } from "node:perf_hooks";
import { type ClusterOptions, type ClusterStats, RedisCluster } from "../cluster/redis-cluster.js";
import * as defaults from "../defaults.js";
import { ChatError, type ChatErrorCode, ERROR_CODES, ProtocolError } from "../errors.js";
import type { ManagedAcceptPolicy } from "../policy/accept-policy.js";
import type { AcceptDecision, AcceptPolicy, PeerInfo } from "../policy/types.js";
import { formatRefusalLine } from "../protocol/lines.js";
import { nameKey, normalizeName } from "../protocol/names.js";
import { type AccountSettings, Accounts, DEFAULT_ACCOUNT_SETTINGS } from "../session/accounts.js";
import { WS_CODEC } from "../session/codec.js";
import { ChatHub, type HubSettings } from "../session/hub.js";
import { setTopic, topicProblem } from "../session/operator-requests.js";
import type { Session, SessionInfo } from "../session/session.js";
import type { HubStats } from "../session/stats.js";
import { Topics } from "../session/topics.js";
import type { Endpoint } from "../session/transport.js";
import { History, type HistoryStats } from "../store/history.js";
import { type ChatStore, whenDone } from "../store/types.js";
import {
  classifyFirstBytes,
  createTcpListener,
  endWithin,
  FIRST_BYTES,
  FirstBytesSniffer,
  HttpHandler,
  normalizeAddress,
  rawSocketOf,
  type SniffResult,
  type TcpServer,
  type TcpSocket,
  TcpTransport,
  type TlsCredentials,
  type TlsSocket,
  TlsUnwrapper,
  WebSocketGateway,
  WebSocketTransport,
} from "../transport/index.js";
import { banAuthority } from "./ban-authority.js";
import { clusterMetrics } from "./cluster-metrics.js";
import { formatMetrics, type MetricFamily } from "./metrics.js";

/** HTTP on the chat port (see {@link ChatServerOptions.http}). */
export interface HttpOptions {
  /** Directory served at `/` (the browser app); without it `/` is a placeholder page. */
  staticDir?: string;
  /** Largest request head (request line and headers), in bytes (default 8192); past it: 431. */
  maxHeaderBytes?: number;
  /** Time a request head may take to arrive, in ms (default 10000). */
  headersTimeoutMs?: number;
}

/** WebSocket on the chat port (see {@link ChatServerOptions.webSocket}). */
export interface WebSocketOptions {
  /** Path that upgrades (default "/ws"). */
  path?: string;
  /**
   * Origins whose pages may connect (`https://chat.example.org`); a browser's upgrade from
   * another origin gets 403. Default: any origin. Programs that send no Origin are let through.
   */
  allowedOrigins?: readonly string[];
  /** Liveness ping interval, in ms (default 30000); no pong by the next ping drops the peer. */
  pingIntervalMs?: number;
}

/** Room history (see {@link ChatServerOptions.history}); every field has a default. */
export interface HistoryOptions {
  /** Messages a client gets when it joins a room (default 20; 0: none; at most 200). */
  joinLimit?: number;
  /** Most messages one `history` or `search` request returns (default 100). */
  maxRequestLimit?: number;
  /** Messages older than this are deleted, in ms (default: kept). */
  maxAgeMs?: number;
  /** Most messages kept per room (default: all). */
  maxPerRoom?: number;
  /** Longest a message waits before its batch is written, in ms (default 20). */
  flushMs?: number;
  /** Most messages waiting while writes fail before the oldest are left out (default 50,000). */
  maxQueue?: number;
  /** Time between tries after a failed write, in ms (default 1000). */
  retryMs?: number;
  /**
   * Commit history on a worker thread with its own connection when the store has one (SQLite on
   * disk), so that the event loop never waits for the disk (default true). false: commit on the
   * event loop, as a store in memory does.
   */
  writeThread?: boolean;
  /** Time between retention runs, in ms (default 10000). */
  retentionEveryMs?: number;
  /** Most messages one retention run deletes (default 500). */
  retentionBatch?: number;
  /**
   * Time history and search reads may take per second (on the event loop, or a search's on the
   * store's search thread), all clients together, in ms
   * (default 250); past it, requests are answered CHAT_ERR_SERVER_BUSY.
   */
  readMsPerSecond?: number;
  /**
   * Time history reads answered on the event loop may take within one turn, all clients
   * together, in ms (default 10); past it, the turn's further reads are answered
   * CHAT_ERR_SERVER_BUSY with a retry in 1 ms.
   */
  readTurnMs?: number;
  /**
   * The nice value (Linux) that the store's history writer and search threads lower themselves
   * to (default 0: as the process runs; at most 19). Higher gives them a smaller share of a
   * contended CPU: the chat's event loop gets more, and history lags behind instead (within
   * `maxQueue`; 5 and more made the write lag grow several times over on a busy machine). Where
   * a thread's priority cannot be set (no /proc) it runs as before. Reported as
   * `history.writerNice` in the server's stats.
   */
  threadNice?: number;
  /**
   * Run the store's history writer and search threads under Linux's SCHED_BATCH policy (default
   * false; set with util-linux's `chrt`, skipped where it is missing). A batch handed to the
   * writer then waits for the event loop's turn instead of preempting it at once, and keeps its
   * share of the CPU, so history falls far less behind than with a higher `threadNice`; no gain
   * in deliveries was measured on a 2-core machine (the history guide). Reported as
   * `history.writerBatch` in the server's stats.
   */
  threadBatch?: boolean;
}

/** Options of {@link ChatServer}. Every limit defaults to the value in `defaults.ts`. */
export interface ChatServerOptions {
  /** Longest line in bytes (default 16384). */
  maxLineBytes?: number;
  /** Longest nick or room name in code points (default 32). */
  maxNameLength?: number;
  /** Most rooms per session (default 20). */
  maxRoomsPerSession?: number;
  /** Bytes queued to one client before it is cut off as a slow consumer (default 1 MiB). */
  sendQueueBytes?: number;
  /** Messages per second per session (default 20). */
  messageRate?: number;
  /** Message burst per session (default 40). */
  messageBurst?: number;
  /** Work tokens per second per session; every line costs one (default 50). */
  requestRate?: number;
  /** Work tokens a session may spend at once (default 100). */
  requestBurst?: number;
  /** Nick changes per second per session (default 0.2, one per 5 s). */
  nickRate?: number;
  /** Nick changes a session may make at once (default 3). */
  nickBurst?: number;
  /** Error replies per second per session before they are summed up (default 1). */
  errorReplyRate?: number;
  /** Error replies a session may get at once (default 10). */
  errorReplyBurst?: number;
  /** A silent peer is settled as a text client after this, in ms (default 500). */
  modeSettleMs?: number;
  /** Time to complete a first line once started, in ms (default 10000). */
  firstLineTimeoutMs?: number;
  /** Time any later line may take to arrive, in ms (default 30000). */
  lineTimeoutMs?: number;
  /** How long a dropped connection's nick is kept for its address, in ms (default 60000; 0 off). */
  nickHoldMs?: number;
  /** How long writes to a session may make no progress before it is cut off, in ms (default 10000). */
  sendStallMs?: number;
  /**
   * Most writes a turn's output may take and still be flushed at the end of the I/O callback
   * that queued it rather than at the end of the event-loop turn (default 16; 0: always wait for
   * the end of the turn). Lower latency for small exchanges, full batching for big rooms.
   */
  flushAtOnceWrites?: number;
  /**
   * Time the input of all connections together may take in one event-loop turn, in ms (default
   * 5), beyond each connection's first two lines of the turn; the rest waits, unread, for the
   * next turn. Bounds how long a flood from many connections at once holds up the chat.
   */
  inputTurnMs?: number;
  /**
   * When the accept policy refuses a connection because the server is full, close the oldest
   * connection that never sent a line instead, and accept (default true).
   */
  evictLineless?: boolean;
  /** Youngest a connection may be and still be evicted at the cap, in ms (default 250). */
  evictMinAgeMs?: number;
  /** Room size above which joins/leaves are summed up (default 50). */
  announceRoomSize?: number;
  /** Window of summed-up joins/leaves in ms (default 1000). */
  announceWindowMs?: number;
  /** Ping interval for structured clients in ms (default 30000). */
  pingIntervalMs?: number;
  /** Time to answer a ping in ms (default 10000). */
  pingTimeoutMs?: number;
  /** TCP keepalive initial delay in ms (default 60000). */
  keepAliveMs?: number;
  /** Graceful shutdown deadline in ms (default 5000). */
  shutdownGraceMs?: number;
  /** Listen backlog (default 4096; the OS caps it at somaxconn). */
  backlog?: number;
  /** Room every session starts in (default "lobby"). */
  defaultRoom?: string;
  /** The operator's identity in chat (default "operator"); reserved for the operator. */
  operatorNick?: string;
  /** Decides at accept time who may connect (default: everyone). */
  policy?: AcceptPolicy;
  /**
   * Takes TLS on the same port (PEM certificate chain and key): a connection that starts with a
   * ClientHello is unwrapped and what is inside is sniffed again, so every mode works over TLS.
   */
  tls?: TlsCredentials;
  /** Refuses plaintext connections (CHAT_ERR_TLS_REQUIRED); needs `tls` (default false). */
  tlsOnly?: boolean;
  /** A TLS handshake not finished by then is dropped, in ms (default 10000). */
  tlsHandshakeTimeoutMs?: number;
  /**
   * Takes HTTP on the same port: `GET /healthz`, `GET /metrics` (Prometheus text format), a
   * static directory at `/`, 404 for the rest. `true` takes the defaults.
   */
  http?: boolean | HttpOptions;
  /**
   * Takes WebSocket clients on the same port (implies `http`): JSON lines in text messages,
   * members of the same rooms as TCP clients. `true` takes the defaults.
   */
  webSocket?: boolean | WebSocketOptions;
  /**
   * When the port takes TLS (or HTTP), how long a new connection's first bytes are waited for
   * before it is greeted as a text client, in ms (default 250). Without them there is no
   * sniffing: text clients are greeted at once.
   */
  sniffTimeoutMs?: number;
  /**
   * Joins a cluster of servers on Redis (`redis://host:port`, or the cluster's options): they
   * share rooms, presence, nicks and DMs. `listen` connects first and fails if Redis cannot be
   * reached.
   */
  redis?: string | Omit<ClusterOptions, "describe">;
  /**
   * Where history is kept (`openDataDirectory(dir)` for SQLite). Without it the server keeps no
   * history and `history`/`search` answer CHAT_ERR_HISTORY_OFF. The server does not close it.
   */
  store?: ChatStore;
  /** How history behaves when there is a `store`. */
  history?: HistoryOptions;
  /**
   * How long a client whose hello brings a registered nick may hold it before it logs in, in ms
   * (default 30000); then it is renamed to a guest nick. 0 refuses such a nick at once.
   */
  loginGraceMs?: number;
  /**
   * The password defences, each field replacing the default as a whole: failed-login and
   * registration throttles per address and account, the gate on password hashes running at
   * once (default: as many as half the machine's cores, 32 waiting, 2 per address), and the
   * scrypt cost of new hashes (default ln=15, r=8, p=1: 32 MiB each; a check always uses the
   * cost stored with its hash, so lowering it weakens only the passwords registered meanwhile).
   */
  passwordLimits?: Partial<
    Pick<AccountSettings, "throttle" | "registrationThrottle" | "passwordGate" | "scrypt">
  >;
}

/** Live figures of a server. */
export interface ServerStats extends HubStats {
  /** Open sessions. */
  connections: number;
  /** Connections refused at accept time, in all and by code. */
  refused: number;
  refusedByCode: Record<string, number>;
  rooms: number;
  startedAt: number;
  /** In a cluster: this node's id and its cluster traffic. */
  cluster?: ClusterStats & { nodeId: string };
  /** History writer figures, when the server has a store. */
  history?: HistoryStats;
}

/** Where a server listens. */
export interface ListenAddress {
  address: string;
  family: string;
  port: number;
}

const SESSION = Symbol("tcpchat.session");
/** How long a closing connection may take to read what is queued to it before it is destroyed. */
const CLOSE_LINGER_MS = 2000;
const ADMISSION = Symbol("tcpchat.admission");
type SocketWithSession = TcpSocket & { [SESSION]?: Session; [ADMISSION]?: Admission };

/**
 * A connection the accept policy let in, released to that policy once: at close, or earlier
 * when it is evicted to make room. A plain object and a listener shared by every socket, not
 * a closure and a `once` wrapper per connection (about 200 bytes less each).
 */
class Admission {
  private released = false;

  constructor(
    private readonly policy: AcceptPolicy | undefined,
    private readonly peer: PeerInfo,
  ) {}

  release(): void {
    if (this.released) return;
    this.released = true;
    this.policy?.released?.(this.peer);
  }
}

function releaseAdmission(this: SocketWithSession): void {
  this[ADMISSION]?.release();
}

/**
 * A multi-client chat server over TCP (text and structured clients on one port).
 *
 * Events: `session-open` (SessionInfo), `session-close` (SessionInfo, {code, reason}),
 * `message`, `dm`, `join`, `part`, `nick`, `refused` (PeerInfo, decision), `listening`, `close`,
 * `error`; with a store `history-paused` (error), `history-resumed` (dropped) and
 * `history-written` (count, lagMs: how long the batch's oldest message waited for its commit).
 */
export class ChatServer extends EventEmitter {
  readonly settings: HubSettings;
  private readonly hub: ChatHub;
  private readonly listener: TcpServer;
  private policy: AcceptPolicy | undefined;
  private readonly refusedByCode: Record<string, number> = {};
  private refused = 0;
  private readonly startedAt = Date.now();
  private readonly pingTimer: NodeJS.Timeout;
  private closing: Promise<void> | undefined;
  private allClosed: (() => void) | undefined;
  private readonly backlog: number;
  private readonly keepAliveMs: number;
  private readonly handlers: ReturnType<typeof socketHandlers>;
  private readonly evictLineless: boolean;
  private readonly evictMinAgeMs: number;
  /** Reads first bytes when the port takes more than chat lines; undefined: greet at once. */
  private readonly sniffer: FirstBytesSniffer<Endpoint> | undefined;
  private readonly tls: TlsUnwrapper | undefined;
  private readonly tlsOnly: boolean;
  private readonly http: HttpHandler | undefined;
  private readonly webSocket: WebSocketGateway | undefined;
  private readonly loopDelay: IntervalHistogram | undefined;
  private readonly history: History | undefined;
  private readonly store: ChatStore | undefined;
  /** Refusals by the rule that decided and the code sent: what `/metrics` reports. */
  private readonly refusedByRule = new Map<string, { rule: string; code: string; count: number }>();
  /** The cluster this server is a node of, if any. */
  readonly cluster: RedisCluster | undefined;

  constructor(options: ChatServerOptions = {}) {
    super();
    this.settings = {
      maxLineBytes: options.maxLineBytes ?? defaults.DEFAULT_MAX_LINE_BYTES,
      maxNameLength: options.maxNameLength ?? defaults.DEFAULT_MAX_NAME_LENGTH,
      maxRoomsPerSession: options.maxRoomsPerSession ?? defaults.DEFAULT_MAX_ROOMS_PER_SESSION,
      messageRate: options.messageRate ?? defaults.DEFAULT_MESSAGE_RATE,
      messageBurst: options.messageBurst ?? defaults.DEFAULT_MESSAGE_BURST,
      sendQueueBytes: options.sendQueueBytes ?? defaults.DEFAULT_SEND_QUEUE_BYTES,
      pingIntervalMs: options.pingIntervalMs ?? defaults.DEFAULT_PING_INTERVAL_MS,
      pingTimeoutMs: options.pingTimeoutMs ?? defaults.DEFAULT_PING_TIMEOUT_MS,
      announceRoomSize: options.announceRoomSize ?? defaults.DEFAULT_ANNOUNCE_ROOM_SIZE,
      announceWindowMs: options.announceWindowMs ?? defaults.DEFAULT_ANNOUNCE_WINDOW_MS,
      shutdownGraceMs: options.shutdownGraceMs ?? defaults.DEFAULT_SHUTDOWN_GRACE_MS,
      defaultRoom: options.defaultRoom ?? defaults.DEFAULT_ROOM,
      operatorNick: options.operatorNick ?? "operator",
      software: defaults.SERVER_SOFTWARE,
      requestRate: options.requestRate ?? defaults.DEFAULT_REQUEST_RATE,
      requestBurst: options.requestBurst ?? defaults.DEFAULT_REQUEST_BURST,
      nickRate: options.nickRate ?? defaults.DEFAULT_NICK_RATE,
      nickBurst: options.nickBurst ?? defaults.DEFAULT_NICK_BURST,
      errorReplyRate: options.errorReplyRate ?? defaults.DEFAULT_ERROR_REPLY_RATE,
      errorReplyBurst: options.errorReplyBurst ?? defaults.DEFAULT_ERROR_REPLY_BURST,
      modeSettleMs: options.modeSettleMs ?? defaults.DEFAULT_MODE_SETTLE_MS,
      firstLineTimeoutMs: options.firstLineTimeoutMs ?? defaults.DEFAULT_FIRST_LINE_TIMEOUT_MS,
      lineTimeoutMs: options.lineTimeoutMs ?? defaults.DEFAULT_LINE_TIMEOUT_MS,
      nickHoldMs: options.nickHoldMs ?? defaults.DEFAULT_NICK_HOLD_MS,
      sendStallMs: options.sendStallMs ?? defaults.DEFAULT_SEND_STALL_MS,
      flushAtOnceWrites: options.flushAtOnceWrites ?? defaults.DEFAULT_FLUSH_AT_ONCE_WRITES,
      inputTurnMs: options.inputTurnMs ?? defaults.DEFAULT_INPUT_TURN_MS,
    };
    this.evictLineless = options.evictLineless ?? true;
    this.evictMinAgeMs = options.evictMinAgeMs ?? defaults.DEFAULT_EVICT_MIN_AGE_MS;
    this.backlog = options.backlog ?? defaults.DEFAULT_BACKLOG;
    this.keepAliveMs = options.keepAliveMs ?? defaults.DEFAULT_KEEPALIVE_MS;
    this.policy = options.policy;
    this.hub = new ChatHub(this.settings, this);
    if (options.redis !== undefined) {
      const clusterOptions =
        typeof options.redis === "string" ? { url: options.redis } : options.redis;
      this.cluster = new RedisCluster({
        ...clusterOptions,
        describe: () => ({ connections: this.hub.sessions.size }),
      });
      this.hub.attachBus(this.cluster, this.cluster.messageIds);
      this.linkBans();
    }
    if (options.store !== undefined) {
      this.history = createHistory(options.store, options.history ?? {}, this);
      this.hub.history = this.history;
      this.hub.accounts = new Accounts(options.store, {
        ...DEFAULT_ACCOUNT_SETTINGS,
        loginGraceMs: options.loginGraceMs ?? DEFAULT_ACCOUNT_SETTINGS.loginGraceMs,
        // Password hashes on half the cores at most: the event loop keeps a core of its own.
        passwordGate: {
          ...DEFAULT_ACCOUNT_SETTINGS.passwordGate,
          maxRunning: Math.max(1, Math.floor(availableParallelism() / 2)),
        },
        ...options.passwordLimits,
      });
      this.hub.topics = new Topics(options.store, (what, error) =>
        this.hub.storeFailed(what, error),
      );
    }
    this.store = options.store;
    this.hub.bans = banAuthority(this.policy, this.store, (what, error) =>
      this.hub.storeFailed(what, error),
    );
    this.handlers = socketHandlers(this.hub);
    this.tlsOnly = options.tlsOnly ?? false;
    if (this.tlsOnly && options.tls === undefined) {
      throw new ChatError("CHAT_ERR_TLS_CREDENTIALS", {
        message: "tlsOnly needs a TLS certificate and key.",
      });
    }
    this.tls =
      options.tls === undefined
        ? undefined
        : new TlsUnwrapper({
            credentials: options.tls,
            handshakeTimeoutMs:
              options.tlsHandshakeTimeoutMs ?? defaults.DEFAULT_TLS_HANDSHAKE_TIMEOUT_MS,
            onSecure: (socket) => this.secured(socket),
          });
    const wsOptions = options.webSocket === true ? {} : options.webSocket || undefined;
    const httpOptions =
      options.http === true ? {} : options.http || (wsOptions === undefined ? undefined : {});
    const lingerMs = Math.min(CLOSE_LINGER_MS, this.settings.shutdownGraceMs);
    this.webSocket =
      wsOptions === undefined
        ? undefined
        : new WebSocketGateway({
            path: wsOptions.path ?? defaults.DEFAULT_WEBSOCKET_PATH,
            // One line and its line ending: a message of several lines shares that limit.
            maxPayloadBytes: this.settings.maxLineBytes + 2,
            allowedOrigins: wsOptions.allowedOrigins,
            pingIntervalMs: wsOptions.pingIntervalMs ?? defaults.DEFAULT_WEBSOCKET_PING_INTERVAL_MS,
            lingerMs,
            onOpen: (connection) => this.startWebSocketSession(connection),
            onMessage: this.handlers.onWebSocketMessage,
            onClosed: this.handlers.onWebSocketClosed,
          });
    if (httpOptions !== undefined) {
      const loopDelay = monitorEventLoopDelay({ resolution: 20 });
      loopDelay.enable();
      this.loopDelay = loopDelay;
      this.http = new HttpHandler({
        staticDir: httpOptions.staticDir,
        maxHeaderBytes: httpOptions.maxHeaderBytes ?? defaults.DEFAULT_HTTP_MAX_HEADER_BYTES,
        headersTimeoutMs: httpOptions.headersTimeoutMs ?? defaults.DEFAULT_HTTP_HEADERS_TIMEOUT_MS,
        metrics: () => this.metrics(),
        upgrade: (request, socket, head) => {
          if (this.webSocket === undefined || !this.webSocket.wants(request)) return false;
          this.webSocket.upgrade(request, socket, head);
          return true;
        },
      });
    }
    this.sniffer =
      this.tls === undefined && this.http === undefined
        ? undefined
        : new FirstBytesSniffer<Endpoint>(
            options.sniffTimeoutMs ?? defaults.DEFAULT_SNIFF_TIMEOUT_MS,
            (socket, result) => this.routeSniffed(socket, result),
          );
    this.listener = createTcpListener({ keepAliveMs: this.keepAliveMs }, (socket) =>
      this.accept(socket),
    );
    this.listener.on("error", (error) => this.emit("error", error));
    // Pings, line timeouts and stalls are checked about once a second, or more often when a
    // limit is shorter (tests), so each fires within half its limit of being due.
    const s = this.settings;
    const sweepMs = Math.max(
      50,
      Math.min(
        1000,
        s.pingIntervalMs / 2,
        s.pingTimeoutMs / 2,
        s.firstLineTimeoutMs / 2,
        s.lineTimeoutMs / 2,
        s.sendStallMs / 2,
      ),
    );
    this.pingTimer = setInterval(() => this.hub.sweep(), sweepMs);
    this.pingTimer.unref();
    this.on("session-close", () => {
      if (this.allClosed !== undefined && this.hub.sessions.size === 0) this.allClosed();
    });
  }

  /**
   * Starts listening. `port` defaults to 3000 (0 picks a free port); without `host` the server
   * listens on every interface, IPv4 and IPv6, like Java's `new ServerSocket(port)`.
   */
  async listen(port: number = defaults.DEFAULT_PORT, host?: string): Promise<ListenAddress> {
    await this.cluster?.start(this.hub);
    // Message ids continue after the stored ones: a restart must not reuse an id in history.
    if (this.history !== undefined) {
      this.hub.continueMessageIdsAfter(await this.history.store.lastMessageId());
      await this.hub.accounts?.load();
      await this.hub.topics.load();
    }
    await this.cluster?.topics.attach(this.hub.topics, (topic) => this.hub.showRemoteTopic(topic));
    return new Promise((resolve, reject) => {
      const onError = (error: Error) => reject(error);
      this.listener.once("error", onError);
      this.listener.listen(
        { port, ...(host === undefined ? {} : { host }), backlog: this.backlog },
        () => {
          this.listener.off("error", onError);
          this.emit("listening");
          resolve(this.address()!);
        },
      );
    });
  }

  /** Where the server listens, or null before `listen`. */
  address(): ListenAddress | null {
    const address = this.listener.address();
    return address === null || typeof address === "string" ? null : address;
  }

  /** Replaces the accept policy; sessions already open are not affected. */
  setPolicy(policy: AcceptPolicy | undefined): void {
    sharedBans(this.policy)?.(undefined);
    this.policy = policy;
    this.linkBans();
    // Operators' /ban from their clients acts on the policy in force.
    this.hub.bans = banAuthority(policy, this.store, (what, error) =>
      this.hub.storeFailed(what, error),
    );
  }

  /**
   * Makes these accounts operators (account names; an operators file), besides the accounts
   * whose stored flag says so (`tcpchat account op NAME`). Replaces the previous list, and
   * applies to sessions already logged in: one dropped from the list loses its rights at once
   * (unless its stored flag grants them). Without a store there are no accounts: a no-op.
   */
  setOperators(names: readonly string[]): void {
    const accounts = this.hub.accounts;
    if (accounts === undefined) return;
    accounts.setConfiguredOperators(names);
    for (const session of this.hub.sessions) {
      const key = session.account;
      if (key === undefined) continue;
      if (accounts.isConfiguredOperator(key)) {
        session.operator = true;
        continue;
      }
      whenDone(
        () => accounts.store.getAccount(key),
        (account) => {
          if (session.account === key) session.operator = account?.operator === true;
        },
        (error) => this.hub.storeFailed("operator rights", error),
      );
    }
  }

  /** In a cluster, the accept policy's operator bans are shared with every node. */
  private linkBans(): void {
    if (this.cluster === undefined) return;
    const bans = this.cluster.bans;
    bans.attach(sharedBans(this.policy)?.((change) => bans.publish(change)));
  }

  /**
   * Swaps the TLS certificate and key: connections from now on get the new pair, open ones are
   * not dropped. Throws CHAT_ERR_TLS_CREDENTIALS (and keeps the old pair) if they do not load.
   */
  setTlsCredentials(credentials: TlsCredentials): void {
    if (this.tls === undefined) {
      throw new ChatError("CHAT_ERR_TLS_CREDENTIALS", {
        message: "This server was started without TLS, so it has no certificate to replace.",
        hint: "Start it with a certificate and key (`tls` option, or --tls-cert and --tls-key).",
      });
    }
    this.tls.setCredentials(credentials);
  }

  /** Live figures. */
  stats(): ServerStats {
    return {
      ...this.hub.stats,
      connections: this.hub.sessions.size,
      refused: this.refused,
      refusedByCode: { ...this.refusedByCode },
      rooms: this.hub.rooms.size,
      startedAt: this.startedAt,
      ...(this.cluster === undefined
        ? {}
        : { cluster: { ...this.cluster.stats, nodeId: this.cluster.nodeId } }),
      ...(this.history === undefined ? {} : { history: { ...this.history.stats } }),
    };
  }

  sessions(): SessionInfo[] {
    return this.hub.sessionInfos();
  }

  rooms(): Array<{ name: string; members: number }> {
    return this.hub.roomList();
  }

  /** Disconnects a session by nick or id, telling it why. Returns whether it was found. */
  kick(
    target: string,
    reason?: string,
    code: "CHAT_ERR_KICKED" | "CHAT_ERR_BANNED" = "CHAT_ERR_KICKED",
  ): boolean {
    const session = this.hub.find(target);
    if (session === undefined || !session.open) return false;
    this.hub.disconnect(session, code, reason);
    return true;
  }

  /**
   * In a cluster: disconnects the session holding `nick` on whichever node holds it (this one
   * included), telling it why. Resolves with the nick as spelt there, or null when no node holds
   * it (or its node did not answer within 2 s). Alone, the same as {@link kick} by nick.
   */
  kickAnywhere(nick: string, reason?: string): Promise<string | null> {
    const here = this.hub.find(nick);
    if (here?.open) {
      this.hub.disconnect(here, "CHAT_ERR_KICKED", reason);
      return Promise.resolve(here.nick);
    }
    return new Promise((resolve) => this.hub.kickRemote(nick, "CHAT_ERR_KICKED", reason, resolve));
  }

  /** Disconnects every session the predicate picks; returns how many. */
  disconnectWhere(
    pick: (session: SessionInfo) => boolean,
    reason: string,
    code: ChatErrorCode,
  ): number {
    let count = 0;
    for (const session of [...this.hub.sessions]) {
      if (session.open && pick(session.info())) {
        this.hub.disconnect(session, code, reason);
        count += 1;
      }
    }
    return count;
  }

  /**
   * In a cluster: disconnects, on every other node, the sessions whose address `target` (an
   * address or CIDR block, as banned) covers, telling them why (`/ban --kick`; this node's own
   * sessions are {@link disconnectWhere}'s). Resolves with how many, counting the nodes that
   * answered within 2 s. Alone: 0.
   */
  disconnectCoveredElsewhere(
    target: string,
    reason: string,
    code: ChatErrorCode = "CHAT_ERR_BANNED",
  ): Promise<number> {
    return new Promise((resolve) => this.hub.kickCoveredRemote(target, code, reason, resolve));
  }

  /** The operator speaks in a room (the default room unless given). */
  say(text: string, room?: string): boolean {
    return this.hub.say(text, room);
  }

  /**
   * The operator sets a room's topic ("" clears it), as an operator account's `/topic` does:
   * the room hears it, it is stored, joiners are shown it. The room need not have members.
   * @throws {ProtocolError} CHAT_ERR_INVALID_ROOM for a bad room name, CHAT_ERR_BAD_ARGUMENT
   * for a topic that is not one line of at most 300 characters.
   */
  setTopic(room: string, text: string): void {
    const name = normalizeName(room.startsWith("#") ? room.slice(1) : room, "room");
    if (name instanceof ProtocolError) throw name;
    const problem = topicProblem(text);
    if (problem !== undefined) throw problem;
    setTopic(
      this.hub,
      { key: nameKey(name), name: this.hub.rooms.get(nameKey(name))?.name ?? name },
      text,
      this.settings.operatorNick,
      Date.now(),
    );
  }

  /** The topic of a room (by name, `#` optional), if it has one. */
  topic(room: string): { text: string; by: string; ts: number } | undefined {
    const topic = this.hub.topics.get(nameKey(room.startsWith("#") ? room.slice(1) : room));
    return topic === undefined ? undefined : { text: topic.text, by: topic.by, ts: topic.ts };
  }

  /** The operator sends a direct message to a client by nick. Returns whether it was delivered. */
  dm(to: string, text: string): boolean {
    return this.hub.operatorDm(to, text);
  }

  /**
   * Graceful shutdown: stop accepting, tell every client, flush, and close every connection
   * within `graceMs` (default `shutdownGraceMs`); what is still open then is destroyed.
   */
  close(options: { graceMs?: number; reason?: string } = {}): Promise<void> {
    if (this.closing !== undefined) return this.closing;
    const graceMs = options.graceMs ?? this.settings.shutdownGraceMs;
    const reason = options.reason ?? "the operator stopped the server";
    this.closing = new Promise<void>((resolve) => {
      clearInterval(this.pingTimer);
      // Connections still being sniffed or in their TLS handshake are not sessions yet.
      this.sniffer?.destroyPending();
      this.tls?.destroyHandshaking();
      this.http?.close();
      this.loopDelay?.disable();
      const listenerClosed = new Promise<void>((done) => {
        if (this.listener.listening) this.listener.close(() => done());
        else done();
      });
      const sessionsClosed = new Promise<void>((done) => {
        this.allClosed = done;
        if (this.hub.sessions.size === 0) done();
      });
      this.hub.noticeAll({ type: "shutdown", reason, deadlineMs: graceMs });
      for (const session of [...this.hub.sessions]) {
        this.hub.close(session, { code: "CHAT_ERR_SERVER_SHUTDOWN", reason }, true);
      }
      this.hub.flush();
      const deadline = setTimeout(() => {
        for (const session of [...this.hub.sessions]) session.transport.destroy();
      }, graceMs);
      deadline.unref();
      Promise.all([listenerClosed, sessionsClosed]).then(async () => {
        clearTimeout(deadline);
        // What was said up to the end is written before the owner closes the store.
        await this.history?.close();
        this.webSocket?.close();
        const left = this.cluster?.close() ?? Promise.resolve();
        void left.then(() => {
          this.emit("close");
          resolve();
        });
      });
    });
    return this.closing;
  }

  private accept(socket: TcpSocket): void {
    socket.on("error", ignoreSocketError);
    if (this.closing !== undefined) {
      this.refuse(socket, peerInfo(socket), {
        accept: false,
        code: "CHAT_ERR_REFUSED_SHUTTING_DOWN",
        message: ERROR_CODES.CHAT_ERR_REFUSED_SHUTTING_DOWN.message,
        rule: "shutdown",
      });
      return;
    }
    if (this.policy === undefined) {
      this.admit(socket, endpointOf(socket));
      return;
    }
    const peer = peerInfo(socket);
    let decision: AcceptDecision | Promise<AcceptDecision>;
    try {
      const cap = this.policy.maxConnections;
      if (this.evictLineless && cap !== undefined && this.heldConnections() >= cap) {
        // Silent or dripping sockets must not lock real users out: the oldest connection
        // that never completed a line makes room, if there is one; else the oldest one that
        // never finished its TLS handshake or its HTTP request head.
        const now = Date.now();
        const evicted = this.hub.evictLineless(now, this.evictMinAgeMs);
        if (
          evicted?.transport instanceof TcpTransport ||
          evicted?.transport instanceof WebSocketTransport
        ) {
          (evicted.transport.socket as SocketWithSession)[ADMISSION]?.release();
        } else if (evicted === undefined) {
          this.evictUnfinished(now);
        }
      }
      decision = this.policy.decide(peer, { connections: this.hub.openSessions });
    } catch (error) {
      this.emit("error", error);
      decision = {
        accept: false,
        code: "CHAT_ERR_REFUSED_CUSTOM",
        message: "The server's admission rule failed.",
        rule: "error",
      };
    }
    if (isThenable(decision)) {
      // Nothing is read until the decision: a refused peer costs no parsing and no session.
      socket.pause();
      decision.then(
        (settled) => this.decided(socket, peer, settled),
        () =>
          this.decided(socket, peer, {
            accept: false,
            code: "CHAT_ERR_REFUSED_CUSTOM",
            message: "The server's admission rule failed.",
            rule: "error",
          }),
      );
    } else {
      this.decided(socket, peer, decision);
    }
  }

  /** Connections that count against the cap: sessions, and those still in a handshake or head. */
  private heldConnections(): number {
    return this.hub.openSessions + (this.tls?.handshakes ?? 0) + (this.http?.headsAwaited ?? 0);
  }

  /**
   * Drops the oldest connection that never finished its TLS handshake or its HTTP request head
   * (a slowloris), if it is at least `evictMinAgeMs` old, to make room at the cap.
   */
  private evictUnfinished(now: number): void {
    const tls = this.tls?.oldestHandshake();
    const http = this.http?.oldestAwaitingHead();
    const oldest = tls === undefined || (http !== undefined && http.since < tls.since) ? http : tls;
    if (oldest === undefined || now - oldest.since < this.evictMinAgeMs) return;
    this.hub.stats.evictions += 1;
    (oldest.socket as SocketWithSession)[ADMISSION]?.release();
    oldest.socket.destroy();
  }

  private decided(socket: TcpSocket, peer: PeerInfo, decision: AcceptDecision): void {
    if (socket.destroyed) {
      if (decision.accept) this.policy?.released?.(peer);
      return;
    }
    if (!decision.accept) {
      this.refuse(socket, peer, decision);
      return;
    }
    (socket as SocketWithSession)[ADMISSION] = new Admission(this.policy, peer);
    socket.on("close", releaseAdmission);
    this.admit(socket, peer);
    socket.resume();
  }

  /** An accepted connection: a session now, or once its first bytes say what it is. */
  private admit(socket: SocketWithSession, peer: Endpoint): void {
    if (this.sniffer === undefined) {
      this.startSession(socket, peer);
      return;
    }
    this.sniffer.watch(socket, peer);
  }

  /** Routes a connection by its first bytes (protocol spec, "One port"). */
  private routeSniffed(socket: SocketWithSession, result: SniffResult<Endpoint>): void {
    const peer = result.context;
    if (this.closing !== undefined || socket.destroyed) {
      socket.destroy();
      return;
    }
    const encrypted = (socket as { encrypted?: boolean }).encrypted === true;
    if (result.kind === "tls" && !encrypted && this.tls !== undefined) {
      socket.pause();
      if (result.bytes !== null) socket.unshift(result.bytes);
      this.tls.unwrap(socket);
      return;
    }
    if (this.tlsOnly && !encrypted) {
      this.refuse(socket, peerInfo(socket), {
        accept: false,
        code: "CHAT_ERR_TLS_REQUIRED",
        message: ERROR_CODES.CHAT_ERR_TLS_REQUIRED.message,
        rule: "tlsOnly",
      });
      return;
    }
    if (result.kind === "http" && this.http !== undefined) {
      socket.pause();
      if (result.bytes !== null) socket.unshift(result.bytes);
      this.http.handle(socket);
      return;
    }
    // Text and JSON (and anything this port has no handler for) are chat sessions. One taken
    // for text by silence is checked once more: a late HTTP request or TLS hello is not chat.
    const session = this.startSession(socket, peer, result.silent);
    if (result.bytes !== null) this.hub.receive(session, result.bytes);
    if (result.ended) this.handlers.onEnd.call(socket);
  }

  /** A TLS handshake is done: the connection inside is sniffed again. */
  private secured(socket: TlsSocket): void {
    const raw = rawSocketOf(socket) as SocketWithSession;
    const secure = socket as TlsSocket & SocketWithSession;
    socket.on("error", ignoreSocketError);
    // Eviction at the cap releases the policy slot through the session's own socket.
    if (raw[ADMISSION] !== undefined) secure[ADMISSION] = raw[ADMISSION];
    if (this.closing !== undefined) {
      socket.destroy();
      return;
    }
    this.sniffer!.watch(socket, endpointOf(raw));
  }

  private refuse(
    socket: TcpSocket,
    peer: PeerInfo,
    decision: Extract<AcceptDecision, { accept: false }>,
  ): void {
    this.refused += 1;
    this.refusedByCode[decision.code] = (this.refusedByCode[decision.code] ?? 0) + 1;
    const key = `${decision.rule}\u0000${decision.code}`;
    const byRule = this.refusedByRule.get(key);
    if (byRule === undefined) {
      this.refusedByRule.set(key, { rule: decision.rule, code: decision.code, count: 1 });
    } else byRule.count += 1;
    const line = formatRefusalLine(
      decision.code,
      decision.message,
      ERROR_CODES[decision.code].hint,
      decision.retryAfterMs,
    );
    // Refused peers are not read from; a short linger bounds what a flood of them can hold.
    endWithin(socket, 1000, `${line}\n`);
    if (this.listenerCount("refused") > 0) this.emit("refused", peer, decision);
  }

  /** A WebSocket is open: a session in the WebSocket codec, no text greeting (spec "One port"). */
  private startWebSocketSession(connection: WebSocketTransport): void {
    if (this.closing !== undefined) {
      connection.destroy();
      return;
    }
    connection.session = this.hub.open(
      connection,
      endpointOf(connection.socket as TcpSocket),
      Date.now(),
      WS_CODEC,
    );
  }

  /** The figures of `GET /metrics`, in the Prometheus text format. */
  metrics(): string {
    const stats = this.stats();
    const connections = new Map<string, { mode: string; transport: string; count: number }>();
    for (const info of this.hub.sessions) {
      if (!info.open) continue;
      const transport =
        info.transport instanceof WebSocketTransport
          ? "websocket"
          : ((info.transport as TcpTransport).socket as { encrypted?: boolean }).encrypted === true
            ? "tls"
            : "tcp";
      const key = `${info.mode}/${transport}`;
      const entry = connections.get(key);
      if (entry === undefined) connections.set(key, { mode: info.mode, transport, count: 1 });
      else entry.count += 1;
    }
    const counter = (name: string, help: string, value: number): MetricFamily => ({
      name,
      help,
      type: "counter",
      samples: [{ value }],
    });
    const delay = this.loopDelay;
    const families: MetricFamily[] = [
      {
        name: "tcpchat_connections",
        help: "Open chat sessions by mode (pending, text, structured) and transport (tcp, tls, websocket).",
        type: "gauge",
        samples: [...connections.values()].map((c) => ({
          labels: { mode: c.mode, transport: c.transport },
          value: c.count,
        })),
      },
      counter("tcpchat_sessions_opened_total", "Chat sessions opened.", stats.sessionsOpened),
      counter(
        "tcpchat_requests_in_total",
        "Requests parsed (messages, commands, frames).",
        stats.requestsIn,
      ),
      counter(
        "tcpchat_messages_in_total",
        "Room and direct messages accepted for delivery.",
        stats.messagesIn,
      ),
      counter(
        "tcpchat_deliveries_total",
        "Frames delivered to receivers (one message to a room of 500 counts 500).",
        stats.deliveries,
      ),
      counter("tcpchat_bytes_in_total", "Bytes read from chat clients.", stats.bytesIn),
      counter("tcpchat_bytes_out_total", "Bytes written to chat clients.", stats.bytesOut),
      counter(
        "tcpchat_send_queue_cutoffs_total",
        "Sessions cut off because their send queue passed the limit or stalled.",
        stats.sendQueueCutoffs,
      ),
      counter(
        "tcpchat_rate_limited_total",
        "Messages refused by the per-session rate limit.",
        stats.rateLimited,
      ),
      counter(
        "tcpchat_framing_errors_total",
        "Lines discarded as too long or not UTF-8.",
        stats.framingErrors,
      ),
      counter(
        "tcpchat_line_timeouts_total",
        "Connections closed because a line took too long.",
        stats.lineTimeouts,
      ),
      counter(
        "tcpchat_evictions_total",
        "Lineless connections closed at the connection cap.",
        stats.evictions,
      ),
      {
        name: "tcpchat_refused_total",
        help: "Connections refused, by the rule that decided and the code sent.",
        type: "counter",
        samples: [...this.refusedByRule.values()].map((r) => ({
          labels: { rule: r.rule, code: r.code },
          value: r.count,
        })),
      },
    ];
    if (delay !== undefined) {
      families.push({
        name: "tcpchat_event_loop_delay_seconds",
        help: "Event-loop delay since the server started (p50, p99, max).",
        type: "gauge",
        samples: [
          { labels: { quantile: "0.5" }, value: delay.percentile(50) / 1e9 },
          { labels: { quantile: "0.99" }, value: delay.percentile(99) / 1e9 },
          { labels: { quantile: "1" }, value: delay.max / 1e9 },
        ],
      });
    }
    if (this.cluster !== undefined) families.push(...clusterMetrics(this.cluster));
    return formatMetrics(families);
  }

  private startSession(socket: SocketWithSession, peer: Endpoint, lateCheck = false): Session {
    const session = this.hub.open(
      new TcpTransport(socket, Math.min(CLOSE_LINGER_MS, this.settings.shutdownGraceMs)),
      peer,
    );
    socket[SESSION] = session;
    socket.on("data", lateCheck ? this.handlers.onDataAfterSilence : this.handlers.onData);
    socket.on("end", this.handlers.onEnd);
    // The session's close handler releases the admission: one 'close' listener, not an array.
    if (socket[ADMISSION] !== undefined) socket.off("close", releaseAdmission);
    socket.on("close", this.handlers.onClose);
    return session;
  }
}

const NEWLINE = Buffer.from("\n");

/** Socket handlers shared by every connection of a hub (`this` is the socket): no closures per connection. */
function socketHandlers(hub: ChatHub) {
  const handlers = {
    onData(this: SocketWithSession, chunk: Buffer): void {
      hub.receive(this[SESSION]!, chunk);
    },
    /**
     * The first chunk of a connection greeted as text because it was silent: a late HTTP
     * request or TLS hello (a busy client) would otherwise be read as chat lines, headers and
     * all. It is closed instead; anything else is chat.
     */
    onDataAfterSilence(this: SocketWithSession, chunk: Buffer): void {
      this.off("data", handlers.onDataAfterSilence);
      this.on("data", handlers.onData);
      const kind = classifyFirstBytes(chunk);
      const session = this[SESSION]!;
      if (kind === FIRST_BYTES.http || kind === FIRST_BYTES.tls) {
        hub.close(
          session,
          {
            reason: `a late ${kind === FIRST_BYTES.http ? "HTTP request" : "TLS hello"} after the text greeting`,
          },
          false,
        );
        return;
      }
      hub.receive(session, chunk);
    },
    onEnd(this: SocketWithSession): void {
      const session = this[SESSION]!;
      hub.receiveEnd(session);
      hub.close(session, { reason: "client closed the connection" }, true);
    },
    onWebSocketMessage(connection: WebSocketTransport, bytes: Buffer): void {
      const session = connection.session;
      if (session === undefined) return;
      hub.receive(session, bytes);
      // A message ends its last line (spec "One port"): the newline is optional.
      if (bytes.length === 0 || bytes[bytes.length - 1] !== 0x0a) hub.receive(session, NEWLINE);
    },
    onWebSocketClosed(connection: WebSocketTransport): void {
      // Only sessions that were opened (not ones refused while the server closes).
      const session = connection.session;
      if (session !== undefined) hub.transportClosed(session, { reason: "connection closed" });
    },
    onClose(this: SocketWithSession, hadError: boolean): void {
      this[ADMISSION]?.release();
      hub.transportClosed(this[SESSION]!, {
        reason: hadError ? "connection reset" : "connection closed",
      });
    },
  };
  return handlers;
}

/**
 * Who is at the other end of a socket, as a session keeps it. Without an accept policy only
 * this is read: the local address is not, since Node keeps what it reads (an object and a
 * string, about 90 bytes per connection) for the socket's life.
 */
function endpointOf(socket: TcpSocket): Endpoint {
  return { address: normalizeAddress(socket.remoteAddress), port: socket.remotePort ?? 0 };
}

/** Who is at the other end of a socket, as the accept policy sees it. */
function peerInfo(socket: TcpSocket): PeerInfo {
  return {
    address: normalizeAddress(socket.remoteAddress),
    port: socket.remotePort ?? 0,
    family:
      socket.remoteFamily === "IPv6" && !socket.remoteAddress?.startsWith("::ffff:")
        ? "IPv6"
        : "IPv4",
    localAddress: normalizeAddress(socket.localAddress),
    localPort: socket.localPort ?? 0,
  };
}

function isThenable<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof (value as { then?: unknown }).then === "function";
}

function ignoreSocketError(): void {
  // Resets and broken pipes are normal for chat clients; 'close' follows and cleans up.
}

/** The history of a server over its store, reporting to the server's events. */
function createHistory(store: ChatStore, options: HistoryOptions, events: EventEmitter): History {
  return new History(
    store,
    {
      joinLimit: Math.min(
        defaults.MAX_HISTORY_JOIN_LIMIT,
        options.joinLimit ?? defaults.DEFAULT_HISTORY_JOIN_LIMIT,
      ),
      maxRequestLimit: options.maxRequestLimit ?? defaults.DEFAULT_HISTORY_MAX_REQUEST,
      flushMs: options.flushMs ?? defaults.DEFAULT_HISTORY_FLUSH_MS,
      maxQueue: options.maxQueue ?? defaults.DEFAULT_HISTORY_MAX_QUEUE,
      retryMs: options.retryMs ?? defaults.DEFAULT_HISTORY_RETRY_MS,
      writeThread: options.writeThread ?? true,
      readMsPerSecond: options.readMsPerSecond ?? defaults.DEFAULT_HISTORY_READ_MS_PER_SECOND,
      readTurnMs: options.readTurnMs ?? defaults.DEFAULT_HISTORY_READ_TURN_MS,
      threadNice: options.threadNice ?? defaults.DEFAULT_STORE_THREAD_NICE,
      threadBatch: options.threadBatch ?? defaults.DEFAULT_STORE_THREAD_BATCH,
      retention: {
        ...(options.maxAgeMs === undefined ? {} : { maxAgeMs: options.maxAgeMs }),
        ...(options.maxPerRoom === undefined ? {} : { maxPerRoom: options.maxPerRoom }),
      },
      retentionEveryMs: options.retentionEveryMs ?? defaults.DEFAULT_RETENTION_EVERY_MS,
      retentionBatch: options.retentionBatch ?? defaults.DEFAULT_RETENTION_BATCH,
    },
    {
      onPaused: (error) => events.emit("history-paused", error),
      onResumed: (dropped) => events.emit("history-resumed", dropped),
      onWritten: (count, lagMs) => {
        if (events.listenerCount("history-written") > 0) {
          events.emit("history-written", count, lagMs);
        }
      },
      onRetentionError: (error) => events.emit("store-error", "retention", error),
    },
  );
}

/** Creates a {@link ChatServer}. */
export function createServer(options: ChatServerOptions = {}): ChatServer {
  return new ChatServer(options);
}

/** The policy's way to share operator bans, when it keeps a ban list (a managed policy). */
function sharedBans(
  policy: AcceptPolicy | undefined,
): ManagedAcceptPolicy["shareBans"] | undefined {
  const share = (policy as Partial<ManagedAcceptPolicy> | undefined)?.shareBans;
  return share?.bind(policy);
}
