import { normalizePeerAddress, parseAddressOrCidr, rangeContains } from "../policy/address.js";

/**
 * Which peer addresses a ban's target (an address or a CIDR block) covers: how a node picks
 * the sessions to disconnect for `/ban --kick` made on another node. Matched by the range
 * itself, not by this node's ban list, so that it does not depend on the ban's own notice
 * having arrived first. Undefined for a target that is not an address or block.
 */
export function coveredBy(target: string): ((address: string) => boolean) | undefined {
  const range = parseAddressOrCidr(target);
  if (typeof range === "string") return undefined;
  return (raw) => {
    const address = normalizePeerAddress(raw);
    return address !== undefined && rangeContains(range, address);
  };
}
