import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCliToEnd } from "./helpers/cli-process.js";

let dir: string;
let policyFile: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "tcpchat-policy-"));
  policyFile = join(dir, "policy.toml");
  writeFileSync(
    policyFile,
    [
      'allow = ["192.168.1.0/24", "::1"]',
      'deny = ["192.168.1.66"]',
      "maxConnections = 100",
      "",
    ].join("\n"),
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("tcpchat policy check", () => {
  it("accepts an allowed address: exit 0, with the deciding rule", async () => {
    const { code, stdout } = await runCliToEnd(["policy", "check", policyFile, "192.168.1.7"]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^192\.168\.1\.7: accept \(rule: /);
  });

  it("refuses a denied address: exit 1, code and rule", async () => {
    const { code, stdout } = await runCliToEnd(["policy", "check", policyFile, "192.168.1.66"]);
    expect(code).toBe(1);
    expect(stdout).toMatch(/^192\.168\.1\.66: refuse with CHAT_ERR_REFUSED_DENIED \(rule: deny/);
  });

  it("refuses an address outside the allow list, as JSON", async () => {
    const { code, stdout } = await runCliToEnd([
      "policy",
      "check",
      policyFile,
      "10.0.0.1",
      "--json",
    ]);
    expect(code).toBe(1);
    const result = JSON.parse(stdout);
    expect(result).toMatchObject({
      address: "10.0.0.1",
      accept: false,
      code: "CHAT_ERR_REFUSED_NOT_ALLOWED",
      rule: "allow",
    });
    expect(Array.isArray(result.trace)).toBe(true);
  });

  it("takes the server's load into account with --connections", async () => {
    const { code, stdout } = await runCliToEnd([
      "policy",
      "check",
      policyFile,
      "::1",
      "--connections",
      "100",
    ]);
    expect(code).toBe(1);
    expect(stdout).toMatch(/CHAT_ERR_REFUSED_SERVER_FULL/);
  });

  it("exits 2 for a missing or invalid file", async () => {
    const missing = await runCliToEnd(["policy", "check", join(dir, "nope.toml"), "10.0.0.1"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^tcpchat: .*nope\.toml/);
    const bad = join(dir, "bad.toml");
    writeFileSync(bad, 'deny = ["10.0.0.300/8"]\n');
    const invalid = await runCliToEnd(["policy", "check", bad, "10.0.0.1"]);
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toMatch(/deny\[0\]/);
  });
});
