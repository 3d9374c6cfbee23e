import { describe, expect, it } from "vitest";
import {
  KERNEL_PAGE_BYTES,
  readKernelTcpMemBytes,
  readMachineCpu,
  readTcpExtCounter,
} from "./kernel-counters.js";

const SAMPLE = `TcpExt: SyncookiesSent SyncookiesRecv ListenOverflows ListenDrops
TcpExt: 0 0 59878 59880
IpExt: InNoRoutes InTruncatedPkts
IpExt: 0 0
`;

describe("readTcpExtCounter", () => {
  it("finds a counter by name in the TcpExt block", () => {
    expect(readTcpExtCounter("ListenOverflows", SAMPLE)).toBe(59878);
    expect(readTcpExtCounter("ListenDrops", SAMPLE)).toBe(59880);
  });

  it("is undefined for an unknown name or text without a TcpExt block", () => {
    expect(readTcpExtCounter("NoSuchCounter", SAMPLE)).toBeUndefined();
    expect(readTcpExtCounter("ListenOverflows", "IpExt: a\nIpExt: 1\n")).toBeUndefined();
  });
});

describe("readMachineCpu", () => {
  it("sums busy (without softirq) and total ticks from the cpu line", () => {
    const stat = "cpu  100 5 50 800 10 3 2 1 0 0\ncpu0 50 2 25 400 5 1 1 0 0 0\n";
    expect(readMachineCpu(stat)).toEqual({ busy: 159, total: 971 });
    expect(readMachineCpu("intr 1 2 3\n")).toBeUndefined();
  });
});

describe("readKernelTcpMemBytes", () => {
  it("turns the TCP line's mem pages into bytes", () => {
    const sockstat =
      "sockets: used 18\nTCP: inuse 4 orphan 0 tw 213 alloc 5 mem 258\nUDP: inuse 0 mem 3\n";
    expect(readKernelTcpMemBytes(sockstat)).toBe(258 * KERNEL_PAGE_BYTES);
    expect(readKernelTcpMemBytes("UDP: inuse 0 mem 3\n")).toBeUndefined();
  });
});
