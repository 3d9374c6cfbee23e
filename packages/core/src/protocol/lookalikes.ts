import { skeleton } from "./confusables.js";
import { nameKey } from "./names.js";

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
