import { afterEach, describe, expect, it } from "vitest";
import { killAllCli, runCliToEnd } from "./helpers/cli-process.js";

afterEach(killAllCli);

describe("usage errors exit 2 with a clear message", () => {
  it.each([
    [["serve", "--port", "70000"], /--port must be a whole number from 0 to 65535, got "70000"/],
    [["serve", "--prot", "3000"], /Unknown option '--prot'.*tcpchat serve --help/],
    [["serve", "--message-rate", "fast"], /--message-rate must be a whole number/],
    [["serve", "--log-format", "xml"], /--log-format must be text or json/],
    [["serve", "--connect-rate", "lots"], /--connect-rate must look like 10\/s/],
    [
      ["connect", "localhost:70000"],
      /the port must be a whole number from 1 to 65535, got "70000"/,
    ],
    [["connect", "a", "b"], /connect takes one HOST\[:PORT\]/],
    [["connect", "example.org:1:2"], /IPv6 address with a port/],
    [["connect", "--nick", "has space"], /--nick: Nick "has space" is not valid/],
    [["connect", "--room", "/etc"], /--room: Room name "\/etc" is not valid/],
    [["doctor"], /doctor needs HOST\[:PORT\]/],
    [["doctor", "localhost", "--timeout", "soon"], /--timeout must be a whole number/],
    [["policy", "verify"], /policy has one subcommand, check/],
    [["policy", "check", "policy.toml", "not-an-ip"], /"not-an-ip" is not an IP address/],
    [["frobnicate"], /unknown command "frobnicate"/],
  ])("tcpchat %j", async (args, message) => {
    const { code, stderr, stdout } = await runCliToEnd(args);
    expect(code).toBe(2);
    expect(stderr).toMatch(/^tcpchat: /);
    expect(stderr).toMatch(message);
    expect(stdout).toBe("");
  });
});

describe("help and version", () => {
  it.each([["serve"], ["connect"], ["doctor"], ["policy"]])(
    "tcpchat %s --help shows usage and examples",
    async (command) => {
      const { code, stdout } = await runCliToEnd([command, "--help"]);
      expect(code).toBe(0);
      expect(stdout).toMatch(new RegExp(`^Usage: tcpchat ${command}`));
      expect(stdout).toMatch(/Examples:/);
    },
  );

  it("top-level --help lists every command, and a leading -- from pnpm is ignored", async () => {
    const { code, stdout } = await runCliToEnd(["--", "--help"]);
    expect(code).toBe(0);
    for (const command of ["serve", "connect", "doctor", "policy"])
      expect(stdout).toMatch(new RegExp(`\\n  ${command} `));
  });

  it("--version prints the version", async () => {
    const { code, stdout } = await runCliToEnd(["--version"]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^tcpchat \d+\.\d+\.\d+ \(core: tcpchat \d+\.\d+\.\d+\)\n$/);
  });

  it("connect --help documents every exit code", async () => {
    const { stdout } = await runCliToEnd(["connect", "--help"]);
    for (const code of [0, 2, 3, 4, 5, 6, 7, 8, 9])
      expect(stdout).toMatch(new RegExp(`\\n  ${code}  \\S`));
  });
});
