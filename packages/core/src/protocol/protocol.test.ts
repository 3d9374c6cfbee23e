import { describe, expect, it } from "vitest";
import { RemoteError } from "../errors.js";
import { formatTextLine } from "./format-text.js";
import {
  formatGreeting,
  formatRefusalLine,
  parseErrorLine,
  parseGreeting,
  parseRefusalLine,
} from "./lines.js";
import { nameKey, normalizeName } from "./names.js";
import { parseClientFrame } from "./parse-json.js";
import { parseTextLine } from "./parse-text.js";
import { neutralizeFrame } from "./text-safety.js";

describe("names (spec 5)", () => {
  it.each([
    ["alice", "nick", "alice"],
    ["지민", "nick", "지민"],
    ["#dev", "room", "dev"],
    ["e\u0301", "nick", "é"],
  ] as const)("normalizes %j as a %s to %j", (raw, kind, expected) => {
    expect(normalizeName(raw, kind)).toBe(expected);
  });

  it.each([
    ["", "nick", /empty/],
    ["has space", "nick", /space, control or invisible/],
    ["tab\there", "room", /space, control or invisible/],
    ["zero\u200bwidth", "nick", /invisible/],
    ["#", "room", /empty/],
    ["-dash", "nick", /may not start/],
    ["x".repeat(33), "nick", /33 characters, more than 32/],
  ] as const)("refuses %j as a %s", (raw, kind, why) => {
    const result = normalizeName(raw, kind);
    expect(result).toMatchObject({
      code: kind === "nick" ? "CHAT_ERR_INVALID_NICK" : "CHAT_ERR_INVALID_ROOM",
    });
    expect((result as Error).message).toMatch(why);
  });

  it("counts code points, not UTF-16 units or bytes", () => {
    expect(normalizeName("🎉".repeat(32), "nick")).toBe("🎉".repeat(32));
  });

  it("keys are case-insensitive and normalization-insensitive", () => {
    expect(nameKey("Alice")).toBe(nameKey("ALICE"));
    expect(nameKey("STRASSE")).toBe(nameKey("straße".toUpperCase()));
    expect(nameKey(normalizeName("Ame\u0301lie", "nick") as string)).toBe(nameKey("amélie"));
  });
});

describe("text-mode lines (spec 3.2)", () => {
  it.each([
    ["hello", { type: "send", text: "hello" }],
    ["//not a command", { type: "send", text: "/not a command" }],
    ["/nick bob", { type: "nick", nick: "bob" }],
    ["/NICK bob", { type: "nick", nick: "bob" }],
    ["/join #dev", { type: "join", room: "#dev" }],
    ["/part", { type: "part" }],
    ["/who dev", { type: "who", room: "dev" }],
    ["/rooms", { type: "rooms" }],
    ["/msg bob hi there", { type: "dm", to: "bob", text: "hi there" }],
    ["/me waves  twice", { type: "send", text: "waves  twice", action: true }],
    ["/help", { type: "help" }],
    ["/quit gone fishing", { type: "quit", reason: "gone fishing" }],
  ])("parses %j", (line, expected) => {
    expect(parseTextLine(line)).toEqual(expected);
  });

  it("ignores blank lines", () => {
    expect(parseTextLine("   ")).toBeNull();
  });

  it.each([
    ["/nick", "CHAT_ERR_BAD_ARGUMENT", /Usage: \/nick NAME/],
    ["/msg bob", "CHAT_ERR_BAD_ARGUMENT", /Usage: \/msg NICK TEXT/],
    ["/frobnicate", "CHAT_ERR_UNKNOWN_COMMAND", /no command \/frobnicate/],
  ])("refuses %j with %s", (line, code, message) => {
    expect(parseTextLine(line)).toMatchObject({ code, message: expect.stringMatching(message) });
  });
});

