import { readFile } from "node:fs/promises";
import { createServer } from "node:net";
import { interfaceAddresses } from "../lan-addresses.js";

/** How {@link localBindings} found out: the kernel's socket table, or trying to bind. */
export const LOCAL_METHOD = { procNet: "proc-net-tcp", bindTest: "bind-test" } as const;
/** One of {@link LOCAL_METHOD}'s values. */
export type LocalMethod = (typeof LOCAL_METHOD)[keyof typeof LOCAL_METHOD];

/** Which local addresses have a listening TCP socket on a port. */
export interface LocalBindings {
  port: number;
  method: LocalMethod;
  /** Listening addresses: `0.0.0.0` / `::` mean every interface. */
  addresses: string[];
  /** True when something listens but only on loopback, so other machines cannot connect. */
  loopbackOnly: boolean;
  /** The LAN addresses (with their interface) that other machines can connect to. */
  reachableAt: Array<{ interface: string; address: string }>;
}

const TCP_LISTEN = "0A";

/**
 * Finds the listening sockets on `port`. On Linux it reads /proc/net/tcp and /proc/net/tcp6
 * (every process's sockets, without root); elsewhere it tries to bind the port on the wildcard
 * and loopback addresses and reports the ones that are taken.
 */
export async function localBindings(port: number): Promise<LocalBindings> {
  const fromProc = await readProcNet(port);
  const method = fromProc ? LOCAL_METHOD.procNet : LOCAL_METHOD.bindTest;
  const addresses = fromProc ?? (await bindTest(port));
  const unique = [...new Set(addresses)].sort();
  return {
    port,
    method,
    addresses: unique,
    loopbackOnly: unique.length > 0 && unique.every(isLoopback),
    reachableAt: reachableAt(unique),
  };
}

/** Maps listening addresses to this machine's non-loopback interface addresses they cover. */
function reachableAt(listening: string[]): LocalBindings["reachableAt"] {
  const anyV4 = listening.includes("0.0.0.0") || listening.includes("::");
  const anyV6 = listening.includes("::");
  return interfaceAddresses()
    .filter((a) => !a.internal)
    .filter((a) => (a.family === 4 ? anyV4 : anyV6) || listening.includes(a.address))
    .map((a) => ({ interface: a.interface, address: a.address }));
}

async function readProcNet(port: number): Promise<string[] | null> {
  const found: string[] = [];
  let readAny = false;
  for (const [file, family] of [
    ["/proc/net/tcp", 4],
    ["/proc/net/tcp6", 6],
  ] as const) {
    let text: string;
    try {
      text = await readFile(file, "utf8");
      readAny = true;
    } catch {
      continue;
    }
    found.push(...parseProcNetTcp(text, family, port));
  }
  return readAny ? found : null;
}

/**
 * Parses /proc/net/tcp(6): `local_address` is `HEXADDR:HEXPORT`, the address in the kernel's
 * byte order (little-endian 32-bit words on the machines Node runs on), `st` 0A is LISTEN.
 */
export function parseProcNetTcp(text: string, family: 4 | 6, port: number): string[] {
  const out: string[] = [];
  for (const line of text.split("\n").slice(1)) {
    const fields = line.trim().split(/\s+/);
    const local = fields[1];
    if (!local || fields[3] !== TCP_LISTEN) continue;
    const [hexAddress = "", hexPort = ""] = local.split(":");
    if (Number.parseInt(hexPort, 16) !== port) continue;
    out.push(family === 4 ? ipv4FromHex(hexAddress) : ipv6FromHex(hexAddress));
  }
  return out;
}

function wordBytes(hex: string): number[] {
  // One 32-bit word in host (little-endian) order: its bytes come out reversed.
  const bytes = [];
  for (let i = 6; i >= 0; i -= 2) bytes.push(Number.parseInt(hex.slice(i, i + 2), 16));
  return bytes;
}

function ipv4FromHex(hex: string): string {
  return wordBytes(hex).join(".");
}

function ipv6FromHex(hex: string): string {
  const bytes: number[] = [];
  for (let w = 0; w < 4; w++) bytes.push(...wordBytes(hex.slice(w * 8, w * 8 + 8)));
  if (bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff) {
    return bytes.slice(12).join(".");
  }
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2)
    groups.push((((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0)).toString(16));
  return compressIpv6(groups);
}

function compressIpv6(groups: string[]): string {
  // Replace the longest run of zero groups with "::" (RFC 5952).
  let bestStart = -1;
  let bestLength = 0;
  for (let i = 0; i < groups.length; ) {
    if (groups[i] !== "0") {
      i++;
      continue;
    }
    let j = i;
    while (j < groups.length && groups[j] === "0") j++;
    if (j - i > bestLength && j - i > 1) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  if (bestStart === -1) return groups.join(":");
  const head = groups.slice(0, bestStart).join(":");
  const tail = groups.slice(bestStart + bestLength).join(":");
  return `${head}::${tail}`;
}

async function bindTest(port: number): Promise<string[]> {
  const taken: string[] = [];
  for (const host of ["0.0.0.0", "127.0.0.1", "::", "::1"]) {
    if (await isTaken(host, port)) taken.push(host);
  }
  // The wildcard is taken whenever any specific address is (on most systems): report the
  // specific ones when the wildcard itself is free.
  return taken;
}

function isTaken(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once("error", (error: NodeJS.ErrnoException) => resolve(error.code === "EADDRINUSE"));
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve(false)));
  });
}

/** Whether an address is a loopback address (127.0.0.0/8 or ::1). */
export function isLoopback(address: string): boolean {
  return address.startsWith("127.") || address === "::1";
}
