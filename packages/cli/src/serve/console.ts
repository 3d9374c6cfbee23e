import {
  type ChatServer,
  type DmFrame,
  formatTextLine,
  type MessageFrame,
  type ServerFrame,
} from "@tcpchat/core";
import { parseDuration } from "../args.js";
import { clock, formatBytes, formatDuration } from "../format.js";
import { formatColumns } from "../terminal/width.js";
import { UsageError } from "../usage-error.js";
import type { BanControl } from "./bans.js";
import { LineBudget } from "./line-budget.js";
import { RateMeter } from "./rate-meter.js";

/** Most lines of room traffic the console prints per second; the rest are summed up. */
const TRAFFIC_LINES_PER_SECOND = 200;

/** What the operator console needs from the `serve` command. */
export interface ConsoleDeps {
  server: ChatServer;
  bans: BanControl;
  /** Prints a line above the prompt (stdout). */
  print(text: string): void;
  /** Starts a graceful shutdown with this grace period (ms), or the default. */
  shutdown(graceMs?: number): void;
}

/** The operator console: commands and chat in, every room's traffic out. */
export interface OperatorConsole {
  /** Handles one line the operator typed. */
  handle(line: string): void;
  stop(): void;
}

const HELP = [
  "console commands (a line without / is said in the default room as the operator):",
  "  /say #ROOM TEXT              say TEXT in ROOM",
  "  /msg NICK TEXT               direct message to a client, as the operator",
  "  /kick NICK|ID [REASON]       disconnect a client",
  "  /ban ADDR|CIDR [DURATION] [--kick] [REASON]   refuse new connections from it (DURATION: 90s, 15m, 2h, 1d; default: until restart); --kick also disconnects it now",
  "  /unban ADDR|CIDR             lift a ban",
  "  /bans                        list bans",
  "  /topic #ROOM [TEXT|--clear]  show, set or clear a room's topic (kept in the data directory)",
  "  /who [ROOM]                  clients (of a room, or all)",
  "  /rooms                       rooms and member counts",
  "  /stats                       connections, messages/s, bytes, cut-offs, refusals",
  "  /shutdown [SECONDS]          tell clients, flush, stop (grace default: --shutdown-grace-ms)",
  "  /help                        this list",
  "  //TEXT                       say a line that starts with /",
].join("\n");

