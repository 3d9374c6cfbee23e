import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** A certificate made for one bench run; nothing is kept on disk. */
export interface RunCertificate {
  cert: string;
  key: string;
  /** What the handshakes were made with, for the report. */
  description: string;
}

/**
 * Makes a self-signed certificate for 127.0.0.1 with `openssl` (ECDSA P-256, the key type
 * certbot issues by default), reads it, and deletes the files. Clients trust it as their CA,
 * so each handshake verifies a chain as a real client does.
 */
export async function makeRunCertificate(): Promise<RunCertificate> {
  const dir = await mkdtemp(join(tmpdir(), "tcpchat-bench-tls-"));
  try {
    const keyFile = join(dir, "key.pem");
    const certFile = join(dir, "cert.pem");
    await run("openssl", [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-keyout",
      keyFile,
      "-out",
      certFile,
      "-days",
      "1",
      "-subj",
      "/CN=localhost",
      "-addext",
      "subjectAltName=IP:127.0.0.1,DNS:localhost",
    ]).catch((err: unknown) => {
      throw new Error(
        `--tls needs openssl to make the run's certificate: ${err instanceof Error ? err.message : String(err)}`,
      );
    });
    return {
      cert: await readFile(certFile, "utf8"),
      key: await readFile(keyFile, "utf8"),
      description: "ECDSA P-256, self-signed, made at run time",
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
