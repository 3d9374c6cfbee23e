import { describe, expect, it } from "vitest";
import { classifyConnection, describeHandling, HANDLING, summarizeHandling } from "./handling.js";

describe("classifyConnection", () => {
  it("calls a connection the server closed cut off, timed by its earliest sign", () => {
    expect(classifyConnection({ pausedAtMs: 120, closedAtMs: 2100 })).toEqual({
      handling: HANDLING.cutOff,
      atMs: 120,
    });
  });

  it("prefers throttle lines over a read pause, and keeps the earliest time", () => {
    expect(classifyConnection({ throttledAtMs: 300, pausedAtMs: 80 })).toEqual({
      handling: HANDLING.throttled,
      atMs: 80,
    });
  });

  it("counts throttle lines read only after the attack, without a time", () => {
    expect(classifyConnection({ throttledLate: true })).toEqual({
      handling: HANDLING.throttled,
      atMs: undefined,
    });
  });

  it("says reading paused, or not handled when there was no sign", () => {
    expect(classifyConnection({ pausedAtMs: 450 })).toEqual({
      handling: HANDLING.paused,
      atMs: 450,
    });
    expect(classifyConnection({})).toEqual({ handling: HANDLING.none, atMs: undefined });
  });
});

describe("summarizeHandling", () => {
  it("times the attack by the last connection's first sign", () => {
    const summary = summarizeHandling([
      { closedAtMs: 900, closeCode: "CHAT_ERR_SEND_QUEUE_FULL" },
      { pausedAtMs: 200 },
      { closedAtMs: 50 },
    ]);
    expect(summary.connections).toBe(3);
    expect(summary.byHandling).toEqual({
      [HANDLING.cutOff]: 2,
      [HANDLING.throttled]: 0,
      [HANDLING.paused]: 1,
      [HANDLING.none]: 0,
    });
    expect(summary.closeCodes).toEqual({ CHAT_ERR_SEND_QUEUE_FULL: 1, "no error line last": 1 });
    expect(summary.firstSignMs).toBe(50);
    expect(summary.allHandledMs).toBe(900);
  });

  it("has no all-handled time when one connection was never handled or its time is unknown", () => {
    expect(summarizeHandling([{ closedAtMs: 10 }, {}]).allHandledMs).toBeUndefined();
    expect(
      summarizeHandling([{ closedAtMs: 10 }, { throttledLate: true }]).allHandledMs,
    ).toBeUndefined();
    expect(summarizeHandling([]).allHandledMs).toBeUndefined();
  });
});

describe("describeHandling", () => {
  it("names each outcome with its count and the codes of cut-off connections", () => {
    const text = describeHandling(
      summarizeHandling([
        { closedAtMs: 1, closeCode: "CHAT_ERR_SEND_QUEUE_FULL" },
        { closedAtMs: 2, closeCode: "CHAT_ERR_SEND_QUEUE_FULL" },
        {},
      ]),
    );
    expect(text).toBe("2 cut off (last line: CHAT_ERR_SEND_QUEUE_FULL x2), 1 not handled");
    expect(describeHandling(summarizeHandling([]))).toBe("no attacker connections");
  });
});
