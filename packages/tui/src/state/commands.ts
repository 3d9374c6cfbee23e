/** Parsing what the user submits: plain text, or one of the TUI's /commands. */

/** Commands the TUI understands, with their usage (shown by /help, offered by Tab). */
export const COMMANDS = {
  join: "/join ROOM  join a room (and show its tab)",
  part: "/part [ROOM]  leave a room (default: this tab's)",
  close: "/close  close this tab (leaves the room)",
  msg: "/msg NICK TEXT  direct message (opens a tab)",
  query: "/query NICK  open a direct-message tab",
  me: "/me TEXT  action in this tab's room",
  nick: "/nick NAME  change your nick",
  who: "/who [ROOM]  list the members of a room",
  rooms: "/rooms  list rooms and their sizes",
  history:
    "/history [NICK] [N | since TIME]  earlier messages of this tab, or your stored DMs with NICK (TIME: 30m, 2h, 1d or 2026-11-30T09:00Z); PgUp at the top loads older ones too",
  search: "/search WORDS  find messages of this tab's room with every word",
  register: "/register PASSWORD  register your nick (use --tls: the password crosses the network)",
  login: "/login NAME PASSWORD  log in to a registered nick",
  topic: "/topic [ROOM] [TEXT | --clear]  show this tab's room topic, or set it (operators)",
  kick: "/kick NICK [REASON]  disconnect a user (operators)",
  ban: "/ban NICK|ADDRESS [DURATION] [REASON]  ban an address (DURATION: 90s, 15m, 2h, 1d; operators)",
  unban: "/unban ADDRESS  lift a ban of an address or CIDR block (operators)",
  clear: "/clear  clear this tab's lines",
  help: "/help  this list; keys: PgUp/PgDn scroll, Ctrl+N/Ctrl+P or Alt+1..9 switch tabs",
  quit: "/quit [REASON]  leave and exit",
} as const;
/** A TUI command name. */
export type CommandName = keyof typeof COMMANDS;

/** Command names, for completion. */
export const COMMAND_NAMES = Object.keys(COMMANDS) as CommandName[];

const ALIASES: Record<string, CommandName> = {
  j: "join",
  leave: "part",
  names: "who",
  list: "rooms",
  exit: "quit",
  wc: "close",
  action: "me",
  identify: "login",
};

/** Commands whose line holds a password: never kept in the input history. */
export const SECRET_COMMANDS: ReadonlySet<CommandName> = new Set(["register", "login"]);

/** What a submitted line asks for. */
export type Intent =
  | { readonly type: "none" }
  | { readonly type: "say"; readonly text: string }
  | { readonly type: "command"; readonly name: CommandName; readonly args: string }
  | { readonly type: "unknown"; readonly name: string };

/** Reads one submitted line (spec 3.2 conventions: `//text` sends `/text`). */
export function parseSubmit(line: string): Intent {
  if (line.trim() === "") return { type: "none" };
  if (line.startsWith("//")) return { type: "say", text: line.slice(1) };
  if (!line.startsWith("/")) return { type: "say", text: line };
  const match = /^\/(\S*)\s*(.*)$/s.exec(line)!;
  const raw = match[1]!.toLowerCase();
  const name = (raw in COMMANDS ? raw : ALIASES[raw]) as CommandName | undefined;
  if (!name) return { type: "unknown", name: raw };
  return { type: "command", name, args: match[2]!.trim() };
}

/** Splits `args` into its first word and the rest. */
export function firstWord(args: string): [string, string] {
  const match = /^(\S*)\s*(.*)$/s.exec(args)!;
  return [match[1]!, match[2]!];
}
