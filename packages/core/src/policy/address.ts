import ipaddr from "ipaddr.js";

type IPv4 = ipaddr.IPv4;
type IPv6 = ipaddr.IPv6;

/** An IP address after normalization: IPv4-mapped IPv6 becomes IPv4, an IPv6 zone is dropped. */
export interface NormalizedAddress {
  readonly kind: "ipv4" | "ipv6";
  /** Canonical text: dotted quad for IPv4, RFC 5952 for IPv6 (`2001:db8::1`). */
  readonly text: string;
  readonly ip: IPv4 | IPv6;
}

/** An address or CIDR block from an allow list, deny list or ban, normalized like addresses. */
export interface AddressRange {
  readonly kind: "ipv4" | "ipv6";
  /** The entry as written, for messages and explanations. */
  readonly source: string;
  /** Canonical text: `10.0.0.0/8`, or a bare address for a single host (`10.1.2.3`). */
  readonly text: string;
  readonly network: IPv4 | IPv6;
  readonly prefix: number;
}

const IPV4_BITS = 32;
const IPV6_BITS = 128;
/** `::ffff:0:0/96`: the IPv4-mapped block; its last 32 bits are an IPv4 address. */
const MAPPED_PREFIX = 96;

function stripZone(text: string): string {
  const percent = text.indexOf("%");
  return percent === -1 ? text : text.slice(0, percent);
}

/**
 * Parses strictly: IPv4 only as four decimal parts (ipaddr.js alone also takes `10.1` and
 * `0xa.0.0.1`, which in a deny list are more likely typos than intent).
 */
function parseStrict(text: string): IPv4 | IPv6 | undefined {
  if (ipaddr.IPv4.isValidFourPartDecimal(text)) return ipaddr.IPv4.parse(text);
  if (ipaddr.IPv6.isValid(text)) return ipaddr.IPv6.parse(text);
  return undefined;
}

function toNormalized(ip: IPv4 | IPv6): NormalizedAddress {
  if (ip.kind() === "ipv6" && (ip as IPv6).isIPv4MappedAddress()) {
    const v4 = (ip as IPv6).toIPv4Address();
    return { kind: "ipv4", text: v4.toString(), ip: v4 };
  }
  return { kind: ip.kind(), text: ip.toString(), ip };
}

/**
 * Normalizes a peer address as a socket reports it (`::ffff:127.0.0.1` -> `127.0.0.1`,
 * `fe80::1%eth0` -> `fe80::1`). Returns undefined for text that is not an IP address.
 */
export function normalizePeerAddress(raw: string): NormalizedAddress | undefined {
  const ip = parseStrict(stripZone(raw.trim()));
  return ip === undefined ? undefined : toNormalized(ip);
}

/**
 * Parses an allow/deny/ban entry: an address (`10.1.2.3`, `::1`) or a CIDR block
 * (`10.0.0.0/8`, `2001:db8::/32`). IPv4-mapped IPv6 entries (`::ffff:10.0.0.0/104`) become IPv4
 * (`10.0.0.0/8`) so they match the normalized peer addresses. Host bits after the prefix are
 * ignored (`10.1.2.3/8` means `10.0.0.0/8`).
 * @returns the range, or a sentence saying why the text is not valid.
 */
export function parseAddressOrCidr(source: string): AddressRange | string {
  const text = source.trim();
  const slash = text.indexOf("/");
  const addressPart = slash === -1 ? text : text.slice(0, slash);
  const ip = parseStrict(addressPart);
  if (ip === undefined) return `${JSON.stringify(source)} is not a valid address or CIDR`;
  const bits = ip.kind() === "ipv4" ? IPV4_BITS : IPV6_BITS;
  let prefix = bits;
  if (slash !== -1) {
    const prefixText = text.slice(slash + 1);
    if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > bits) {
      return `${JSON.stringify(source)} is not a valid address or CIDR (the prefix length must be 0 to ${bits})`;
    }
    prefix = Number(prefixText);
  }
  if (ip.kind() === "ipv6" && (ip as IPv6).isIPv4MappedAddress() && prefix >= MAPPED_PREFIX) {
    return makeRange(source, (ip as IPv6).toIPv4Address(), prefix - MAPPED_PREFIX);
  }
  return makeRange(source, ip, prefix);
}

function makeRange(source: string, ip: IPv4 | IPv6, prefix: number): AddressRange {
  const kind = ip.kind();
  const bits = kind === "ipv4" ? IPV4_BITS : IPV6_BITS;
  const network =
    kind === "ipv4"
      ? ipaddr.IPv4.networkAddressFromCIDR(`${ip.toString()}/${prefix}`)
      : ipaddr.IPv6.networkAddressFromCIDR(`${ip.toString()}/${prefix}`);
  const text = prefix === bits ? network.toString() : `${network.toString()}/${prefix}`;
  return { kind, source, text, network, prefix };
}

/** Whether a normalized address lies in a range. IPv4 never matches IPv6 ranges, nor the reverse. */
export function rangeContains(range: AddressRange, address: NormalizedAddress): boolean {
  return range.kind === address.kind && address.ip.match(range.network, range.prefix);
}

/**
 * The key of the subnet an address belongs to for per-subnet counting: the network address
 * and prefix, such as `10.1.2.0/24` or `2001:db8:1:2::/64`.
 */
export function subnetKey(
  address: NormalizedAddress,
  ipv4Prefix: number,
  ipv6Prefix: number,
): string {
  const prefix = address.kind === "ipv4" ? ipv4Prefix : ipv6Prefix;
  const cidr = `${address.text}/${prefix}`;
  const network =
    address.kind === "ipv4"
      ? ipaddr.IPv4.networkAddressFromCIDR(cidr)
      : ipaddr.IPv6.networkAddressFromCIDR(cidr);
  return `${network.toString()}/${prefix}`;
}

/**
 * A compiled list of ranges. Single addresses go in a map (a long list of banned hosts costs one
 * lookup); CIDR blocks are scanned in order. Lists of many thousands of blocks belong in the
 * OS firewall (see the accept-policy guide), not here.
 */
export class AddressSet {
  readonly entries: readonly AddressRange[];
  private readonly hosts = new Map<string, AddressRange>();
  private readonly blocks: AddressRange[] = [];

  constructor(entries: readonly AddressRange[]) {
    this.entries = entries;
    for (const entry of entries) {
      const bits = entry.kind === "ipv4" ? IPV4_BITS : IPV6_BITS;
      if (entry.prefix === bits) {
        if (!this.hosts.has(entry.text)) this.hosts.set(entry.text, entry);
      } else {
        this.blocks.push(entry);
      }
    }
  }

  get size(): number {
    return this.entries.length;
  }

  /** The first entry that contains the address (an exact host entry first), if any. */
  match(address: NormalizedAddress): AddressRange | undefined {
    const host = this.hosts.get(address.text);
    if (host !== undefined) return host;
    for (const block of this.blocks) {
      if (rangeContains(block, address)) return block;
    }
    return undefined;
  }
}
