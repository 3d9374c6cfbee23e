import { type AddressRange, type NormalizedAddress, rangeContains } from "./address.js";
import { BAN_SOURCE, type BanInfo } from "./peer-stats.js";

/**
 * An operator ban made or lifted here, as other copies of the ban list need it (the nodes of a
 * cluster share operator bans; automatic bans stay with the node whose connect rate made them).
 */
export type BanChange =
  | { readonly op: "ban"; readonly ban: BanInfo }
  | { readonly op: "unban"; readonly target: string };

function isExpired(ban: BanInfo, now: number): boolean {
  return ban.expiresAt !== undefined && ban.expiresAt <= now;
}

/**
 * Active bans. Operator bans are few and may be CIDR blocks; automatic bans (connect rate) are
 * single addresses, possibly many under a flood, so they live in a capped map kept in creation
 * order, which (one duration for all) is also expiry order: pruning looks only at the front.
 */
export class BanStore {
  private readonly operatorHosts = new Map<string, BanInfo>();
  private readonly operatorBlocks = new Map<string, { range: AddressRange; ban: BanInfo }>();
  private readonly automatic = new Map<string, BanInfo>();

  /** Told of every operator ban change made here (not of those applied from elsewhere). */
  private changed: ((change: BanChange) => void) | undefined;

  constructor(private readonly maxAutomatic: number) {}

  /** Sets who hears of operator ban changes made here (one listener; undefined: nobody). */
  onOperatorChange(listener: ((change: BanChange) => void) | undefined): void {
    this.changed = listener;
  }

  get size(): number {
    return this.operatorHosts.size + this.operatorBlocks.size + this.automatic.size;
  }

  /**
   * Adds or replaces the ban of `range` (matched by its canonical text). `replicated`: the change
   * came from another copy of the list, so it is not announced back.
   */
  add(range: AddressRange, ban: BanInfo, replicated = false): void {
    const isHost = range.prefix === (range.kind === "ipv4" ? 32 : 128);
    if (ban.source === BAN_SOURCE.operator) {
      if (isHost) this.operatorHosts.set(range.text, ban);
      else this.operatorBlocks.set(range.text, { range, ban });
      if (!replicated) this.changed?.({ op: "ban", ban });
      return;
    }
    this.automatic.delete(range.text);
    this.automatic.set(range.text, ban);
    // Forgetting the oldest automatic ban early is the price of bounded memory under a flood
    // from very many addresses; operator bans are never dropped.
    for (const oldest of this.automatic.keys()) {
      if (this.automatic.size <= this.maxAutomatic) break;
      this.automatic.delete(oldest);
    }
  }

  /**
   * Lifts every ban whose canonical target is `target`. Returns whether one existed.
   * `replicated`: see {@link add}.
   */
  remove(target: string, replicated = false): boolean {
    const a = this.operatorHosts.delete(target);
    const b = this.operatorBlocks.delete(target);
    const c = this.automatic.delete(target);
    if ((a || b) && !replicated) this.changed?.({ op: "unban", target });
    return a || b || c;
  }

  /** The ban that covers an address (operator bans first), dropping expired ones it meets. */
  match(address: NormalizedAddress, now: number): BanInfo | undefined {
    return (
      this.matchHost(this.operatorHosts, address.text, now) ??
      this.matchBlock(address, now) ??
      this.matchHost(this.automatic, address.text, now)
    );
  }

  /** The ban of an exact text key (for peers whose address is not an IP address). */
  matchText(text: string, now: number): BanInfo | undefined {
    return (
      this.matchHost(this.operatorHosts, text, now) ?? this.matchHost(this.automatic, text, now)
    );
  }

  private matchHost(map: Map<string, BanInfo>, key: string, now: number): BanInfo | undefined {
    const ban = map.get(key);
    if (ban === undefined) return undefined;
    if (!isExpired(ban, now)) return ban;
    map.delete(key);
    return undefined;
  }

  private matchBlock(address: NormalizedAddress, now: number): BanInfo | undefined {
    for (const [key, { range, ban }] of this.operatorBlocks) {
      if (isExpired(ban, now)) {
        this.operatorBlocks.delete(key);
        continue;
      }
      if (rangeContains(range, address)) return ban;
    }
    return undefined;
  }

  /** Drops expired automatic bans at the front, at most `budget` of them (amortized upkeep). */
  sweep(now: number, budget: number): void {
    let left = budget;
    for (const [key, ban] of this.automatic) {
      if (left-- <= 0 || !isExpired(ban, now)) break;
      this.automatic.delete(key);
    }
  }

  /** Every active ban, operator bans first. Drops expired ones. */
  list(now: number): BanInfo[] {
    const bans: BanInfo[] = [];
    for (const [key, ban] of this.operatorHosts) {
      if (isExpired(ban, now)) this.operatorHosts.delete(key);
      else bans.push(ban);
    }
    for (const [key, { ban }] of this.operatorBlocks) {
      if (isExpired(ban, now)) this.operatorBlocks.delete(key);
      else bans.push(ban);
    }
    for (const [key, ban] of this.automatic) {
      if (isExpired(ban, now)) this.automatic.delete(key);
      else bans.push(ban);
    }
    return bans;
  }
}
