import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";

// Certificates are shared with the CLI's tests.
export {
  makeCertificate,
  removeCertificate,
  type TestCertificate,
} from "@tcpchat/testing/certificates";

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
