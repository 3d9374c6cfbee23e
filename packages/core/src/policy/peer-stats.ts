/**
 * Connect-rate state of one address: a token bucket plus the count of recent violations.
 * `tokens` is the level at `updatedAt`; it refills continuously from there.
 */
export interface ConnectBucket {
  readonly tokens: number;
  /** Time of the last update, in milliseconds (the policy's clock). */
  readonly updatedAt: number;
  /** Connect-rate refusals since `windowStartedAt`. */
  readonly violations: number;
  readonly windowStartedAt: number;
}

/** Where a ban came from: an operator, or the connect-rate rule (automatic, temporary). */
export const BAN_SOURCE = {
  operator: "operator",
  connectRate: "connect-rate",
} as const;
export type BanSource = (typeof BAN_SOURCE)[keyof typeof BAN_SOURCE];

/** A ban of an address or CIDR block. */
export interface BanInfo {
  /** The banned address or block, canonical (`10.1.2.3`, `10.0.0.0/8`). */
  readonly target: string;
  readonly source: BanSource;
  readonly reason?: string;
  /** When the ban was made, in milliseconds since the epoch (the policy's clock). */
  readonly createdAt: number;
  /** When it ends, in milliseconds since the epoch; undefined = until lifted. */
  readonly expiresAt?: number;
}

/**
 * What the decision needs to know about the peer and the server at this moment. The managed
 * policy fills it in; tests and `policy check` pass it directly.
 */
export interface PeerStats {
  /** Connections open on the server now, not counting the one being decided. */
  readonly totalConnections: number;
  /** Connections open now from the peer's address. */
  readonly fromAddress: number;
  /** Connections open now from the peer's subnet (see `subnetPrefixIPv4`/`IPv6`). */
  readonly fromSubnet: number;
  /** The address's connect-rate bucket; undefined means full (no recent attempts). */
  readonly connectBucket?: ConnectBucket;
  /** A ban that covers the address, if any. An expired ban (by `now`) is ignored. */
  readonly ban?: BanInfo;
}

/** Stats of a peer on an empty server with no history: what `policy check` assumes by default. */
export const EMPTY_PEER_STATS: PeerStats = { totalConnections: 0, fromAddress: 0, fromSubnet: 0 };
