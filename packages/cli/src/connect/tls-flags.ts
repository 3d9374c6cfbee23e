import { readFileSync } from "node:fs";
import type { TlsClientOptions } from "@tcpchat/core";
import { type FlagValues, stringFlag } from "../args.js";
import { UsageError } from "../usage-error.js";

/** The TLS flags `connect` and `doctor` share: `--tls`, `--ca FILE`, `--insecure`. */
export const TLS_FLAG_SPEC = {
  tls: { type: "boolean" },
  ca: { type: "string" },
  insecure: { type: "boolean" },
} as const;

/** The help lines of {@link TLS_FLAG_SPEC}. */
export const TLS_FLAG_HELP = `  --tls              speak TLS (the server runs with --tls-cert and --tls-key)
  --ca FILE          trust this PEM certificate (the server's own, or its CA) instead of the
                     system's CAs; implies --tls
  --insecure         do not check the server's certificate (labs and tests only); implies --tls`;

/**
 * Reads the TLS flags: undefined without `--tls`, `--ca` or `--insecure`. The CA file is read
 * here, so a wrong path is a usage error before any connection.
 */
export function tlsFromFlags(flags: FlagValues): TlsClientOptions | undefined {
  const caFile = stringFlag(flags, "ca");
  const insecure = flags.insecure === true;
  if (flags.tls !== true && caFile === undefined && !insecure) return undefined;
  if (caFile !== undefined && insecure) {
    throw new UsageError("--ca and --insecure contradict each other: give one of them.");
  }
  if (caFile === undefined) return insecure ? { insecure } : {};
  let ca: string;
  try {
    ca = readFileSync(caFile, "utf8");
  } catch (error) {
    throw new UsageError(`--ca: cannot read ${caFile}: ${(error as Error).message}`);
  }
  if (!ca.includes("-----BEGIN CERTIFICATE-----")) {
    throw new UsageError(`--ca: ${caFile} holds no PEM certificate (-----BEGIN CERTIFICATE-----).`);
  }
  return { ca };
}
