import { networkInterfaces } from "node:os";

/** One address of a network interface of this machine. */
export interface InterfaceAddress {
  interface: string;
  address: string;
  family: 4 | 6;
  internal: boolean;
}

/**
 * This machine's addresses, LAN first, then loopback. IPv6 link-local addresses (fe80::) are
 * left out: they need a zone id to be used and nobody types them into a chat client.
 */
export function interfaceAddresses(): InterfaceAddress[] {
  const out: InterfaceAddress[] = [];
  for (const [name, list] of Object.entries(networkInterfaces())) {
    for (const info of list ?? []) {
      if (info.family === "IPv6" && info.address.toLowerCase().startsWith("fe80:")) continue;
      out.push({
        interface: name,
        address: info.address,
        family: info.family === "IPv6" ? 6 : 4,
        internal: info.internal,
      });
    }
  }
  return out.sort((a, b) => Number(a.internal) - Number(b.internal) || a.family - b.family);
}

/** Formats an address and port the way clients take it: `[::1]:3000` for IPv6. */
export function formatHostPort(address: string, port: number): string {
  return address.includes(":") ? `[${address}]:${port}` : `${address}:${port}`;
}
