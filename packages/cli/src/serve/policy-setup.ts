import { type FSWatcher, watch } from "node:fs";
import { basename, dirname, resolve } from "node:path";
import {
  type AcceptPolicy,
  type BanInfo,
  createAcceptPolicy,
  loadPolicyFile,
  type PolicyConfig,
  PolicyFileError,
} from "@tcpchat/core";
import { type FlagValues, stringFlag } from "../args.js";
import { UsageError } from "../usage-error.js";
import type { BanControl } from "./bans.js";
import type { Logger } from "./logger.js";
import { describePolicy, mergePolicies, policyFromFlags } from "./policy-flags.js";

/** The server's accept policy as `serve` runs it: built from flags and file, reloadable. */
export interface PolicySetup {
  policy: AcceptPolicy;
  bans: BanControl;
  describe(): string;
  /** Re-reads the policy file; a bad file keeps the policy in force and logs why. */
  reload(trigger: string): Promise<void>;
  close(): void;
}

/** Editors write a file in several steps (truncate, write, rename): wait for them to finish. */
const RELOAD_DEBOUNCE_MS = 150;

/** Builds the policy from `--policy FILE` and the policy flags; watches the file. */
export async function setupPolicy(
  flags: FlagValues,
  logger: Logger,
  options: { onAutomaticBan?: (ban: BanInfo) => void } = {},
): Promise<PolicySetup> {
  const flagConfig = policyFromFlags(flags);
  const file = stringFlag(flags, "policy");
  const path = file === undefined ? undefined : resolve(file);
  let fileConfig: PolicyConfig = {};
  if (path !== undefined) {
    try {
      fileConfig = await loadPolicyFile(path);
    } catch (error) {
      throw new UsageError(explain(error, file!));
    }
  }
  let config = mergePolicies(fileConfig, flagConfig);
  let policy: ReturnType<typeof createAcceptPolicy>;
  try {
    policy = createAcceptPolicy(
      config,
      options.onAutomaticBan === undefined ? {} : { onAutomaticBan: options.onAutomaticBan },
    );
  } catch (error) {
    throw new UsageError(explain(error, "policy flags (--allow, --deny, --max-*, --connect-rate)"));
  }

  const reload = async (trigger: string): Promise<void> => {
    if (path === undefined) {
      logger.info("policy-reload", `${trigger}: no --policy file to reload`);
      return;
    }
    try {
      const next = mergePolicies(await loadPolicyFile(path), flagConfig);
      policy.update(next);
      config = next;
      logger.info(
        "policy-reload",
        `${trigger}: policy reloaded from ${file}: ${describePolicy(config)}`,
        { file },
      );
    } catch (error) {
      logger.warn(
        "policy-reload",
        `${trigger}: kept the previous policy: ${explain(error, file!)}`,
        { file },
      );
    }
  };

  let watcher: FSWatcher | undefined;
  let debounce: NodeJS.Timeout | undefined;
  if (path !== undefined) {
    // Watch the directory, not the file: an editor that saves by rename replaces the file,
    // and a watch on the old one would go quiet.
    const name = basename(path);
    try {
      watcher = watch(dirname(path), (_event, changed) => {
        if (changed !== null && changed.toString() !== name) return;
        clearTimeout(debounce);
        debounce = setTimeout(() => void reload("file changed"), RELOAD_DEBOUNCE_MS);
      });
      watcher.on("error", (error) =>
        logger.warn(
          "policy-watch",
          `stopped watching ${file}: ${error.message}; SIGHUP still reloads`,
        ),
      );
    } catch (error) {
      logger.warn(
        "policy-watch",
        `cannot watch ${file}: ${(error as Error).message}; SIGHUP reloads it`,
      );
    }
  }

  return {
    policy,
    bans: banControl(policy),
    describe: () => describePolicy(config),
    reload,
    close: () => {
      clearTimeout(debounce);
      watcher?.close();
    },
  };
}

function explain(error: unknown, where: string): string {
  if (error instanceof PolicyFileError) {
    const issues = error.issues
      .map((i) => (i.path ? `${i.path}: ${i.message}` : i.message))
      .join("; ");
    return `invalid ${error.file === undefined ? where : `policy file ${error.file}`}: ${issues}`;
  }
  const code = (error as NodeJS.ErrnoException).code;
  if (code === "ENOENT") return `policy file ${where} does not exist`;
  return `${where}: ${error instanceof Error ? error.message : String(error)}`;
}

function banControl(policy: ReturnType<typeof createAcceptPolicy>): BanControl {
  return {
    ban: (target, durationMs, reason) =>
      policy.ban(target, {
        ...(durationMs === undefined ? {} : { durationMs }),
        ...(reason === undefined ? {} : { reason }),
      }).target,
    unban: (target) => policy.unban(target),
    list: () =>
      policy.bans().map((b) => ({
        target: b.target,
        source: b.source,
        ...(b.expiresAt === undefined ? {} : { expiresAt: b.expiresAt }),
        ...(b.reason === undefined ? {} : { reason: b.reason }),
      })),
    isBanned: (address) => policy.isBanned(address) !== undefined,
    restore: (ban) => {
      policy.ban(ban.target, {
        ...(ban.expiresAt === undefined
          ? {}
          : { durationMs: Math.max(1, ban.expiresAt - Date.now()) }),
        ...(ban.reason === undefined ? {} : { reason: ban.reason }),
        source: ban.source === "connect-rate" ? "connect-rate" : "operator",
      });
    },
  };
}
