import { describe, expect, it } from "vitest";
import { isLoopback, parseProcNetTcp } from "./local.js";

const TCP = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:0BB8 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0000000000000000 100 0 0 10 0
   1: 00000000:0BB9 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2 1 0000000000000000 100 0 0 10 0
   2: 1401A8C0:0BB8 0501A8C0:D431 01 00000000:00000000 00:00000000 00000000     0        0 3 1 0000000000000000 100 0 0 10 0
`;
const TCP6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000000000000:0BB8 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4 1 0000000000000000 100 0 0 10 0
   1: 00000000000000000000000001000000:0BB8 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 5 1 0000000000000000 100 0 0 10 0
   2: 0000000000000000FFFF00000100007F:0BB8 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 6 1 0000000000000000 100 0 0 10 0
`;

describe("parseProcNetTcp", () => {
  it("finds IPv4 listeners on the port, skipping other ports and established sockets", () => {
    expect(parseProcNetTcp(TCP, 4, 3000)).toEqual(["127.0.0.1"]);
    expect(parseProcNetTcp(TCP, 4, 3001)).toEqual(["0.0.0.0"]);
  });

  it("decodes IPv6 listeners, including IPv4-mapped ones", () => {
    expect(parseProcNetTcp(TCP6, 6, 3000)).toEqual(["::", "::1", "127.0.0.1"]);
  });

  it("knows loopback addresses", () => {
    expect(isLoopback("127.0.0.1")).toBe(true);
    expect(isLoopback("::1")).toBe(true);
    expect(isLoopback("0.0.0.0")).toBe(false);
  });
});
