import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  loadPolicyFile,
  PolicyFileError,
  parseAddressOrCidr,
  parsePolicyFile,
  policyFileFormat,
} from "../src/policy/index.js";

const FULL_TOML = `
# Office and VPN only, a few limits, and one bad neighbour.
allow = ["10.0.0.0/8", "2001:db8::/32", "127.0.0.1"]
deny = ["10.66.0.0/16"]
maxConnections = 500
maxPerAddress = 5
maxPerSubnet = 50
subnetPrefixIPv4 = 24
subnetPrefixIPv6 = 56
customTimeoutMs = 250
customFailOpen = true

[connectRate]
perSecond = 2.5
burst = 10
banAfter = 20
banWindowMs = 10_000
banDurationMs = 300_000
`;

const FULL_CONFIG = {
  allow: ["10.0.0.0/8", "2001:db8::/32", "127.0.0.1"],
  deny: ["10.66.0.0/16"],
  maxConnections: 500,
  maxPerAddress: 5,
  maxPerSubnet: 50,
  subnetPrefixIPv4: 24,
  subnetPrefixIPv6: 56,
  customTimeoutMs: 250,
  customFailOpen: true,
  connectRate: {
    perSecond: 2.5,
    burst: 10,
    banAfter: 20,
    banWindowMs: 10_000,
    banDurationMs: 300_000,
  },
};

function issuesOf(result: unknown): string[] {
  expect(result).toBeInstanceOf(PolicyFileError);
  return (result as PolicyFileError).issues.map((issue) => `${issue.path}: ${issue.message}`);
}

