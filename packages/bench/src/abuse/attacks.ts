import { encodeClientFrame } from "../load/ws-frames.js";
import {
  ATTACKER_KIND_LIST,
  ATTACKER_KINDS,
  type AttackerKind,
  openConnection,
} from "./attacker.js";
import { historyFlood, loginFlood, registerFlood, searchFlood } from "./cost-attacks.js";
import {
  AttackGroup,
  type AttackOutcome,
  type AttackTarget,
  type NewChatterResult,
  waitForLine,
} from "./group.js";
import type { AbuseScale, AttackName } from "./scale.js";

/** One attack, run in phases around the chatters' runs. */
export interface AttackRun {
  /** Before the baseline: what both phases share (idle room members, the canary). */
  setup(): Promise<void>;
  /** The attack begins; resolves once it is under way. */
  start(): Promise<void>;
  /** Ends the attack (after the chatters' attack phase) and reports what happened. */
  stop(): Promise<AttackOutcome>;
  /** Closes every connection. */
  close(): void;
}

/** What the abuse scenario knows about an attack. */
export interface AttackDefinition {
  name: AttackName;
  /** One line: what the attacker does (`kind`: what it speaks, for attacks with `kinds`). */
  title(scale: AbuseScale, kind?: AttackerKind): string;
  /** The attack phase's length, ms. */
  phaseMs(scale: AbuseScale): number;
  /** An accept policy for the server (core's PolicyConfig), if the attack needs one. */
  policy?(scale: AbuseScale): Record<string, unknown>;
  /**
   * ChatServerOptions the attack needs beyond the defaults (WebSocket, TLS with the run's
   * certificate); the limits stay the defaults, as for every attack.
   */
  serverOptions?(tls: { cert: string; key: string } | undefined): Record<string, unknown>;
  /** Whether the attack needs the run's TLS certificate. */
  needsTls?: boolean;
  /**
   * The kinds of attacker the attack runs with, one run for each against a fresh server (which
   * speaks that kind: WebSocket or TLS turned on as needed), each judged on its own: a defence
   * missing for one kind of client shows as that kind's missed target. Without: one run, with
   * the attackers the attack opens itself.
   */
  kinds?: readonly AttackerKind[];
  /**
   * The server keeps a store (history, accounts) in a fresh data directory, seeded with this
   * many messages in #big first (0: empty).
   */
  storeMessages?(scale: AbuseScale): number;
  /** The attackers' local address, when they must be a peer apart from the chatters. */
  attackerAddress?: string;
  create(target: AttackTarget, scale: AbuseScale): AttackRun;
}

/** A chunk of about 64 KiB made of one line repeated. */
function repeatedLines(line: string): Buffer {
  return Buffer.from(line.repeat(Math.max(1, Math.floor(65_536 / line.length))));
}

/**
 * About 64 KiB of one line repeated, in WebSocket frames of at most 16 KiB (the server takes a
 * message of up to its line limit, 16 KiB by default, however many lines it holds).
 */
function repeatedLineFrames(line: string): Buffer {
  const perFrame = repeatedLines(line).subarray(0, Math.floor(16_000 / line.length) * line.length);
  return Buffer.concat(Array.from({ length: 4 }, () => encodeClientFrame(perFrame)));
}

/**
 * The header of a 1 MiB WebSocket text frame and the first 64 KiB of its payload: a message far
 * over the limit, which the server can refuse as soon as it has read the header.
 */
function oversizedFrame(): Buffer {
  const header = Buffer.from([0x81, 0x80 | 127, 0, 0, 0, 0, 0, 0x10, 0, 0, 0, 0, 0, 0]);
  return Buffer.concat([header, Buffer.alloc(65_536, 0x78)]);
}

/** Connections that never read, each sending `bytes` of `line` as fast as the socket takes them. */
function floodAttack(
  target: AttackTarget,
  scale: AbuseScale,
  connections: number,
  line: string | Buffer,
  setupMembers?: (group: AttackGroup) => Promise<void>,
): AttackRun {
  const group = new AttackGroup(target);
  const floods: Array<Promise<void>> = [];
  return {
    async setup() {
      await group.openCanary();
      await setupMembers?.(group);
    },
    async start() {
      group.begin();
      const chunk = typeof line === "string" ? repeatedLines(line) : line;
      const stopAt = group.startMs + scale.phaseMs;
      for (const attacker of await group.open(connections, false)) {
        floods.push(attacker.flood(chunk, scale.floodBytes, stopAt));
      }
    },
    async stop() {
      await Promise.all(floods);
      return group.end();
    },
    close: () => group.close(),
  };
}

