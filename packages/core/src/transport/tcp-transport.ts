import type { Socket } from "node:net";
import type { Transport } from "../session/transport.js";

/**
 * Adapts a `net.Socket` to the session's {@link Transport}. `end` gives the peer `lingerMs` to
 * take what is queued; a peer that does not read by then is destroyed, so a closing slow
 * consumer cannot hold its queue forever.
 */
export class TcpTransport implements Transport {
  constructor(
    readonly socket: Socket,
    private readonly lingerMs: number,
  ) {}

  write(chunk: Buffer): void {
    if (!this.socket.writableEnded) this.socket.write(chunk);
  }

  get queuedBytes(): number {
    return this.socket.writableLength;
  }

  /** A TLS socket (unwrapped on the one port) says so. */
  get encrypted(): boolean {
    return (this.socket as { encrypted?: boolean }).encrypted === true;
  }

  end(last?: Buffer): void {
    endWithin(this.socket, this.lingerMs, last);
  }

  destroy(): void {
    this.socket.destroy();
  }

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    if (!this.socket.destroyed) this.socket.resume();
  }
}

/** Ends a socket (after `last`), and destroys it if it has not closed within `lingerMs`. */
export function endWithin(socket: Socket, lingerMs: number, last?: Buffer | string): void {
  if (socket.destroyed) return;
  if (!socket.writableEnded) {
    if (last === undefined) socket.end();
    else socket.end(last);
  }
  const timer = setTimeout(() => socket.destroy(), lingerMs);
  timer.unref();
  socket.once("close", () => clearTimeout(timer));
}

/** `::ffff:1.2.3.4` (an IPv4 peer on a dual-stack socket) becomes `1.2.3.4`. */
export function normalizeAddress(address: string | undefined): string {
  if (address === undefined) return "";
  return address.startsWith("::ffff:") && address.includes(".") ? address.slice(7) : address;
}
