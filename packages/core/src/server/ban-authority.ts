import type { ManagedAcceptPolicy } from "../policy/accept-policy.js";
import { parseAddressOrCidr } from "../policy/address.js";
import type { AcceptPolicy } from "../policy/types.js";
import type { BanAuthority } from "../session/operator-requests.js";
import type { ChatStore } from "../store/types.js";
import { whenDone } from "../store/types.js";

/**
 * The ban list operator accounts change from their clients: a managed accept policy's bans
 * (applied at accept time), written through to the store when there is one (back after a
 * restart, as the console's bans are). Undefined when the policy keeps no bans.
 */
export function banAuthority(
  policy: AcceptPolicy | undefined,
  store: ChatStore | undefined,
  onStoreError: (what: string, error: unknown) => void,
): BanAuthority | undefined {
  if (policy === undefined || typeof (policy as Partial<ManagedAcceptPolicy>).ban !== "function") {
    return undefined;
  }
  const managed = policy as ManagedAcceptPolicy;
  const write = (what: string, action: () => unknown) => {
    if (store !== undefined)
      whenDone(
        action,
        () => {},
        (error) => onStoreError(what, error),
      );
  };
  return {
    ban(target, options) {
      const ban = managed.ban(target, options);
      write("ban", () =>
        store!.saveBan({
          target: ban.target,
          source: ban.source,
          createdAt: ban.createdAt,
          ...(ban.expiresAt === undefined ? {} : { expiresAt: ban.expiresAt }),
          ...(ban.reason === undefined ? {} : { reason: ban.reason }),
        }),
      );
      return ban.target;
    },
    unban(target) {
      const lifted = managed.unban(target);
      const range = parseAddressOrCidr(target);
      // Stored under its canonical text, whatever spelling lifted it.
      if (typeof range !== "string") write("unban", () => store!.deleteBan(range.text));
      return lifted;
    },
    isBanned: (address) => managed.isBanned(address) !== undefined,
  };
}
