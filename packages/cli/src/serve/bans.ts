/** One ban as the console lists it. */
export interface BanEntry {
  target: string;
  /** Who banned: the operator, or the connect-rate rule. */
  source: string;
  /** Epoch ms when it ends; undefined: until the server restarts or /unban. */
  expiresAt?: number;
  reason?: string;
}

/** The console's view of the accept policy's ban list. */
export interface BanControl {
  /** Bans an address or CIDR; returns how it was stored (normalized). Throws on a bad target. */
  ban(target: string, durationMs: number | undefined, reason: string | undefined): string;
  /** Lifts a ban; false when there was none. */
  unban(target: string): boolean;
  list(): BanEntry[];
  /** Whether a ban covers `address`. */
  isBanned(address: string): boolean;
  /** Puts back a stored ban (after a restart), with its source and what is left of it. */
  restore(ban: BanEntry): void;
}
