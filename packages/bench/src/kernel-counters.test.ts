import { describe, expect, it } from "vitest";
import { readTcpExtCounter } from "./kernel-counters.js";

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
