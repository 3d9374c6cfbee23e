import { describe, expect, it } from "vitest";
import { encodeNativeRequest } from "./native-request.js";

describe("encodeNativeRequest", () => {
  it("writes one line of percent-encoded fields and comma-separated lists", () => {
    expect(
      encodeNativeRequest(3, {
        op: "connect",
        host: "127.0.0.1",
        port: 4000,
        clients: [0, 2, 4],
        readyOn: "greeting",
        greetingPrefix: "*** tcpchat/",
        timeoutMs: 500,
        pause: true,
        transport: "ws",
      }),
    ).toBe(
      "3 connect host=127.0.0.1 port=4000 clients=0,2,4 readyOn=greeting " +
        "greetingPrefix=***%20tcpchat%2F timeoutMs=500 pause=1 transport=ws\n",
    );
  });

  it("encodes rooms, expected counts and an empty id list so that the C side can split them", () => {
    expect(
      encodeNativeRequest(1, {
        op: "join-pairs",
        pairs: [{ a: 0, b: 1, room: "r,1:x y" }],
        timeoutMs: 10,
      }),
    ).toBe("1 join-pairs pairs=0:1:r%2C1%3Ax%20y timeoutMs=10\n");
    expect(
      encodeNativeRequest(2, {
        op: "counts",
        expectedPerSender: { 0: 5, 7: 9 },
        expectedPerReceiver: 14,
      }),
    ).toBe("2 counts expectedPerSender=0:5,7:9 expectedPerReceiver=14\n");
    expect(encodeNativeRequest(4, { op: "close-all", ids: [] })).toBe("4 close-all ids=\n");
    expect(
      encodeNativeRequest(6, { op: "probe", clients: [1, 4], senders: [], timeoutMs: 250 }),
    ).toBe("6 probe clients=1,4 senders= timeoutMs=250\n");
    expect(encodeNativeRequest(5, { op: "close-all" })).toBe("5 close-all\n");
  });
});
