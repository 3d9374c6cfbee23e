import { homedir } from "node:os";
import { join, resolve } from "node:path";
import {
  type BanInfo,
  type ChatServer,
  type HistoryOptions,
  openDataDirectory,
  parseAddressOrCidr,
  type SqliteStore,
  StoreError,
} from "@tcpchat/core";
import {
  type FlagValues,
  type OptionSpec,
  parseDuration,
  parseInteger,
  stringFlag,
} from "../args.js";
import { CommandError } from "../command-error.js";
import { EXIT_CODE } from "../exit-codes.js";
import { UsageError } from "../usage-error.js";
import type { BanControl } from "./bans.js";
import type { Logger } from "./logger.js";

/** The value of `--data` that keeps nothing (an in-memory database). */
export const NO_DATA = ":memory:";

/** parseArgs options of the data and history flags. */
export function dataFlagSpec(): OptionSpec {
  return {
    data: { type: "string" },
    "history-on-join": { type: "string" },
    "history-max-age": { type: "string" },
    "history-max-per-room": { type: "string" },
  };
}

/** Help lines of the data and history flags. */
export function dataFlagHelp(): string {
  return `  --data DIR            keep history, bans and accounts in DIR (default ${describeDefault()};
                        the TCPCHAT_DATA environment variable sets it too); --data :memory: keeps
                        nothing. One server per directory.
  --history-on-join N   messages a client gets when it joins a room (default 20; 0: none)
  --history-max-age D   delete messages older than D (30d, 12h; default: keep)
  --history-max-per-room N  keep at most N messages per room (default: all)`;
}

/**
 * The per-user data directory: $XDG_DATA_HOME/tcpchat, else ~/.local/share/tcpchat (Linux and
 * other Unix), ~/Library/Application Support/tcpchat (macOS), %LOCALAPPDATA%\tcpchat (Windows).
 */
export function defaultDataDirectory(env: NodeJS.ProcessEnv = process.env): string {
  if (env.XDG_DATA_HOME) return join(env.XDG_DATA_HOME, "tcpchat");
  if (process.platform === "win32" && env.LOCALAPPDATA) return join(env.LOCALAPPDATA, "tcpchat");
  if (process.platform === "darwin") {
    return join(homedir(), "Library", "Application Support", "tcpchat");
  }
  return join(homedir(), ".local", "share", "tcpchat");
}

function describeDefault(): string {
  return process.platform === "win32"
    ? "%LOCALAPPDATA%\\tcpchat"
    : process.platform === "darwin"
      ? "~/Library/Application Support/tcpchat"
      : "$XDG_DATA_HOME/tcpchat or ~/.local/share/tcpchat";
}

function requestedDataDirectory(flags: FlagValues): string | undefined {
  return stringFlag(flags, "data") ?? (process.env.TCPCHAT_DATA || undefined);
}

/**
 * One server holds a data directory at a time, so the workers of `--workers` cannot share one:
 * they keep nothing, and asking for a directory with them is refused rather than half-kept.
 * Checked before the workers start, so that the refusal comes once, from the command.
 */
export function checkDataFitsWorkers(flags: FlagValues, workers: number): void {
  const raw = requestedDataDirectory(flags);
  if (workers > 1 && raw !== undefined && raw !== NO_DATA) {
    throw new UsageError(
      `--data ${raw} cannot be shared by --workers ${workers}: one server at a time holds a data directory. Use --workers 1, or --data ${NO_DATA}`,
    );
  }
}

/** The open data store of `serve`, with what the server and the console need from it. */
export interface DataSetup {
  store: SqliteStore;
  /** "SQLite 3.53.2 at /home/ann/.local/share/tcpchat/tcpchat.db". */
  description: string;
  history: HistoryOptions;
  /** Re-applies the stored bans to the policy; returns how many. */
  restoreBans(bans: BanControl): number;
  /** Stores a ban the connect-rate rule made (the policy's `onAutomaticBan`). */
  saveAutomaticBan(ban: BanInfo): void;
  /** The console's ban control, with every change written to the store. */
  persistBans(bans: BanControl): BanControl;
  /** Logs history pauses and store errors of the server. */
  watch(server: ChatServer): void;
  close(): void;
}

