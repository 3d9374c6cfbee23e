import { describe, expect, it } from "vitest";
import { listeningInodes } from "./port-holders.js";

const TCP = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:0BB8 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 4711 1 0000000000000000 100 0 0 10 0
   1: 00000000:0BB9 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4712 1 0000000000000000 100 0 0 10 0
   2: 0100007F:0BB8 0501A8C0:D431 01 00000000:00000000 00:00000000 00000000  1000        0 4713 1 0000000000000000 100 0 0 10 0
   3: 0100007F:0BB8 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 0 1 0000000000000000 100 0 0 10 0
`;

describe("listeningInodes", () => {
  it("takes the inode of listening sockets on the port only", () => {
    // Port 0BB8 is 3000; the established socket (st 01) and inode 0 are left out.
    expect(listeningInodes(TCP, 3000)).toEqual(["4711"]);
    expect(listeningInodes(TCP, 3001)).toEqual(["4712"]);
    expect(listeningInodes(TCP, 3002)).toEqual([]);
  });
});