describe("structured frames (spec 4.1)", () => {
  it("parses requests", () => {
    expect(parseClientFrame('{"type":"hello","proto":1,"nick":"a"}')).toEqual({
      type: "hello",
      proto: 1,
      nick: "a",
    });
    expect(parseClientFrame('{"type":"send","ref":"1","text":"hi","action":true}')).toEqual({
      type: "send",
      ref: "1",
      text: "hi",
      action: true,
    });
    expect(parseClientFrame('{"type":"dm","to":"b","text":"x"}')).toEqual({
      type: "dm",
      to: "b",
      text: "x",
    });
    expect(parseClientFrame('{"type":"ping","ref":"p"}')).toEqual({ type: "ping", ref: "p" });
  });

  it.each([
    ["not json", /not JSON/],
    ["[1,2]", /not a JSON object/],
    ['{"text":"x"}', /`type` is missing/],
    ['{"type":"launch"}', /unknown type "launch"/],
    ['{"type":"send","ref":"7"}', /`text` is missing/],
    ['{"type":"send","text":5}', /`text` must be a string/],
    ['{"type":"send","text":"x","ref":3}', /`ref` must be a string/],
  ])("refuses %j, saying which field", (line, why) => {
    expect(parseClientFrame(line)).toMatchObject({
      code: "CHAT_ERR_BAD_FRAME",
      message: expect.stringMatching(why),
    });
  });

  it("keeps the ref of a bad frame so the error can answer it", () => {
    expect(parseClientFrame('{"type":"send","ref":"7"}')).toMatchObject({ ref: "7" });
  });
});

describe("greeting, error and refusal lines", () => {
  it("round-trips the greeting", () => {
    const line = formatGreeting("tcpchat 0.1.0", "guest-1", "lobby");
    expect(line.startsWith("*** tcpchat/1 ")).toBe(true);
    expect(parseGreeting(line)).toEqual({
      version: 1,
      software: "tcpchat 0.1.0",
      nick: "guest-1",
      room: "lobby",
    });
    expect(parseGreeting("220 smtp.example.org ESMTP")).toBeNull();
  });

  it("round-trips a refusal with its retry time", () => {
    const line = formatRefusalLine(
      "CHAT_ERR_REFUSED_BANNED",
      "Your address is banned.",
      "Wait.",
      29_500,
    );
    expect(line).toBe(
      "!!! CHAT_ERR_REFUSED_BANNED: Your address is banned. retry in 30s (hint: Wait.)",
    );
    const error = parseRefusalLine(line);
    expect(error).toBeInstanceOf(RemoteError);
    expect(error).toMatchObject({
      code: "CHAT_ERR_REFUSED_BANNED",
      retryAfterMs: 30_000,
      hint: "Wait.",
    });
  });

  it("parses other error lines, and not unknown codes", () => {
    expect(parseErrorLine("!!! CHAT_ERR_KICKED: bye (hint: h)")).toMatchObject({
      code: "CHAT_ERR_KICKED",
      message: "bye",
    });
    expect(parseRefusalLine("!!! CHAT_ERR_KICKED: bye (hint: h)")).toBeNull();
    expect(parseErrorLine("!!! CHAT_ERR_MADE_UP: x")).toBeNull();
  });

  it("formats every displayable frame as one readable line", () => {
    expect(
      formatTextLine({ type: "message", id: "1", ts: 0, room: "dev", from: "a", text: "hi" }),
    ).toBe("#dev <a> hi");
    expect(
      formatTextLine({ type: "crowd", ts: 0, room: "big", joined: 120, left: 3, windowMs: 1000 }),
    ).toBe("#big --> 120 joined, 3 left in the last 1s");
    expect(formatTextLine({ type: "part", ts: 0, room: "dev", nick: "a", reason: "quit" })).toBe(
      "#dev <-- a left (quit)",
    );
    expect(formatTextLine({ type: "ack", ref: "1", ts: 0 })).toBeNull();
  });
});

describe("neutralizeFrame", () => {
  it("neutralizes every string of a frame, nested ones too, and keeps a clean frame as is", () => {
    const clean = { type: "message", id: "1", ts: 1, room: "lobby", from: "eve", text: "hi" };
    expect(neutralizeFrame(clean)).toBe(clean);
    const rooms = { type: "rooms", rooms: [{ name: "a\u001b[2J", members: 1 }] };
    expect(neutralizeFrame(rooms)).toEqual({
      type: "rooms",
      rooms: [{ name: "a␛[2J", members: 1 }],
    });
    const presence = { type: "presence", room: "lobby", nicks: ["ok", "b\u0007"], count: 2 };
    expect(neutralizeFrame(presence).nicks).toEqual(["ok", "b␇"]);
    expect(presence.nicks[1]).toBe("b\u0007");
  });
});