/** `count` idle members of #big (reading, never talking), and a probe that waits until all are in. */
async function bigRoom(group: AttackGroup, count: number): Promise<void> {
  const batch = 200;
  for (let i = 0; i < count; i += batch) {
    await Promise.all(
      Array.from({ length: Math.min(batch, count - i) }, () =>
        group.helper("/join #big\n/part #lobby\n"),
      ),
    );
  }
  const probe = await group.helper();
  const deadline = performance.now() + 30_000;
  while (performance.now() < deadline) {
    const seen = waitForLine(probe, (l) => l.startsWith("*** #big ("), 1000);
    probe.send("/who #big\n");
    const line = await seen;
    const members = Number(/^\*\*\* #big \((\d+)\)/.exec(line ?? "")?.[1] ?? 0);
    if (members >= count) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`only some of the ${count} members reached #big within 30 s`);
}

/** Connections in #lobby renaming themselves (`/nick a1n1`, `/nick a1n2`, ...) as fast as they can. */
function nickFlood(target: AttackTarget, scale: AbuseScale): AttackRun {
  const group = new AttackGroup(target);
  const floods: Array<Promise<void>> = [];
  return {
    setup: () => group.openCanary(),
    async start() {
      group.begin();
      const stopAt = group.startMs + scale.phaseMs;
      const attackers = await group.open(scale.nickConnections, true);
      attackers.forEach((attacker, k) => {
        let i = 0;
        const chunk = () => {
          let text = "";
          for (let n = 0; n < 1000; n++) text += `/nick a${k}n${++i}\n`;
          return Buffer.from(text);
        };
        floods.push(attacker.flood(chunk, scale.floodBytes, stopAt));
      });
    },
    async stop() {
      await Promise.all(floods);
      return group.end();
    },
    close: () => group.close(),
  };
}

/** One connection that reads, sending messages far above the rate limit, counting the errors. */
function errorFlood(target: AttackTarget, scale: AbuseScale): AttackRun {
  const group = new AttackGroup(target);
  let flood: Promise<void> = Promise.resolve();
  return {
    setup: () => group.openCanary(),
    async start() {
      group.begin();
      const [attacker] = await group.open(1, true);
      // Its own room, so the messages the limit lets through do not reach the chatters.
      attacker?.send("/join #flood\n/part #lobby\n");
      flood =
        attacker?.flood(
          repeatedLines("flood\n"),
          64 * 1024 * 1024,
          group.startMs + scale.errorFloodMs,
        ) ?? flood;
    },
    async stop() {
      await flood;
      return group.end();
    },
    close: () => group.close(),
  };
}

/** The partial hello a drip socket sends, one byte per second. */
const DRIP_TEXT = '{"type":"hello","proto":1,"nick":"dripping-for-a-long-time"}\n';

/**
 * Tries, until `deadlineMs`, to connect as a new chatter and see its own message come back.
 * Refused attempts are retried every 100 ms.
 */
async function newChatter(
  target: AttackTarget,
  startMs: number,
  deadlineMs: number,
): Promise<NewChatterResult> {
  const result: NewChatterResult = {
    connected: false,
    afterMs: undefined,
    attempts: 0,
    refusals: {},
  };
  while (performance.now() < deadlineMs) {
    result.attempts++;
    // A new user is a text client over plain TCP, whatever the attackers speak.
    const { host, port } = target;
    const chatter = await openConnection({ host, port, reads: true, startMs }).catch(
      () => undefined,
    );
    if (chatter) {
      const left = () => Math.max(1, deadlineMs - performance.now());
      const first = await waitForLine(chatter, () => true, left());
      if (first?.startsWith("*** tcpchat/")) {
        const said = waitForLine(chatter, (l) => l.endsWith("> new chatter here"), left());
        chatter.send("new chatter here\n");
        if (await said) {
          result.connected = true;
          result.afterMs = performance.now() - startMs;
          chatter.destroy();
          return result;
        }
      } else {
        const code = /^!!! (CHAT_ERR_[A-Z0-9_]+)/.exec(first ?? "")?.[1] ?? "closed without a line";
        result.refusals[code] = (result.refusals[code] ?? 0) + 1;
      }
      chatter.destroy();
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return result;
}

/**
 * An HTTP request that upgrades to WebSocket, as a slowloris sends it: the request line and the
 * first headers at once (so that the server knows it for HTTP at once, not for a silent text
 * client), then the rest of its head a byte a second, never ending it.
 */
const DRIP_UPGRADE_AT_ONCE =
  "GET /ws HTTP/1.1\r\nHost: chat.example.org\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n";
const DRIP_UPGRADE =
  "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nX-Padding: " +
  "a".repeat(200);

/**
 * A TLS record header announcing a 512-byte handshake message (a ClientHello) and its first
 * bytes, sent at once (the server knows it for TLS from the first byte); the rest of the record
 * comes a byte a second, so the server's TLS layer waits for it.
 */
const DRIP_CLIENT_HELLO_AT_ONCE = Buffer.from([
  0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03,
]).toString("latin1");
const DRIP_CLIENT_HELLO = "B".repeat(200);

/**
 * Sockets dripping a partial hello at 1 byte/s against a connection cap, then a real chatter.
 * `atOnce` is sent whole before the drip starts (a request line, a record header).
 */
function slowDrip(
  target: AttackTarget,
  scale: AbuseScale,
  text = DRIP_TEXT,
  atOnce = "",
): AttackRun {
  const group = new AttackGroup(target);
  let timer: NodeJS.Timeout | undefined;
  let chatter: Promise<NewChatterResult> | undefined;
  return {
    setup: () => group.openCanary(),
    async start() {
      group.begin();
      const drips = await group.open(scale.dripSockets, true);
      if (atOnce !== "") {
        const first = Buffer.from(atOnce, "latin1");
        for (const d of drips) {
          d.appBytes += first.length;
          d.socket.write(first);
        }
      }
      let at = 0;
      const drip = () => {
        if (at >= text.length - 1) return;
        const byte = Buffer.from([text.charCodeAt(at)]);
        for (const d of drips) {
          d.appBytes += 1;
          if (!d.closed) d.socket.write(byte);
        }
        at++;
      };
      drip();
      timer = setInterval(drip, 1000);
      chatter = newChatter(target, group.startMs, group.startMs + scale.phaseMs);
    },
    async stop() {
      if (timer) clearInterval(timer);
      return group.end({ newChatter: await chatter });
    },
    close: () => {
      if (timer) clearInterval(timer);
      group.close();
    },
  };
}

/**
 * Clients that never read, in #lobby while the chatters talk, and in a side room where a few
 * loud members (just under the rate limit, near the line limit) fill their buffers within
 * seconds; the chatters alone would take minutes.
 */
function kernelSendBuffer(target: AttackTarget, scale: AbuseScale): AttackRun {
  const group = new AttackGroup(target);
  const timers: NodeJS.Timeout[] = [];
  return {
    setup: () => group.openCanary(),
    async start() {
      group.begin();
      for (const reader of await group.open(scale.nonReaders, false)) reader.send("/join #sink\n");
      const loud = await Promise.all(
        Array.from({ length: scale.loudTalkers }, () =>
          group.helper("/join #sink\n/part #lobby\n"),
        ),
      );
      const message = `${"L".repeat(scale.loudMessageBytes)}\n`;
      for (const talker of loud) timers.push(setInterval(() => talker.send(message), 1000 / 19));
      const stopAt = group.startMs + scale.phaseMs;
      timers.push(
        setTimeout(() => timers.forEach(clearInterval), Math.max(0, stopAt - performance.now())),
      );
    },
    async stop() {
      for (const t of timers) clearInterval(t);
      return group.end();
    },
    close: () => {
      for (const t of timers) clearInterval(t);
      group.close();
    },
  };
}

/**
 * IAC DO TIMING-MARK repeated (about 64 KiB): the server answers every one at once, ahead of
 * the chat (telnet is deaf until it hears the answer), so the answers are its own writes.
 */
const TIMING_MARKS = Buffer.from(Array.from({ length: 21_845 }, () => [255, 253, 6]).flat());

/**
 * `hi` and IAC IP (interrupt) repeated: a command where telnet typed a key, so every line it sits
 * in has lost bytes; before binary mode each costs an error reply.
 */
const INTERRUPTED_LINES = Buffer.from(
  Array.from({ length: 10_922 }, () => [0x68, 0x69, 255, 244, 0x0d, 0x0a]).flat(),
);

/** The structured-mode twin of `/help`. */
const HELP_JSON = '{"type":"help"}\n';

/** Every attack, by name. */
export const ATTACK_DEFINITIONS: Record<AttackName, AttackDefinition> = {
  "help-flood": {
    name: "help-flood",
    title: (s) =>
      `${s.floodConnections} connections that never read, each sending ${s.floodBytes / 1024} KiB of /help`,
    phaseMs: (s) => s.phaseMs,
    create: (t, s) => floodAttack(t, s, s.floodConnections, "/help\n"),
  },
  "unknown-command": {
    name: "unknown-command",
    title: (s) =>
      `${s.floodConnections} connections that never read, each sending ${s.floodBytes / 1024} KiB of /xyzzy`,
    phaseMs: (s) => s.phaseMs,
    create: (t, s) => floodAttack(t, s, s.floodConnections, "/xyzzy\n"),
  },
  "who-flood": {
    name: "who-flood",
    title: (s) =>
      `${s.whoConnections} connections that never read, sending /who #big (${s.whoMembers} members) for ${s.floodBytes / 1024} KiB each`,
    phaseMs: (s) => s.phaseMs,
    create: (t, s) =>
      floodAttack(t, s, s.whoConnections, "/who #big\n", (g) => bigRoom(g, s.whoMembers)),
  },
  "error-flood": {
    name: "error-flood",
    title: (s) =>
      `1 connection sending messages far above the rate limit for ${s.errorFloodMs / 1000} s, reading the errors`,
    phaseMs: (s) => s.errorFloodMs,
    create: errorFlood,
  },
  "nick-flood": {
    name: "nick-flood",
    title: (s) =>
      `${s.nickConnections} connections in #lobby sending /nick x1, /nick x2, ... as fast as they can`,
    phaseMs: (s) => s.phaseMs,
    create: nickFlood,
  },
  "slow-drip": {
    name: "slow-drip",
    title: (s) =>
      `${s.dripSockets} sockets dripping a hello at 1 byte/s against a cap of ${s.chatters + 1 + s.dripCap} connections; then a new chatter`,
    phaseMs: (s) => s.phaseMs,
    // The chatters and the canary, plus room for `dripCap` drips: the rest are refused.
    policy: (s) => ({ maxConnections: s.chatters + 1 + s.dripCap }),
    create: slowDrip,
  },
  "json-help-flood": {
    name: "json-help-flood",
    title: (s) =>
      `${s.floodConnections} JSON-line connections that never read, each sending ${s.floodBytes / 1024} KiB of {"type":"help"}`,
    phaseMs: (s) => s.phaseMs,
    create: (t, s) =>
      floodAttack({ ...t, kind: ATTACKER_KINDS.json }, s, s.floodConnections, HELP_JSON),
  },
  "ws-help-flood": {
    name: "ws-help-flood",
    title: (s) =>
      `${s.floodConnections} WebSocket connections that never read, each sending ${s.floodBytes / 1024} KiB of {"type":"help"} in 16 KB frames`,
    phaseMs: (s) => s.phaseMs,
    serverOptions: () => ({ webSocket: true }),
    create: (t, s) =>
      floodAttack(
        { ...t, kind: ATTACKER_KINDS.ws },
        s,
        s.floodConnections,
        repeatedLineFrames(HELP_JSON),
      ),
  },
  "tls-help-flood": {
    name: "tls-help-flood",
    title: (s) =>
      `${s.floodConnections} TLS connections that never read, each sending ${s.floodBytes / 1024} KiB of /help`,
    phaseMs: (s) => s.phaseMs,
    needsTls: true,
    serverOptions: (tls) => ({ tls }),
    create: (t, s) =>
      floodAttack({ ...t, kind: ATTACKER_KINDS.tls }, s, s.floodConnections, "/help\n"),
  },
  "ws-oversized": {
    name: "ws-oversized",
    title: (s) =>
      `${s.floodConnections} WebSocket connections that never read, each sending 1 MiB frames (over the 16 KiB line limit)`,
    phaseMs: (s) => s.phaseMs,
    serverOptions: () => ({ webSocket: true }),
    create: (t, s) =>
      floodAttack({ ...t, kind: ATTACKER_KINDS.ws }, s, s.floodConnections, oversizedFrame()),
  },
  "ws-slowloris": {
    name: "ws-slowloris",
    title: (s) =>
      `${s.dripSockets} sockets sending a WebSocket upgrade's request line, then dripping its headers at 1 byte/s against a cap of ${s.chatters + 1 + s.dripCap} connections; then a new chatter`,
    phaseMs: (s) => s.phaseMs,
    policy: (s) => ({ maxConnections: s.chatters + 1 + s.dripCap }),
    serverOptions: () => ({ webSocket: true }),
    create: (t, s) => slowDrip(t, s, DRIP_UPGRADE, DRIP_UPGRADE_AT_ONCE),
  },
  "tls-slowloris": {
    name: "tls-slowloris",
    title: (s) =>
      `${s.dripSockets} sockets sending a TLS record header, then dripping its ClientHello at 1 byte/s against a cap of ${s.chatters + 1 + s.dripCap} connections; then a new chatter`,
    phaseMs: (s) => s.phaseMs,
    policy: (s) => ({ maxConnections: s.chatters + 1 + s.dripCap }),
    needsTls: true,
    serverOptions: (tls) => ({ tls }),
    create: (t, s) => slowDrip(t, s, DRIP_CLIENT_HELLO, DRIP_CLIENT_HELLO_AT_ONCE),
  },
  "telnet-timing-mark-flood": {
    name: "telnet-timing-mark-flood",
    title: (s) =>
      `${s.floodConnections} telnet connections that never read, each sending ${s.floodBytes / 1024} KiB of IAC DO TIMING-MARK`,
    phaseMs: (s) => s.phaseMs,
    create: (t, s) => floodAttack(t, s, s.floodConnections, TIMING_MARKS),
  },
  "telnet-interrupt-flood": {
    name: "telnet-interrupt-flood",
    title: (s) =>
      `${s.floodConnections} telnet connections that never read, each sending ${s.floodBytes / 1024} KiB of lines broken by IAC IP`,
    phaseMs: (s) => s.phaseMs,
    create: (t, s) => floodAttack(t, s, s.floodConnections, INTERRUPTED_LINES),
  },
  "kernel-send-buffer": {
    name: "kernel-send-buffer",
    title: (s) =>
      `${s.nonReaders} clients in #lobby that never read, ${s.loudTalkers} members of their side room sending ${s.loudMessageBytes / 1000} kB lines at 19/s`,
    phaseMs: (s) => s.phaseMs,
    create: kernelSendBuffer,
  },
  "search-flood": {
    name: "search-flood",
    title: (s, kind) =>
      `${s.readConnections} reading ${kind} connections sending a search for two common words never said together, in a stored room of ${s.seededMessages.toLocaleString("en")} messages`,
    phaseMs: (s) => s.phaseMs,
    storeMessages: (s) => s.seededMessages,
    kinds: ATTACKER_KIND_LIST,
    create: searchFlood,
  },
  "history-flood": {
    name: "history-flood",
    title: (s, kind) =>
      `${s.readConnections} reading ${kind} connections asking for history pages of a stored room of ${s.seededMessages.toLocaleString("en")} messages (JSON: 100 messages BEFORE/AROUND a random id or BEFORE a random time; text: /history since a random time)`,
    phaseMs: (s) => s.phaseMs,
    storeMessages: (s) => s.seededMessages,
    kinds: ATTACKER_KIND_LIST,
    create: historyFlood,
  },
  "register-flood": {
    name: "register-flood",
    title: (s, kind) =>
      `${s.passwordConnections} ${kind} connections from 127.0.0.2 registering a fresh nick each, reconnecting for the next; a registered user on 127.0.0.1 logs in meanwhile`,
    phaseMs: (s) => s.phaseMs,
    storeMessages: () => 0,
    attackerAddress: "127.0.0.2",
    kinds: ATTACKER_KIND_LIST,
    create: registerFlood,
  },
  "login-flood": {
    name: "login-flood",
    title: (s, kind) =>
      `${s.passwordConnections} ${kind} connections from 127.0.0.2 logging in with wrong passwords for ever new nicks; a registered user on 127.0.0.1 logs in meanwhile`,
    phaseMs: (s) => s.phaseMs,
    storeMessages: () => 0,
    attackerAddress: "127.0.0.2",
    kinds: ATTACKER_KIND_LIST,
    create: loginFlood,
  },
};
