import type { AttackerKind } from "./attacker.js";

/** The attacks of the abuse scenario, in the order they run. */
export const ATTACKS = [
  "help-flood",
  "unknown-command",
  "who-flood",
  "error-flood",
  "nick-flood",
  "slow-drip",
  "kernel-send-buffer",
  // The same kinds of attack from JSON-line, WebSocket and TLS attackers, on the same port.
  "json-help-flood",
  "ws-help-flood",
  "tls-help-flood",
  "ws-oversized",
  "ws-slowloris",
  "tls-slowloris",
  // Telnet's commands, which a text connection may send between its lines.
  "telnet-timing-mark-flood",
  "telnet-interrupt-flood",
  // Requests that cost far more than a chat line: reads of a big stored room, and passwords.
  "search-flood",
  "history-flood",
  "register-flood",
  "login-flood",
] as const;
/** One attack's name. */
export type AttackName = (typeof ATTACKS)[number];

/** An attack's name, with the kind of attacker for attacks run once per kind: `login-flood/ws`. */
export function attackLabel(f: { attack: AttackName; kind?: AttackerKind }): string {
  return f.kind === undefined ? f.attack : `${f.attack}/${f.kind}`;
}

/** How big each attack and the chatters' room are. */
export interface AbuseScale {
  /** Normal chatters in #lobby, each sending a message every `chatIntervalMs` and reading all. */
  chatters: number;
  chatIntervalMs: number;
  /** Length of the baseline phase and of the attack phase, ms. */
  phaseMs: number;
  /** The error flood's phase: long enough to count error lines "in 10 s". */
  errorFloodMs: number;
  /** help-flood and unknown-command: connections that never read, and the bytes each sends. */
  floodConnections: number;
  floodBytes: number;
  /** who-flood: idle members of #big, and connections sending `/who #big` without reading. */
  whoMembers: number;
  whoConnections: number;
  /** nick-flood: connections in #lobby renaming themselves as fast as they can. */
  nickConnections: number;
  /** slow-drip: sockets dripping a partial hello; the server's cap is chatters + `dripCap`. */
  dripSockets: number;
  dripCap: number;
  /** kernel-send-buffer: clients that never read, and members of a side room that fill them. */
  nonReaders: number;
  loudTalkers: number;
  loudMessageBytes: number;
  /** search-flood and history-flood: messages seeded in #big before the server starts. */
  seededMessages: number;
  /** search-flood and history-flood: reading connections in #big asking as fast as allowed. */
  readConnections: number;
  /** register-flood and login-flood: connections asking for password work at once. */
  passwordConnections: number;
}

/**
 * Full scale follows the findings (40 connections x 2 MiB, a 1,000-member room, 190 drips, 100
 * non-readers, a stored room of 1 million messages as the history targets name). --quick keeps
 * every attack but smaller and shorter: a smoke test, not figures.
 */
export function abuseScale(quick: boolean): AbuseScale {
  return quick
    ? {
        chatters: 20,
        chatIntervalMs: 150,
        phaseMs: 1500,
        errorFloodMs: 1500,
        floodConnections: 8,
        floodBytes: 256 * 1024,
        whoMembers: 200,
        whoConnections: 2,
        nickConnections: 2,
        dripSockets: 60,
        dripCap: 50,
        nonReaders: 20,
        loudTalkers: 2,
        loudMessageBytes: 15_000,
        seededMessages: 100_000,
        readConnections: 4,
        passwordConnections: 8,
      }
    : {
        chatters: 50,
        chatIntervalMs: 150,
        phaseMs: 5000,
        errorFloodMs: 10_000,
        floodConnections: 40,
        floodBytes: 2 * 1024 * 1024,
        whoMembers: 1000,
        whoConnections: 4,
        nickConnections: 4,
        dripSockets: 190,
        dripCap: 150,
        nonReaders: 100,
        loudTalkers: 4,
        loudMessageBytes: 15_000,
        seededMessages: 1_000_000,
        readConnections: 8,
        passwordConnections: 20,
      };
}
