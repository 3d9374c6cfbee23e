import { skeleton } from "./confusables.js";
import { GUEST_NICK_PREFIX, nameKey } from "./names.js";

/**
 * The keys under which a name is compared for lookalikes (spec 5): the TR39 skeleton of the
 * name as written and of its case-folded key, so that both `аlice` (Cyrillic а) and `ALICE`
 * spellings of a lookalike are caught, and capital I versus small l too.
 *
 * Apart from the name rules because of the confusables table it needs (most of a browser
 * bundle): the server is the authority on lookalikes, so the browser entry leaves it out.
 */
export function lookalikeKeys(name: string): [string, string] {
  return [nameKey(skeleton(name)), skeleton(nameKey(name))];
}

const GUEST_PREFIX_KEYS = lookalikeKeys(GUEST_NICK_PREFIX);

/**
 * Whether lookalike keys (from {@link lookalikeKeys}) are those of a nick in the guests'
 * namespace: `guest-` in any case or in lookalike letters (`gυest-`, `ＧＵＥＳＴ-`). Since nobody
 * may pick such a nick, a guest's nick cannot be posed as, and guests need no lookalike entries.
 */
export function isGuestKeys(keys: readonly [string, string]): boolean {
  return keys[0].startsWith(GUEST_PREFIX_KEYS[0]) || keys[1].startsWith(GUEST_PREFIX_KEYS[1]);
}

/** Whether a nick is in the guests' namespace (see {@link isGuestKeys}). */
export function isGuestNick(nick: string): boolean {
  return isGuestKeys(lookalikeKeys(nick));
}
