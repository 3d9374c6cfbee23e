import { isGuestKeys, lookalikeKeys } from "../protocol/lookalikes.js";
import { nameKey } from "../protocol/names.js";
import type { RoomBus } from "./bus.js";
import type { Session } from "./session.js";

/** Why a nick cannot be taken, or null when it can. */
export type NickConflict =
  | { kind: "in-use"; holder: string }
  | { kind: "lookalike"; holder: string }
  | { kind: "held"; holder: string; untilMs: number }
  | null;

/** A nick freed by a dropped connection, kept for a reconnect from the same address. */
interface HeldNick {
  nick: string;
  address: string;
  until: number;
}

/**
 * Who holds which nick (spec 5): unique by case-folded key, unique by TR39 skeleton (no
 * lookalikes), the operator's nick reserved, and a nick freed by a dropped connection held
 * for its owner's address for a grace period (IRC's nick delay).
 *
 * Guest nicks (`guest-` and hex digits, given by the server) have no lookalike entries: nobody
 * may pick a nick that looks like `guest-` (see {@link isGuestKeys}), and hex digits have no
 * lookalikes among themselves, so the entries could never match. Most idle sessions are
 * guests; the two entries and their strings were about 130 bytes each.
 */
export class NickRegistry {
  private readonly byKey = new Map<string, Session | null>();
  private readonly byLookalike = new Map<string, string>();
  private readonly held = new Map<string, HeldNick>();
  /** In a cluster: nicks held on other nodes, and where this node's changes are told. */
  cluster: Pick<RoomBus, "remoteNick" | "remoteLookalike" | "nickChanged"> | undefined;

  constructor(
    private readonly operatorNick: string,
    private readonly holdMs: number,
  ) {
    this.byKey.set(nameKey(operatorNick), null);
    this.index(operatorNick, null);
  }

  /** The session holding a nick (case-insensitively); null for the operator's. */
  get(nick: string): Session | null | undefined {
    return this.byKey.get(nameKey(nick));
  }

  has(key: string): boolean {
    return this.byKey.has(key) || this.held.has(key);
  }

  /**
   * Whether `session` may ask for a nick in the guests' namespace: only its own, or the one it
   * had before its connection dropped (held for its address), as a reconnecting client asks.
   */
  mayTakeGuestNick(session: Session, nick: string, now: number): boolean {
    const key = nameKey(nick);
    if (key === session.nickKey) return true;
    const held = this.held.get(key);
    return held !== undefined && held.until > now && held.address === session.address;
  }

  /** Whether `session` may take `nick` now. */
  conflict(session: Session, nick: string, now: number): NickConflict {
    const key = nameKey(nick);
    const holder = this.byKey.get(key);
    if (holder !== undefined && holder !== session) {
      return { kind: "in-use", holder: holder === null ? this.operatorNick : holder.nick };
    }
    const remote = this.cluster?.remoteNick(key);
    if (remote !== undefined) return { kind: "in-use", holder: remote };
    for (const lookalike of lookalikeKeys(nick)) {
      const heldKey = this.byLookalike.get(lookalike);
      // The same key is not a lookalike of itself: in use and held are decided below.
      if (heldKey === undefined || heldKey === session.nickKey || heldKey === key) continue;
      const other = this.byKey.get(heldKey);
      const otherNick =
        other === null ? this.operatorNick : (other?.nick ?? this.held.get(heldKey)?.nick);
      if (otherNick !== undefined) return { kind: "lookalike", holder: otherNick };
    }
    const remoteLookalike = this.cluster?.remoteLookalike(nick, key);
    if (remoteLookalike !== undefined) return { kind: "lookalike", holder: remoteLookalike };
    const held = this.held.get(key);
    if (held !== undefined) {
      if (held.until <= now) this.unhold(key);
      else if (held.address !== session.address) {
        return { kind: "held", holder: held.nick, untilMs: held.until - now };
      }
    }
    return null;
  }

  /** Gives `nick` to `session` (after {@link conflict} said null), freeing its old one. */
  take(session: Session, nick: string): void {
    const oldKey = this.byKey.get(session.nickKey) === session ? session.nickKey : null;
    this.release(session, false, 0, false);
    const folded = nameKey(nick);
    // The key is most often the nick itself (lower case): one string for the nick, the
    // session's key and the registry's, not two.
    const key = folded === nick ? nick : folded;
    this.unhold(key);
    session.nick = nick;
    session.nickKey = key;
    this.byKey.set(key, session);
    this.index(nick, key);
    this.cluster?.nickChanged(oldKey, nick, key);
  }

  /** Frees a session's nick; `hold` keeps it for the session's address for a while. */
  release(session: Session, hold = false, now = 0, tell = true): void {
    if (this.byKey.get(session.nickKey) !== session) return;
    this.byKey.delete(session.nickKey);
    if (tell) this.cluster?.nickChanged(session.nickKey, null, null);
    if (hold && this.holdMs > 0) {
      this.held.set(session.nickKey, {
        nick: session.nick,
        address: session.address,
        until: now + this.holdMs,
      });
    } else {
      this.unindex(session.nick);
    }
  }

  /** Drops holds that have expired (called by the hub's sweep). */
  expire(now: number): void {
    for (const [key, held] of this.held) if (held.until <= now) this.unhold(key);
  }

  private unhold(key: string): void {
    const held = this.held.get(key);
    if (held === undefined) return;
    this.held.delete(key);
    if (!this.byKey.has(key)) this.unindex(held.nick);
  }

  private index(nick: string, key: string | null): void {
    const lookalikes = lookalikeKeys(nick);
    if (isGuestKeys(lookalikes)) return;
    const owner = key ?? nameKey(nick);
    for (const lookalike of lookalikes) this.byLookalike.set(lookalike, owner);
  }

  private unindex(nick: string): void {
    const key = nameKey(nick);
    const lookalikes = lookalikeKeys(nick);
    if (isGuestKeys(lookalikes)) return;
    for (const lookalike of lookalikes) {
      if (this.byLookalike.get(lookalike) === key) this.byLookalike.delete(lookalike);
    }
  }
}
