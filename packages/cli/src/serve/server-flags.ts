import type { ChatServerOptions } from "@tcpchat/core";
import * as defaults from "@tcpchat/core";
import { type FlagValues, type OptionSpec, parseInteger, stringFlag } from "../args.js";

type NumericOption = Exclude<
  {
    [K in keyof ChatServerOptions]-?: NonNullable<ChatServerOptions[K]> extends number ? K : never;
  }[keyof ChatServerOptions],
  undefined
>;

interface NumericFlag {
  flag: string;
  option: NumericOption;
  min: number;
  max: number;
  defaultValue: number;
  help: string;
}

/** Every numeric server limit as a flag: name, range, default (from core), one line of help. */
export const SERVER_LIMIT_FLAGS: readonly NumericFlag[] = [
  {
    flag: "max-line-bytes",
    option: "maxLineBytes",
    min: 64,
    max: 64 * 1024 * 1024,
    defaultValue: defaults.DEFAULT_MAX_LINE_BYTES,
    help: "longest line accepted, in bytes of UTF-8",
  },
  {
    flag: "max-name-length",
    option: "maxNameLength",
    min: 1,
    max: 1024,
    defaultValue: defaults.DEFAULT_MAX_NAME_LENGTH,
    help: "longest nick or room name, in characters",
  },
  {
    flag: "max-rooms-per-session",
    option: "maxRoomsPerSession",
    min: 1,
    max: 10_000,
    defaultValue: defaults.DEFAULT_MAX_ROOMS_PER_SESSION,
    help: "rooms one client may be in at once",
  },
  {
    flag: "send-queue-bytes",
    option: "sendQueueBytes",
    min: 1024,
    max: 1024 * 1024 * 1024,
    defaultValue: defaults.DEFAULT_SEND_QUEUE_BYTES,
    help: "bytes queued to a slow client before it is cut off",
  },
  {
    flag: "message-rate",
    option: "messageRate",
    min: 1,
    max: 1_000_000,
    defaultValue: defaults.DEFAULT_MESSAGE_RATE,
    help: "messages per second per client, sustained",
  },
  {
    flag: "message-burst",
    option: "messageBurst",
    min: 1,
    max: 1_000_000,
    defaultValue: defaults.DEFAULT_MESSAGE_BURST,
    help: "messages per client in a burst",
  },
  {
    flag: "announce-room-size",
    option: "announceRoomSize",
    min: 1,
    max: 10_000_000,
    defaultValue: defaults.DEFAULT_ANNOUNCE_ROOM_SIZE,
    help: "above this many members, joins/leaves are summed up",
  },
  {
    flag: "announce-window-ms",
    option: "announceWindowMs",
    min: 10,
    max: 3_600_000,
    defaultValue: defaults.DEFAULT_ANNOUNCE_WINDOW_MS,
    help: "window of those summaries, in ms",
  },
  {
    flag: "ping-interval-ms",
    option: "pingIntervalMs",
    min: 100,
    max: 86_400_000,
    defaultValue: defaults.DEFAULT_PING_INTERVAL_MS,
    help: "ping structured clients this often, in ms",
  },
  {
    flag: "ping-timeout-ms",
    option: "pingTimeoutMs",
    min: 100,
    max: 86_400_000,
    defaultValue: defaults.DEFAULT_PING_TIMEOUT_MS,
    help: "time to answer a ping, in ms",
  },
  {
    flag: "keep-alive-ms",
    option: "keepAliveMs",
    min: 1000,
    max: 86_400_000,
    defaultValue: defaults.DEFAULT_KEEPALIVE_MS,
    help: "TCP keepalive initial delay, in ms",
  },
  {
    flag: "shutdown-grace-ms",
    option: "shutdownGraceMs",
    min: 0,
    max: 600_000,
    defaultValue: defaults.DEFAULT_SHUTDOWN_GRACE_MS,
    help: "time to flush clients on shutdown, in ms",
  },
  {
    flag: "sniff-timeout-ms",
    option: "sniffTimeoutMs",
    min: 10,
    max: 60_000,
    defaultValue: defaults.DEFAULT_SNIFF_TIMEOUT_MS,
    help: "with TLS or HTTP on the port: wait this long for a first byte before greeting as text, in ms",
  },
  {
    flag: "backlog",
    option: "backlog",
    min: 1,
    max: 1_000_000,
    defaultValue: defaults.DEFAULT_BACKLOG,
    help: "listen backlog (queued, not yet accepted connections)",
  },
];

/** The server's string options as flags. */
export const SERVER_NAME_FLAGS = [
  {
    flag: "default-room",
    option: "defaultRoom",
    defaultValue: defaults.DEFAULT_ROOM,
    help: "room every client starts in",
  },
  {
    flag: "operator-nick",
    option: "operatorNick",
    defaultValue: "operator",
    help: "nick the console speaks as",
  },
] as const;

/** parseArgs options for every server limit. */
export function serverFlagSpec(): OptionSpec {
  const spec: OptionSpec = {};
  for (const f of SERVER_LIMIT_FLAGS) spec[f.flag] = { type: "string" };
  for (const f of SERVER_NAME_FLAGS) spec[f.flag] = { type: "string" };
  return spec;
}

/** Reads the server-limit flags into ChatServerOptions (only the ones given). */
export function serverOptionsFromFlags(flags: FlagValues): ChatServerOptions {
  const options: Record<string, number | string> = {};
  for (const f of SERVER_LIMIT_FLAGS) {
    const raw = stringFlag(flags, f.flag);
    if (raw !== undefined) options[f.option] = parseInteger(`--${f.flag}`, raw, f);
  }
  for (const f of SERVER_NAME_FLAGS) {
    const raw = stringFlag(flags, f.flag);
    if (raw !== undefined) options[f.option] = raw;
  }
  return options as ChatServerOptions;
}

/** The help lines for the server-limit flags. */
export function serverFlagHelp(): string {
  const rows = [
    ...SERVER_LIMIT_FLAGS.map((f) => [`--${f.flag} N`, `${f.help} (default ${f.defaultValue})`]),
    ...SERVER_NAME_FLAGS.map((f) => [`--${f.flag} NAME`, `${f.help} (default ${f.defaultValue})`]),
  ];
  const width = Math.max(...rows.map((r) => r[0]!.length));
  return rows.map(([flag, text]) => `  ${flag!.padEnd(width)}  ${text}`).join("\n");
}