/**
 * Opens the data directory of `--data` (or TCPCHAT_DATA, or the per-user default). A directory
 * that cannot be used is a clear error at start (exit 1 with the code and a hint), never a crash
 * in the middle of a chat.
 */
export function setupData(flags: FlagValues, logger: Logger, workers = 1): DataSetup {
  const raw = requestedDataDirectory(flags);
  checkDataFitsWorkers(flags, workers);
  const dir =
    workers > 1 || raw === NO_DATA
      ? NO_DATA
      : raw === undefined
        ? defaultDataDirectory()
        : resolve(raw);
  const history = historyOptions(flags);
  let store: SqliteStore;
  try {
    store = openDataDirectory(dir);
  } catch (error) {
    if (error instanceof StoreError) {
      throw new CommandError(`${error.code}: ${error.message}`, {
        hint: error.hint,
        exitCode: EXIT_CODE.failure,
      });
    }
    throw error;
  }
  return {
    store,
    description: store.description,
    history,
    restoreBans(bans) {
      const now = Date.now();
      let count = 0;
      for (const ban of store.loadBans(now)) {
        try {
          bans.restore(ban);
          count += 1;
        } catch (error) {
          logger.warn(
            "ban-restore",
            `skipped the stored ban of ${ban.target}: ${(error as Error).message}`,
          );
        }
      }
      return count;
    },
    saveAutomaticBan(ban) {
      writeSafely(logger, "automatic ban", () => store.saveBan(ban));
    },
    persistBans(bans) {
      return {
        ...bans,
        ban(target, durationMs, reason) {
          const stored = bans.ban(target, durationMs, reason);
          const now = Date.now();
          writeSafely(logger, "ban", () =>
            store.saveBan({
              target: stored,
              source: "operator",
              createdAt: now,
              ...(durationMs === undefined ? {} : { expiresAt: now + durationMs }),
              ...(reason === undefined ? {} : { reason }),
            }),
          );
          return stored;
        },
        unban(target) {
          const lifted = bans.unban(target);
          // Stored under its canonical text: `/unban ::ffff:10.0.0.1` lifts the stored 10.0.0.1.
          const range = parseAddressOrCidr(target);
          const stored = typeof range === "string" ? target : range.text;
          writeSafely(logger, "unban", () => store.deleteBan(stored));
          return lifted;
        },
      };
    },
    watch(server) {
      server.on("history-paused", (error: Error) =>
        logger.warn(
          "history-paused",
          `history paused: cannot write to ${store.description}: ${error.message}; the chat goes on, messages wait in memory`,
        ),
      );
      server.on("history-resumed", (dropped: number) =>
        logger.info(
          "history-resumed",
          dropped === 0
            ? "history resumed: every waiting message was written"
            : `history resumed: ${dropped} messages were left out of history (the queue was full)`,
          { dropped },
        ),
      );
      server.on("store-error", (what: string, error: Error) =>
        logger.warn("store-error", `${what} failed: ${error.message}`),
      );
    },
    close: () => store.close(),
  };
}

/** A ban written to the store: a failure is logged, the ban stays in force for this run. */
function writeSafely(logger: Logger, what: string, write: () => void): void {
  try {
    write();
  } catch (error) {
    logger.warn(
      "store-error",
      `could not store the ${what}: ${(error as Error).message}; it holds until restart`,
    );
  }
}

function historyOptions(flags: FlagValues): HistoryOptions {
  const options: HistoryOptions = {};
  const onJoin = stringFlag(flags, "history-on-join");
  if (onJoin !== undefined) {
    options.joinLimit = parseInteger("--history-on-join", onJoin, { min: 0, max: 200 });
  }
  const maxAge = stringFlag(flags, "history-max-age");
  if (maxAge !== undefined) options.maxAgeMs = parseDuration("--history-max-age", maxAge);
  const perRoom = stringFlag(flags, "history-max-per-room");
  if (perRoom !== undefined) {
    options.maxPerRoom = parseInteger("--history-max-per-room", perRoom, { min: 1, max: 1e12 });
  }
  return options;
}
