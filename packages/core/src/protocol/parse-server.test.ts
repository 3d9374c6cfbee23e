import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { DEFAULT_SERVER_LIMITS, parseServerFrame } from "./parse-server.js";

const LIMITS = {
  maxLineBytes: 16384,
  maxNameLength: 32,
  maxRoomsPerSession: 20,
  messageRate: 20,
  messageBurst: 40,
  sendQueueBytes: 1048576,
  pingIntervalMs: 30000,
  pingTimeoutMs: 10000,
};
const WELCOME = {
  type: "welcome",
  proto: 1,
  server: "tcpchat 0.1.0",
  session: "s1",
  nick: "지민",
  room: "lobby",
  limits: LIMITS,
};

describe("parseServerFrame (spec 4.2)", () => {
  it("accepts valid frames and drops fields it does not know", () => {
    expect(parseServerFrame(JSON.stringify(WELCOME))).toEqual({ frame: WELCOME });
    expect(
      parseServerFrame('{"type":"presence","room":"lobby","nicks":["a"],"count":1,"new":1}'),
    ).toEqual({ frame: { type: "presence", room: "lobby", nicks: ["a"], count: 1 } });
  });

  it.each([
    ["not json", /a line that is not valid: it is not JSON\./],
    ["[1]", /it is not a JSON object/],
    ["null", /it is not a JSON object/],
    ['{"text":"x"}', /`type` is missing/],
    ['{"type":"close"}', /a "close" frame that is not valid: unknown type "close"/],
    ['{"type":"presence","room":"lobby","count":1}', /`nicks` is missing/],
    ['{"type":"rooms","rooms":null}', /`rooms` must be an array, got null/],
    ['{"type":"rooms","rooms":[{"name":1,"members":1}]}', /`rooms\[0\]\.name` must be a string/],
    [
      '{"type":"message","id":"1","ts":"now","room":"a","from":"b","text":"c"}',
      /`ts` must be a number/,
    ],
    ['{"type":"ack","ts":1}', /`ref` is missing/],
  ])("refuses %s, naming the field", (line, why) => {
    const parsed = parseServerFrame(line);
    expect(parsed.frame).toBeUndefined();
    expect(parsed.error).toMatchObject({
      code: "CHAT_ERR_BAD_SERVER_FRAME",
      message: expect.stringMatching(why),
    });
  });

  it("keeps the ref of a bad frame, so the request waiting on it can fail", () => {
    expect(parseServerFrame('{"type":"ack","ref":"r7","ts":"x"}').error).toMatchObject({
      ref: "r7",
    });
  });

  it.each([
    [
      "without limits",
      { ...WELCOME, limits: undefined },
      /`limits` is missing/,
      DEFAULT_SERVER_LIMITS,
    ],
    [
      "with limits: null",
      { ...WELCOME, limits: null },
      /`limits` must be an object/,
      DEFAULT_SERVER_LIMITS,
    ],
    [
      "with messageRate 0",
      { ...WELCOME, limits: { ...LIMITS, messageRate: 0 } },
      /`limits\.messageRate` must be >0, got 0/,
      { ...LIMITS, messageRate: DEFAULT_SERVER_LIMITS.messageRate },
    ],
    [
      "with a negative burst and a NaN (null in JSON) rate",
      { ...WELCOME, limits: { ...LIMITS, messageBurst: -5, messageRate: Number.NaN } },
      /`limits\.messageRate` must be a number, got null/,
      {
        ...LIMITS,
        messageRate: DEFAULT_SERVER_LIMITS.messageRate,
        messageBurst: DEFAULT_SERVER_LIMITS.messageBurst,
      },
    ],
    [
      "with an infinite line limit",
      { ...WELCOME, limits: { ...LIMITS, maxLineBytes: "1e999" } },
      /`limits\.maxLineBytes` must be finite, got Infinity/,
      { ...LIMITS, maxLineBytes: DEFAULT_SERVER_LIMITS.maxLineBytes },
    ],
  ])("repairs a welcome %s with default limits, and reports it", (_name, welcome, why, limits) => {
    const line = JSON.stringify(welcome).replace('"1e999"', "1e999");
    const parsed = parseServerFrame(line);
    expect(parsed.frame).toEqual({ ...WELCOME, limits });
    expect(parsed.error).toMatchObject({
      code: "CHAT_ERR_BAD_SERVER_FRAME",
      message: expect.stringMatching(why),
    });
    expect(parsed.error?.message).toMatch(/uses the default of each bad limit/);
  });

  it("does not repair a welcome whose other fields are wrong", () => {
    const parsed = parseServerFrame(JSON.stringify({ ...WELCOME, nick: undefined }));
    expect(parsed.frame).toBeUndefined();
    expect(parsed.error?.message).toMatch(/`nick` is missing/);
  });
});

describe("the frame schema's modules", () => {
  it("import nothing from node: (a browser client uses them as they are)", () => {
    const here = dirname(fileURLToPath(import.meta.url));
    const seen = new Set<string>();
    const visit = (file: string): void => {
      if (seen.has(file)) return;
      seen.add(file);
      const source = readFileSync(file, "utf8");
      for (const [, from] of source.matchAll(/from "([^"]+)"/g)) {
        expect(from, `${file} imports ${from}`).not.toMatch(/^node:/);
        if (from!.startsWith(".")) visit(resolve(dirname(file), from!.replace(/\.js$/, ".ts")));
      }
    };
    for (const entry of ["frame-schema.ts", "frames.ts", "parse-server.ts", "parse-json.ts"]) {
      visit(resolve(here, entry));
    }
    expect(seen.size).toBeGreaterThanOrEqual(6);
  });
});
