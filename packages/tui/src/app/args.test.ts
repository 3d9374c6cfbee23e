import { describe, expect, it } from "vitest";
import { parseArgs } from "./args.js";

describe("parseArgs", () => {
  it("defaults to 127.0.0.1 on the default port", () => {
    expect(parseArgs([], 3000)).toMatchObject({
      host: "127.0.0.1",
      port: 3000,
      display: "127.0.0.1:3000",
    });
  });

  it("reads host, host:port, [v6]:port, and drops pnpm's leading --", () => {
    expect(parseArgs(["--", "chat.example.org"], 3000)).toMatchObject({
      host: "chat.example.org",
      port: 3000,
    });
    expect(parseArgs(["10.0.0.5:4000", "--nick", "지은", "--room=dev"], 3000)).toMatchObject({
      host: "10.0.0.5",
      port: 4000,
      nick: "지은",
      room: "dev",
    });
    expect(parseArgs(["[::1]:4000"], 3000)).toMatchObject({
      host: "::1",
      port: 4000,
      display: "[::1]:4000",
    });
  });

  it("refuses bad ports, unknown options and stray arguments with a message", () => {
    expect(parseArgs(["host:99999"], 3000)).toEqual({ error: "bad port in host:99999" });
    expect(parseArgs(["--color"], 3000)).toEqual({ error: "unknown option --color" });
    expect(parseArgs(["a", "b"], 3000)).toEqual({ error: "unexpected argument b" });
    expect(parseArgs(["--nick"], 3000)).toEqual({ error: "--nick needs a value" });
  });

  it("reads --tls, --ca FILE and --insecure; --ca or --insecure alone imply TLS", () => {
    expect(parseArgs([], 3000)).toMatchObject({ tls: undefined });
    expect(parseArgs(["--tls"], 3000)).toMatchObject({ tls: {} });
    expect(parseArgs(["--", "h:4000", "--tls", "--ca", "ca.pem"], 3000)).toMatchObject({
      host: "h",
      tls: { caFile: "ca.pem" },
    });
    expect(parseArgs(["--ca=ca.pem"], 3000)).toMatchObject({ tls: { caFile: "ca.pem" } });
    expect(parseArgs(["--insecure"], 3000)).toMatchObject({ tls: { insecure: true } });
    expect(parseArgs(["--ca", "a.pem", "--insecure"], 3000)).toEqual({
      error: "--ca and --insecure contradict each other: give one of them",
    });
    expect(parseArgs(["--ca"], 3000)).toEqual({ error: "--ca needs a value" });
  });
});
