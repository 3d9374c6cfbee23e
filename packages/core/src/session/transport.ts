/**
 * What a session needs from a connection. The session layer never imports `node:net`; the
 * transport folder adapts sockets to this, and tests can supply an in-memory one.
 */
export interface Transport {
  /** Queues bytes for the peer. The session coalesces: at most one call per event-loop turn. */
  write(chunk: Buffer): void;
  /** Bytes queued in user space and not yet handed to the kernel. */
  readonly queuedBytes: number;
  /** Flushes what is queued (plus `last`, if given), then closes the sending side. */
  end(last?: Buffer): void;
  /** Closes at once, dropping what is queued. */
  destroy(): void;
  /** Stops reading from the peer (its input waits in the kernel); the hub's budget uses it. */
  pause(): void;
  /** Reads from the peer again. */
  resume(): void;
  /** Whether bytes travel encrypted (TLS); undefined: not known, taken as not encrypted. */
  readonly encrypted?: boolean;
}

/** Where a session came from; the address is normalized (no `::ffff:` prefix). */
export interface Endpoint {
  readonly address: string;
  readonly port: number;
}
