import { resolve } from "node:path";
import { nameKey, openDataDirectory, StoreError } from "@tcpchat/core";
import { parseCommandArgs, stringFlag } from "../args.js";
import { CommandError } from "../command-error.js";
import { EXIT_CODE } from "../exit-codes.js";
import { defaultDataDirectory, NO_DATA } from "../serve/data-setup.js";
import { UsageError } from "../usage-error.js";
import type { Command } from "./command.js";

const HELP = `Usage: tcpchat account op NAME [--remove] [--data DIR]

Makes the registered account NAME an operator (or, with --remove, takes that away). An operator
logged in from any client may /kick. Accounts are registered from a client with /register.

Options:
  --data DIR    the server's data directory (default: as tcpchat serve, TCPCHAT_DATA or the
                per-user data directory)
  --remove      take operator rights away instead
  -h, --help    show this help

Run it while the server is stopped: a running server holds its data directory
(CHAT_ERR_STORE_LOCKED).

Exit codes: 0 done, 1 no such account or the data directory cannot be used, 2 bad usage.

Examples:
  tcpchat account op alice
  tcpchat account op alice --remove --data /var/lib/tcpchat`;

/** `tcpchat account op NAME`: operator rights for a registered account. */
export const accountCommand: Command = {
  name: "account",
  summary: "make a registered account an operator (or not)",
  help: HELP,
  async run(argv, io) {
    const { flags, positionals } = parseCommandArgs("account", argv, {
      data: { type: "string" },
      remove: { type: "boolean" },
    });
    const [sub, name, ...extra] = positionals;
    if (sub !== "op" || name === undefined || extra.length > 0) {
      throw new UsageError(
        "usage: tcpchat account op NAME [--remove]. See: tcpchat account --help",
      );
    }
    const raw = stringFlag(flags, "data") ?? (process.env.TCPCHAT_DATA || undefined);
    if (raw === NO_DATA) throw new UsageError("--data :memory: keeps no accounts to change");
    const dir = raw === undefined ? defaultDataDirectory() : resolve(raw);
    let store: ReturnType<typeof openDataDirectory>;
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
    try {
      const operator = flags.remove !== true;
      if (!store.setOperator(nameKey(name), operator)) {
        throw new CommandError(`there is no account ${name} in ${store.description}`, {
          hint: "Register it first: connect, take the nick with /nick NAME, then /register PASSWORD.",
          exitCode: EXIT_CODE.failure,
        });
      }
      io.stdout.write(
        operator
          ? `${name} is an operator: logged in, it may /kick from any client\n`
          : `${name} is no longer an operator\n`,
      );
      return EXIT_CODE.ok;
    } finally {
      store.close();
    }
  },
};
