import { describe, expect, it } from "vitest";
import { consumption } from "./sampler.js";
import { connectionsTo, parseProcNetTcp, TCP_STATES } from "./socket-table.js";

// Two ends of one loopback connection to port 0x0BB8 (3000), the listener, and a header.
const TABLE = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:0BB8 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0 100 0 0 10 0
   1: 0100007F:0BB8 0100007F:D431 01 00000010:00020000 00:00000000 00000000     0        0 2 1 0 20 4 30 10 -1
   2: 0100007F:D431 0100007F:0BB8 08 00001000:00000400 00:00000000 00000000     0        0 3 1 0 20 4 30 10 -1
`;

describe("parseProcNetTcp", () => {
  it("reads ports, state and both queues in hexadecimal", () => {
    expect(parseProcNetTcp(TABLE)).toEqual([
      { localPort: 3000, remotePort: 0, state: TCP_STATES.listen, txQueue: 0, rxQueue: 0 },
      { localPort: 3000, remotePort: 0xd431, state: 1, txQueue: 16, rxQueue: 0x20000 },
      {
        localPort: 0xd431,
        remotePort: 3000,
        state: TCP_STATES.closeWait,
        txQueue: 0x1000,
        rxQueue: 0x400,
      },
    ]);
  });

  it("skips lines it cannot read", () => {
    expect(parseProcNetTcp("garbage\n   7: zz:yy\n")).toEqual([]);
  });
});

describe("connectionsTo", () => {
  it("pairs the client's socket and the server's socket by the client's port", () => {
    const table = connectionsTo(parseProcNetTcp(TABLE), 3000);
    expect(table.client.get(0xd431)?.state).toBe(TCP_STATES.closeWait);
    expect(table.server.get(0xd431)?.rxQueue).toBe(0x20000);
    expect(table.server.size).toBe(1);
  });
});

describe("consumption", () => {
  it("counts as taken what left every queue on the way to the server", () => {
    const rows = parseProcNetTcp(TABLE);
    // 1 MiB written; 4 KiB still in Node, 4 KiB in the client's send queue, 128 KiB unread.
    expect(consumption(1_048_576, 4096, rows[2], rows[1])).toEqual({
      consumed: 1_048_576 - 4096 - 0x1000 - 0x20000,
      pending: 4096 + 0x1000 + 0x20000,
    });
    expect(consumption(100, 0, undefined, undefined)).toEqual({ consumed: 100, pending: 0 });
  });
});
