import { resolve } from "node:path";
import {
  ChatError,
  type ChatServer,
  type ChatServerOptions,
  loadOperatorsFile,
  nameKey,
  type SqliteStore,
} from "@tcpchat/core";
import { type FlagValues, type OptionSpec, parseDuration, stringFlag } from "../args.js";
import { CommandError } from "../command-error.js";
import { EXIT_CODE } from "../exit-codes.js";
import type { Logger } from "./logger.js";

/** parseArgs options of the account flags. */
export function operatorFlagSpec(): OptionSpec {
  return {
    operators: { type: "string" },
    "login-grace": { type: "string" },
  };
}

/** Help lines of the account flags. */
export function operatorFlagHelp(): string {
  return `  --operators FILE      account names (one a line, # comments) that are operators once
                        logged in: /kick, /ban, /unban, /topic from any client; re-read on SIGHUP
  --login-grace D       a client whose hello brings a registered nick keeps it for D to log in,
                        then is renamed to a guest nick (default 30s; 0: refused at once)`;
}

/** The server options of the account flags. */
export function operatorServerOptions(flags: FlagValues): Pick<ChatServerOptions, "loginGraceMs"> {
  const grace = stringFlag(flags, "login-grace");
  return grace === undefined ? {} : { loginGraceMs: parseDuration("--login-grace", grace) };
}

/** The operators file of `serve`, read at start and again on SIGHUP. */
export interface OperatorsSetup {
  /** Gives the server the file's names (call once the store's accounts are loaded). */
  apply(server: ChatServer): void;
  /** Re-reads the file; a bad file keeps the list in force and logs why. */
  reload(trigger: string): Promise<void>;
}

/**
 * Reads `--operators FILE`. A file that cannot be read or has a bad line is an error at start
 * (exit 2, CHAT_ERR_OPERATORS_FILE), so a typo never leaves a server without its operators.
 */
export async function setupOperators(
  flags: FlagValues,
  store: SqliteStore,
  logger: Logger,
): Promise<OperatorsSetup> {
  const file = stringFlag(flags, "operators");
  const path = file === undefined ? undefined : resolve(file);
  let names: string[] = [];
  if (path !== undefined) {
    try {
      names = await loadOperatorsFile(path);
    } catch (error) {
      throw asCommandError(error);
    }
  }
  let server: ChatServer | undefined;
  const give = (trigger: string) => {
    server?.setOperators(names);
    // Whoever registers a listed name first becomes an operator: say so while it is free.
    const unregistered = names.filter((name) => store.getAccount(nameKey(name)) === undefined);
    if (unregistered.length > 0) {
      logger.warn(
        "operators",
        `${trigger}: ${unregistered.join(", ")} ${unregistered.length === 1 ? "is" : "are"} in ${file} but not registered yet: whoever registers ${unregistered.length === 1 ? "it" : "them"} first becomes an operator; register now (/register) or remove the line`,
      );
    }
    if (path !== undefined) {
      logger.info("operators", `${trigger}: ${names.length} operator accounts from ${file}`, {
        file,
        operators: names,
      });
    }
  };
  return {
    apply(target) {
      server = target;
      if (path !== undefined) give("start");
    },
    async reload(trigger) {
      if (path === undefined) return;
      try {
        names = await loadOperatorsFile(path);
        give(trigger);
      } catch (error) {
        logger.warn(
          "operators",
          `${trigger}: kept the previous operators: ${(error as Error).message}`,
          { file },
        );
      }
    },
  };
}

function asCommandError(error: unknown): unknown {
  if (!(error instanceof ChatError)) return error;
  return new CommandError(`${error.code}: ${error.message}`, {
    hint: error.hint,
    exitCode: EXIT_CODE.usage,
  });
}