describe("parsePolicyFile", () => {
  it("reads every field from TOML and from JSON alike", () => {
    expect(parsePolicyFile(FULL_TOML, "toml")).toEqual(FULL_CONFIG);
    expect(
      parsePolicyFile(JSON.stringify({ $schema: "./policy.schema.json", ...FULL_CONFIG }), "json"),
    ).toEqual(FULL_CONFIG);
  });

  it("an empty file is a policy that accepts everyone", () => {
    expect(parsePolicyFile("", "toml")).toEqual({});
    expect(parsePolicyFile("{}", "json")).toEqual({});
  });

  const invalid: Array<[string, string, "json" | "toml", string[]]> = [
    [
      "a bad CIDR, by index",
      '{"deny": ["10.0.0.1", "10.0.0.2", "10.0.0.300/8"]}',
      "json",
      ['deny[2]: "10.0.0.300/8" is not a valid address or CIDR'],
    ],
    [
      "a prefix too long",
      'allow = ["10.0.0.0/33", "::/129"]',
      "toml",
      [
        'allow[0]: "10.0.0.0/33" is not a valid address or CIDR (the prefix length must be 0 to 32)',
        'allow[1]: "::/129" is not a valid address or CIDR (the prefix length must be 0 to 128)',
      ],
    ],
    [
      "short IPv4 forms",
      '{"deny": ["10.1"]}',
      "json",
      ['deny[0]: "10.1" is not a valid address or CIDR'],
    ],
    [
      "a host name",
      '{"allow": ["example.com"]}',
      "json",
      ['allow[0]: "example.com" is not a valid address or CIDR'],
    ],
    [
      "not a list",
      'deny = "10.0.0.1"',
      "toml",
      ['deny: must be a list of addresses or CIDR blocks, not "10.0.0.1"'],
    ],
    [
      "a number in a list",
      '{"deny": [10]}',
      "json",
      ["deny[0]: must be an address or CIDR as a string, not 10"],
    ],
    [
      "zero limit",
      "maxConnections = 0",
      "toml",
      ["maxConnections: must be a whole number >= 1, not 0"],
    ],
    [
      "fractional limit",
      '{"maxPerAddress": 1.5}',
      "json",
      ["maxPerAddress: must be a whole number >= 1, not 1.5"],
    ],
    [
      "limit as a string",
      'maxPerSubnet = "5"',
      "toml",
      ['maxPerSubnet: must be a whole number >= 1, not "5"'],
    ],
    [
      "prefix out of range",
      "subnetPrefixIPv4 = 40",
      "toml",
      ["subnetPrefixIPv4: must be a whole number from 0 to 32, not 40"],
    ],
    [
      "a typo",
      '{"maxConnection": 5}',
      "json",
      [
        expect.stringMatching(/^maxConnection: unknown field \(known fields: allow, deny, /),
      ] as never,
    ],
    [
      "missing rate",
      "[connectRate]\nburst = 5",
      "toml",
      ["connectRate.perSecond: is required (connection attempts per second per address)"],
    ],
    [
      "negative rate",
      '{"connectRate": {"perSecond": -1}}',
      "json",
      ["connectRate.perSecond: must be a number > 0, not -1"],
    ],
    [
      "rate not a table",
      "connectRate = 5",
      "toml",
      ["connectRate: must be a table such as { perSecond = 5 }, not 5"],
    ],
    [
      "unknown rate field",
      '{"connectRate": {"perSecond": 1, "perMinute": 3}}',
      "json",
      [
        "connectRate.perMinute: unknown field (known fields: perSecond, burst, banAfter, banWindowMs, banDurationMs)",
      ],
    ],
    [
      "custom in a file",
      '{"custom": "return true"}',
      "json",
      ["custom: a custom predicate can only be set in code, not in a file"],
    ],
    [
      "fail-open not a boolean",
      "customFailOpen = 1",
      "toml",
      ["customFailOpen: must be true or false, not 1"],
    ],
    [
      "not an object",
      "[1, 2]",
      "json",
      [": a policy must be an object (a JSON object or a TOML document), not a list"],
    ],
  ];
  it.each(invalid)("rejects %s, naming the field and why", (_name, text, format, expected) => {
    expect(issuesOf(parsePolicyFile(text, format))).toEqual(expected);
  });

  it("reports every problem at once", () => {
    const issues = issuesOf(
      parsePolicyFile('{"deny": ["x"], "maxConnections": -1, "connectRate": {}}', "json"),
    );
    expect(issues).toHaveLength(3);
    const error = parsePolicyFile('{"deny": ["x"]}', "json") as PolicyFileError;
    expect(error.message).toBe('invalid policy:\n  deny[0]: "x" is not a valid address or CIDR');
  });

  it("reports syntax errors with their position", () => {
    const toml = parsePolicyFile(
      'maxConnections = = 3\nallow = ["10.0.0.1"]',
      "toml",
    ) as PolicyFileError;
    expect(toml).toBeInstanceOf(PolicyFileError);
    expect(toml.issues[0]!.message).toMatch(/^not valid TOML: .*\(line 1, column \d+\)$/);
    const json = parsePolicyFile('{"allow": [', "json") as PolicyFileError;
    expect(json.issues[0]!.message).toMatch(/^not valid JSON: /);
  });
});

describe("parseAddressOrCidr", () => {
  const cases: Array<[string, string]> = [
    ["10.1.2.3", "10.1.2.3"],
    [" 10.1.2.3 ", "10.1.2.3"],
    ["10.1.2.3/32", "10.1.2.3"],
    ["10.1.2.3/24", "10.1.2.0/24"],
    ["0.0.0.0/0", "0.0.0.0/0"],
    ["2001:DB8:0:0:0:0:0:1", "2001:db8::1"],
    ["2001:db8::/32", "2001:db8::/32"],
    ["::ffff:1.2.3.4", "1.2.3.4"],
    ["::ffff:10.0.0.0/104", "10.0.0.0/8"],
    ["::ffff:0:0/96", "0.0.0.0/0"],
    ["::/0", "::/0"],
  ];
  it.each(cases)("%j -> %s", (input, canonical) => {
    const range = parseAddressOrCidr(input);
    expect(typeof range === "string" ? range : range.text).toBe(canonical);
  });

  it.each([
    "",
    "10.0.0",
    "256.0.0.1",
    "10.0.0.1/",
    "10.0.0.1/-1",
    "10.0.0.1/8/8",
    "0x0a.0.0.1",
    "::g",
  ])("rejects %j", (input) => {
    const result = parseAddressOrCidr(input);
    expect(typeof result).toBe("string");
    expect(result).toContain(`${JSON.stringify(input)} is not a valid address or CIDR`);
  });
});

describe("loadPolicyFile", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "tcpchat-policy-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("picks the format from the extension", async () => {
    await writeFile(join(dir, "policy.toml"), FULL_TOML);
    await writeFile(join(dir, "policy.JSON"), JSON.stringify(FULL_CONFIG));
    expect(await loadPolicyFile(join(dir, "policy.toml"))).toEqual(FULL_CONFIG);
    expect(await loadPolicyFile(join(dir, "policy.JSON"))).toEqual(FULL_CONFIG);
    expect(policyFileFormat("x.yaml")).toBeUndefined();
  });

  it("names the file in its errors", async () => {
    const file = join(dir, "bad.json");
    await writeFile(file, '{"deny": ["10.0.0.300/8"]}');
    const error = await loadPolicyFile(file).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PolicyFileError);
    expect((error as PolicyFileError).file).toBe(file);
    expect((error as PolicyFileError).message).toBe(
      `invalid policy file ${file}:\n  deny[0]: "10.0.0.300/8" is not a valid address or CIDR`,
    );
  });

  it("refuses other extensions and missing files with a PolicyFileError", async () => {
    await expect(loadPolicyFile(join(dir, "policy.yaml"))).rejects.toThrow(
      "the file name must end in .json or .toml",
    );
    await expect(loadPolicyFile(join(dir, "missing.toml"))).rejects.toThrow(
      /cannot read the file: ENOENT/,
    );
  });
});
