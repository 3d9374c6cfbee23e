import { type ChildProcessWithoutNullStreams, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A self-signed certificate made at run time (no key is committed). */
export interface TestCertificate {
  cert: string;
  key: string;
  certFile: string;
  keyFile: string;
  dir: string;
}

/**
 * Makes a self-signed certificate for localhost and 127.0.0.1 with the `openssl` command, in a
 * fresh temporary directory (or in `dir`, replacing the files there).
 */
export function makeCertificate(commonName = "localhost", dir?: string): TestCertificate {
  const where = dir ?? mkdtempSync(join(tmpdir(), "tcpchat-cert-"));
  const certFile = join(where, "cert.pem");
  const keyFile = join(where, "key.pem");
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-days",
      "1",
      "-subj",
      `/CN=${commonName}`,
      "-addext",
      "subjectAltName=DNS:localhost,IP:127.0.0.1",
      "-keyout",
      keyFile,
      "-out",
      certFile,
    ],
    { stdio: "pipe" },
  );
  return {
    cert: readFileSync(certFile, "utf8"),
    key: readFileSync(keyFile, "utf8"),
    certFile,
    keyFile,
    dir: where,
  };
}

/** Removes a certificate's temporary directory. */
export function removeCertificate(certificate: TestCertificate): void {
  rmSync(certificate.dir, { recursive: true, force: true });
}

/**
 * A real peer program (openssl s_client, ncat) whose stdout is collected line by line; a test
 * waits for a line with a deadline and types lines into its stdin.
 */
export class PeerProcess {
  readonly lines: string[] = [];
  private buffered = "";
  private exited = false;
  private readonly child: ChildProcessWithoutNullStreams;

  constructor(command: string, args: string[]) {
    this.child = spawn(command, args, { stdio: "pipe" });
    this.child.stdout.setEncoding("utf8");
    this.child.stdout.on("data", (chunk: string) => {
      this.buffered += chunk;
      let nl = this.buffered.indexOf("\n");
      while (nl !== -1) {
        this.lines.push(this.buffered.slice(0, nl).replace(/\r$/, ""));
        this.buffered = this.buffered.slice(nl + 1);
        nl = this.buffered.indexOf("\n");
      }
    });
    this.child.stderr.resume();
    this.child.stdin.on("error", () => {});
    this.child.on("exit", () => {
      this.exited = true;
    });
  }

  send(line: string): void {
    this.child.stdin.write(`${line}\n`);
  }

  /** Waits for a line that matches, polling with a deadline. */
  async waitFor(pattern: RegExp, timeoutMs = 10_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.lines.find((line) => pattern.test(line));
      if (found !== undefined) return found;
      if (this.exited || Date.now() > deadline) {
        throw new Error(
          `${this.exited ? "exited" : "timed out"} before ${pattern}; got:\n${this.lines.join("\n")}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** Stops the program (it is always stopped by the test that started it). */
  kill(): void {
    if (!this.exited) this.child.kill("SIGKILL");
  }
}
