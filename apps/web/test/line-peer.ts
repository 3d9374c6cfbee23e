import { connect, type Socket } from "node:net";
import { waitUntil } from "./wait.js";

/** What `nc 127.0.0.1 PORT` is: a plain TCP socket that reads and writes lines. */
export class LinePeer {
  private text = "";
  private readonly socket: Socket;

  private constructor(port: number) {
    this.socket = connect({ host: "127.0.0.1", port });
    this.socket.setEncoding("utf8");
    this.socket.on("data", (chunk: string) => {
      this.text += chunk;
    });
    this.socket.on("error", () => {});
  }

  /** Connects and waits for the text-mode greeting. */
  static async open(port: number): Promise<LinePeer> {
    const peer = new LinePeer(port);
    await peer.waitFor(/^\*\*\* tcpchat\/1 /m);
    return peer;
  }

  /** Everything received so far. */
  get received(): string {
    return this.text;
  }

  send(line: string): void {
    this.socket.write(`${line}\n`);
  }

  /** Waits until what was received matches. */
  waitFor(pattern: RegExp): Promise<void> {
    return waitUntil(
      () => pattern.test(this.text),
      () => `nc to see ${pattern}:\n${this.text}`,
    );
  }

  close(): void {
    this.socket.destroy();
  }
}
