import { isIP } from "node:net";
import { checkPolicy, loadPolicyFile, PolicyFileError } from "@tcpchat/core";
import { intFlag, parseCommandArgs } from "../args.js";
import { EXIT_CODE } from "../exit-codes.js";
import { UsageError } from "../usage-error.js";
import type { Command } from "./command.js";

const HELP = `Usage: tcpchat policy check FILE ADDRESS [--connections N] [--from-address N] [--json]

Reads an accept-policy file (the one \`tcpchat serve --policy FILE\` takes) and prints what it
decides for a connection from ADDRESS, and which rule decided.

Options:
  --connections N   clients already connected to the server (default 0), for max-connections
  --from-address N  clients already connected from ADDRESS (default 0), for max-per-address
  --json            print the decision as one JSON object
  -h, --help        show this help

Exit codes: 0 the policy accepts, 1 it refuses, 2 bad input (unreadable or invalid file, bad
address, bad flags).

Examples:
  tcpchat policy check policy.toml 192.168.1.7
  tcpchat policy check policy.toml 2001:db8::1 --json
  tcpchat policy check policy.toml 10.0.0.9 --connections 500`;

/** `tcpchat policy check FILE ADDRESS`: what an accept-policy file decides for one address. */
export const policyCommand: Command = {
  name: "policy",
  summary: "check what an accept-policy file decides for an address",
  help: HELP,
  async run(argv, io) {
    const { flags, positionals } = parseCommandArgs("policy", argv, {
      connections: { type: "string" },
      "from-address": { type: "string" },
      json: { type: "boolean" },
    });
    const [sub, file, address, ...extra] = positionals;
    if (sub !== "check") {
      throw new UsageError(
        `policy has one subcommand, check, got ${sub === undefined ? "none" : `"${sub}"`}. See: tcpchat policy --help`,
      );
    }
    if (file === undefined || address === undefined || extra.length > 0) {
      throw new UsageError("usage: tcpchat policy check FILE ADDRESS. See: tcpchat policy --help");
    }
    if (isIP(address) === 0) throw new UsageError(`"${address}" is not an IP address`);
    const count = { min: 0, max: 100_000_000 };
    const totalConnections = intFlag(flags, "connections", count) ?? 0;
    const fromAddress = intFlag(flags, "from-address", count) ?? 0;
    let config: Awaited<ReturnType<typeof loadPolicyFile>>;
    try {
      config = await loadPolicyFile(file);
    } catch (error) {
      if (error instanceof PolicyFileError) throw new UsageError(error.message);
      if ((error as NodeJS.ErrnoException).code === "ENOENT")
        throw new UsageError(`policy file ${file} does not exist`);
      throw new UsageError(`cannot read ${file}: ${(error as Error).message}`);
    }
    let result: ReturnType<typeof checkPolicy>;
    try {
      result = checkPolicy(config, address, { stats: { totalConnections, fromAddress } });
    } catch (error) {
      throw new UsageError(error instanceof Error ? error.message : String(error));
    }
    const { decision } = result;
    if (flags.json) {
      const { accept, ...rest } = decision;
      io.stdout.write(
        `${JSON.stringify({ address: result.address, accept, ...rest, rule: result.rule, trace: result.trace })}\n`,
      );
    } else {
      io.stdout.write(`${result.explanation}\n`);
    }
    return decision.accept ? EXIT_CODE.ok : EXIT_CODE.failure;
  },
};
