import { type FSWatcher, readFileSync, watch } from "node:fs";
import { basename, dirname, resolve } from "node:path";
import { ChatError, type ChatServer, type TlsCredentials } from "@tcpchat/core";
import { type FlagValues, stringFlag } from "../args.js";
import { UsageError } from "../usage-error.js";
import type { Logger } from "./logger.js";

/** TLS as `serve` runs it: credentials from files, reloaded on SIGHUP and when they change. */
export interface TlsSetup {
  /** Server options (empty without --tls-cert). */
  options: { tls?: TlsCredentials; tlsOnly?: boolean };
  /** What the listening log says about TLS. */
  describe(): string;
  /** Starts reloading into this server (file watches). */
  attach(server: ChatServer): void;
  /** Re-reads the files; a pair that does not load keeps the one in force and logs why. */
  reload(trigger: string): void;
  close(): void;
}

/** Certbot and editors replace files in several steps (key, then chain): wait for them. */
const RELOAD_DEBOUNCE_MS = 150;

/** Reads `--tls-cert FILE --tls-key FILE [--tls-only]`. */
export function setupTls(flags: FlagValues, logger: Logger): TlsSetup {
  const certFlag = stringFlag(flags, "tls-cert");
  const keyFlag = stringFlag(flags, "tls-key");
  const tlsOnly = flags["tls-only"] === true;
  if ((certFlag === undefined) !== (keyFlag === undefined)) {
    throw new UsageError(
      "--tls-cert and --tls-key go together: give the PEM certificate chain and its private key",
    );
  }
  if (certFlag === undefined || keyFlag === undefined) {
    if (tlsOnly) throw new UsageError("--tls-only needs --tls-cert FILE and --tls-key FILE");
    return {
      options: {},
      describe: () => "off",
      attach: () => {},
      reload: (trigger) => logger.info("tls-reload", `${trigger}: no --tls-cert to reload`),
      close: () => {},
    };
  }
  const certPath = resolve(certFlag);
  const keyPath = resolve(keyFlag);
  const read = (): TlsCredentials => ({
    cert: readPem(certPath, "--tls-cert"),
    key: readPem(keyPath, "--tls-key"),
  });
  let server: ChatServer | undefined;
  const watchers: FSWatcher[] = [];
  let debounce: NodeJS.Timeout | undefined;

  const reload = (trigger: string): void => {
    if (server === undefined) return;
    try {
      server.setTlsCredentials(read());
      logger.info("tls-reload", `${trigger}: certificate reloaded from ${certFlag}`, {
        cert: certFlag,
        key: keyFlag,
      });
    } catch (error) {
      logger.warn(
        "tls-reload",
        `${trigger}: kept the previous certificate: ${(error as Error).message}`,
        { cert: certFlag, key: keyFlag },
      );
    }
  };

  const credentials = read();
  return {
    options: { tls: credentials, ...(tlsOnly ? { tlsOnly } : {}) },
    describe: () => `${tlsOnly ? "only" : "on"} (${certFlag})`,
    attach(target) {
      server = target;
      // Watch the directories, not the files: renewals and editors replace files by rename
      // (Let's Encrypt's live/ holds symlinks that are swapped), and a watch on the old file
      // would go quiet.
      const names = new Map<string, Set<string>>();
      for (const path of [certPath, keyPath]) {
        const dir = dirname(path);
        if (!names.has(dir)) names.set(dir, new Set());
        names.get(dir)!.add(basename(path));
      }
      for (const [dir, files] of names) {
        try {
          const watcher = watch(dir, (_event, changed) => {
            if (changed !== null && !files.has(changed.toString())) return;
            clearTimeout(debounce);
            debounce = setTimeout(() => reload("file changed"), RELOAD_DEBOUNCE_MS);
          });
          watcher.on("error", (error) =>
            logger.warn("tls-watch", `stopped watching ${dir}: ${error.message}; SIGHUP reloads`),
          );
          watchers.push(watcher);
        } catch (error) {
          logger.warn(
            "tls-watch",
            `cannot watch ${dir}: ${(error as Error).message}; SIGHUP reloads`,
          );
        }
      }
    },
    reload,
    close() {
      clearTimeout(debounce);
      for (const watcher of watchers) watcher.close();
    },
  };
}

function readPem(path: string, flag: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "does not exist" : (error as Error).message;
    throw new ChatError("CHAT_ERR_TLS_CREDENTIALS", {
      message: `${flag} ${path} ${why}.`,
    });
  }
}
