import { describe, expect, it } from "vitest";
import { parseDuration, parseHostPort, parseRate } from "./args.js";
import { UsageError } from "./usage-error.js";

describe("parseHostPort", () => {
  it.each([
    ["example.org", { host: "example.org", port: 3000 }],
    ["example.org:4000", { host: "example.org", port: 4000 }],
    ["10.0.0.5:3001", { host: "10.0.0.5", port: 3001 }],
    ["[::1]:4000", { host: "::1", port: 4000 }],
    ["[::1]", { host: "::1", port: 3000 }],
    ["::1", { host: "::1", port: 3000 }],
    ["fe80::1", { host: "fe80::1", port: 3000 }],
  ])("%s", (raw, expected) => {
    expect(parseHostPort(raw, 3000)).toEqual(expected);
  });

  it.each([
    ["host:70000", /from 1 to 65535, got "70000"/],
    ["host:0", /from 1 to 65535/],
    ["host:http", /got "http"/],
    ["example.org:5:6", /\[ADDRESS\]:PORT/],
    ["[example.org]:1", /not an IPv6 address/],
    ["", /empty/],
    ["a b", /not a host name/],
  ])("rejects %j", (raw, message) => {
    expect(() => parseHostPort(raw, 3000)).toThrow(UsageError);
    expect(() => parseHostPort(raw, 3000)).toThrow(message);
  });
});

describe("parseRate and parseDuration", () => {
  it("reads per second and per minute rates", () => {
    expect(parseRate("r", "10/s")).toBe(10);
    expect(parseRate("r", "5")).toBe(5);
    expect(parseRate("r", "120/min")).toBe(2);
    expect(() => parseRate("--connect-rate", "0/s")).toThrow(/--connect-rate must look like/);
  });

  it("reads durations with units", () => {
    expect(parseDuration("d", "90")).toBe(90_000);
    expect(parseDuration("d", "15m")).toBe(900_000);
    expect(parseDuration("d", "2h")).toBe(7_200_000);
    expect(parseDuration("d", "1d")).toBe(86_400_000);
    expect(() => parseDuration("the duration", "soon")).toThrow(/the duration must look like/);
  });
});