/** Wires the console to the server: shows room traffic and returns the line handler. */
export function createOperatorConsole(deps: ConsoleDeps): OperatorConsole {
  const { server, print } = deps;
  const traffic = new LineBudget(TRAFFIC_LINES_PER_SECOND, print);
  const show = (frame: ServerFrame, ts = Date.now()): void => {
    traffic.offer(() => `${clock(ts)} ${formatTextLine(frame) ?? ""}`);
  };
  // Direct messages between clients are private and stay out of the console; those sent to
  // the operator's nick are the operator's, and show here (answer with /msg).
  const operatorKey = server.settings.operatorNick.toLowerCase();
  const onDm = (d: Omit<DmFrame, "type">) => {
    if (d.to.toLowerCase() === operatorKey) show({ type: "dm", ...d }, d.ts);
  };
  const onMessage = (m: Omit<MessageFrame, "type">) => show({ type: "message", ...m }, m.ts);
  const onJoin = (e: { room: string; nick: string }) =>
    show({ type: "join", ts: Date.now(), ...e });
  const onPart = (e: { room: string; nick: string; reason?: string }) =>
    show({ type: "part", ts: Date.now(), ...e });
  const onNick = (e: { old: string; new: string }) => show({ type: "nick", ts: Date.now(), ...e });
  server.on("message", onMessage);
  server.on("join", onJoin);
  server.on("part", onPart);
  server.on("nick", onNick);
  server.on("dm", onDm);
  const messagesPerSecond = new RateMeter(() => server.stats().messagesIn);

  const commands: Record<string, (args: string) => void> = {
    help: () => print(HELP),
    say: (args) => {
      const match = /^#?(\S+)\s+(.+)$/.exec(args);
      if (!match) throw new UsageError("usage: /say #ROOM TEXT");
      if (!server.say(match[2]!, match[1]!)) print(`!!! no room #${match[1]}`);
    },
    topic: (args) => {
      const match = /^#?(\S+)(?:\s+(.*))?$/.exec(args.trim());
      if (!match) throw new UsageError("usage: /topic #ROOM [TEXT|--clear]");
      const [, room, text] = match;
      if (text === undefined) {
        const topic = server.topic(room!);
        print(
          topic === undefined
            ? `*** #${room} has no topic`
            : `*** topic of #${room}: ${topic.text} (set by ${topic.by})`,
        );
        return;
      }
      server.setTopic(room!, text === "--clear" ? "" : text);
      print(text === "--clear" ? `*** cleared the topic of #${room}` : `*** topic of #${room} set`);
    },
    msg: (args) => {
      const match = /^(\S+)\s+(.+)$/.exec(args);
      if (!match) throw new UsageError("usage: /msg NICK TEXT");
      if (!server.dm(match[1]!, match[2]!)) print(`!!! nobody called ${match[1]} is connected`);
    },
    kick: (args) => {
      const [target, ...reason] = args.split(/\s+/).filter(Boolean);
      if (!target) throw new UsageError("usage: /kick NICK|ID [REASON]");
      const why = reason.join(" ") || undefined;
      if (server.kick(target, why)) return print(`*** kicked ${target}`);
      // In a cluster the nick may be held on another node: that node kicks it and answers.
      void server
        .kickAnywhere(target, why)
        .then((nick) =>
          print(
            nick === null
              ? `!!! nobody called ${target} is connected (see /who)`
              : `*** kicked ${nick} (on another node)`,
          ),
        );
    },
    ban: (args) => {
      const words = args.split(/\s+/).filter(Boolean);
      const kick = words.includes("--kick");
      const rest = words.filter((w) => w !== "--kick");
      const target = rest.shift();
      if (!target) throw new UsageError("usage: /ban ADDR|CIDR [DURATION] [--kick] [REASON]");
      let durationMs: number | undefined;
      if (rest[0] !== undefined && /^\d+(\.\d+)?(ms|s|m|h|d)?$/.test(rest[0])) {
        durationMs = parseDuration("the duration", rest.shift()!);
      }
      const reason = rest.join(" ") || undefined;
      const description = deps.bans.ban(target, durationMs, reason);
      const line = `*** banned ${description}${durationMs ? ` for ${formatDuration(durationMs)}` : " until restart (or /unban)"}`;
      if (!kick) return print(line);
      const why = reason ?? "banned by the operator";
      const count = server.disconnectWhere(
        (s) => deps.bans.isBanned(s.address),
        why,
        "CHAT_ERR_BANNED",
      );
      const clients = (n: number) => `${n} client${n === 1 ? "" : "s"}`;
      if (server.cluster === undefined) return print(`${line}; disconnected ${clients(count)}`);
      // In a cluster the other nodes disconnect theirs too, and say how many.
      void server
        .disconnectCoveredElsewhere(description, why, "CHAT_ERR_BANNED")
        .then((elsewhere) =>
          print(
            `${line}; disconnected ${clients(count + elsewhere)} (${elsewhere} on other nodes)`,
          ),
        );
    },
    unban: (args) => {
      const target = args.trim();
      if (!target) throw new UsageError("usage: /unban ADDR|CIDR");
      print(
        deps.bans.unban(target)
          ? `*** unbanned ${target}`
          : `!!! ${target} is not banned (see /bans)`,
      );
    },
    bans: () => {
      const list = deps.bans.list();
      if (list.length === 0) {
        print("*** no bans");
        return;
      }
      for (const ban of list) {
        const left =
          ban.expiresAt === undefined
            ? "until restart"
            : `${formatDuration(ban.expiresAt - Date.now())} left`;
        print(
          `*** ${ban.target}  ${left}  by ${ban.source}${ban.reason ? `  (${ban.reason})` : ""}`,
        );
      }
    },
    who: (args) => {
      const room = args.trim().replace(/^#/, "");
      const sessions = server
        .sessions()
        .filter((s) => room === "" || s.rooms.some((r) => r.toLowerCase() === room.toLowerCase()));
      print(
        `*** ${sessions.length} client${sessions.length === 1 ? "" : "s"}${room ? ` in #${room}` : ""}`,
      );
      if (sessions.length === 0) return;
      // Columns line up by display width: a Korean nick takes two columns per syllable.
      const table = formatColumns([
        ["nick", "session", "address", "mode", "connected", "rooms"],
        ...sessions.map((s) => [
          s.nick,
          s.id,
          s.address.includes(":") ? `[${s.address}]:${s.port}` : `${s.address}:${s.port}`,
          s.mode,
          formatDuration(Date.now() - s.connectedAt),
          s.rooms.map((r) => `#${r}`).join(" "),
        ]),
      ]);
      for (const line of table) print(`***   ${line}`);
    },
    rooms: () => {
      const rooms = server.rooms();
      print(`*** rooms: ${rooms.map((r) => `#${r.name} (${r.members})`).join(", ") || "none"}`);
    },
    stats: () => {
      const s = server.stats();
      const refusals = Object.entries(s.refusedByCode).map(
        ([code, n]) => `${code.replace("CHAT_ERR_REFUSED_", "")}=${n}`,
      );
      print(
        [
          `*** up ${formatDuration(Date.now() - s.startedAt)}; connections ${s.connections} (peak ${s.peakConnections}, opened ${s.sessionsOpened}); rooms ${s.rooms}`,
          `*** messages ${s.messagesIn} (${messagesPerSecond.perSecond().toFixed(1)}/s over 10s), deliveries ${s.deliveries}`,
          `*** bytes in ${formatBytes(s.bytesIn)}, out ${formatBytes(s.bytesOut)}`,
          `*** send-queue cut-offs ${s.sendQueueCutoffs}, rate-limited ${s.rateLimited}, framing errors ${s.framingErrors}`,
          `*** refused ${s.refused}${refusals.length ? ` (${refusals.join(", ")})` : ""}`,
          ...clusterLines(server),
        ].join("\n"),
      );
    },
    shutdown: (args) => {
      const text = args.trim();
      if (text !== "" && !/^\d+(\.\d+)?$/.test(text))
        throw new UsageError("usage: /shutdown [SECONDS]");
      deps.shutdown(text === "" ? undefined : Math.round(Number(text) * 1000));
    },
  };

  return {
    handle(line) {
      if (line.trim() === "") return;
      if (!line.startsWith("/") || line.startsWith("//")) {
        if (!server.say(line.startsWith("//") ? line.slice(1) : line)) {
          print("!!! nobody is in the default room yet, so nobody would hear that");
        }
        return;
      }
      const match = /^\/(\S+)\s*(.*)$/.exec(line)!;
      const handler = commands[match[1]!.toLowerCase()];
      if (!handler) {
        print(`!!! unknown console command /${match[1]}; /help lists them`);
        return;
      }
      try {
        handler(match[2]!);
      } catch (error) {
        print(`!!! ${error instanceof Error ? error.message : String(error)}`);
      }
    },
    stop() {
      messagesPerSecond.stop();
      traffic.stop();
      server.off("message", onMessage);
      server.off("join", onJoin);
      server.off("part", onPart);
      server.off("nick", onNick);
      server.off("dm", onDm);
    },
  };
}

/** The cluster part of /stats: this node's traffic through Redis, and every live node. */
function clusterLines(server: ChatServer): string[] {
  const cluster = server.cluster;
  const s = server.stats().cluster;
  if (cluster === undefined || s === undefined) return [];
  const nodes = cluster
    .knownNodes()
    .map((n) => `${n.id}${n.self ? " (this one)" : ""} ${n.connections} connections`);
  return [
    `*** cluster node ${s.nodeId}: batches published ${s.published}, received ${s.received}, recovered ${s.recovered}, lost ${s.lost}; outbox ${s.outbox}; Redis lag ${s.redisLagMs} ms, reconnects ${s.reconnects}`,
    `*** nodes (${nodes.length}): ${nodes.join("; ") || "none seen yet"}`,
  ];
}
