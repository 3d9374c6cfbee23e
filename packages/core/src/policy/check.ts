import { normalizePeerAddress } from "./address.js";
import { type CompiledPolicy, compilePolicy } from "./compile.js";
import type { PolicyConfig } from "./config.js";
import { evaluateRules, POLICY_RULE, RULE_STEPS, type RuleInput } from "./evaluate.js";
import { EMPTY_PEER_STATS, type PeerStats } from "./peer-stats.js";
import type { AcceptDecision } from "./types.js";

/** How one rule treated the address in {@link checkPolicy}. */
export interface PolicyTraceStep {
  readonly rule: string;
  /** `pass`: did not refuse; `refuse`: decided; `skipped`: not reached, or not run by a check. */
  readonly outcome: "pass" | "refuse" | "skipped";
  readonly detail: string;
}

/** The answer of {@link checkPolicy}. */
export interface PolicyCheckResult {
  /** The normalized address that was checked (`::ffff:1.2.3.4` -> `1.2.3.4`). */
  readonly address: string;
  readonly decision: AcceptDecision;
  /** The rule that decided (as in `decision.rule`). */
  readonly rule: string;
  /** A few lines for a person: the decision, why, and each rule's view. */
  readonly explanation: string;
  readonly trace: readonly PolicyTraceStep[];
}

/** Options of {@link checkPolicy}. */
export interface CheckPolicyOptions {
  /** What to assume about the server and the address; default: an empty server, no history. */
  readonly stats?: Partial<PeerStats>;
  /** The time to decide at, in milliseconds since the epoch. Default: `Date.now()`. */
  readonly now?: number;
}

function describeDecision(decision: AcceptDecision): string {
  if (decision.accept) return `accept (rule: ${decision.rule ?? POLICY_RULE.default})`;
  const retry =
    decision.retryAfterMs === undefined
      ? ""
      : `, retry in ${Math.ceil(decision.retryAfterMs / 1000)}s`;
  return `refuse with ${decision.code} (rule: ${decision.rule}${retry}): ${decision.message}`;
}

/** Traces the rules on a prepared input. Shared by {@link checkPolicy} and the managed policy. */
export function traceRules(policy: CompiledPolicy, input: RuleInput): PolicyCheckResult {
  const decision = evaluateRules(input);
  const trace: PolicyTraceStep[] = [];
  let decided = false;
  for (const step of RULE_STEPS) {
    if (decided) {
      trace.push({ rule: step.rule, outcome: "skipped", detail: "not reached" });
      continue;
    }
    const refused = step.refuse(input);
    decided = refused !== undefined;
    trace.push({
      rule: refused?.rule ?? step.rule,
      outcome: decided ? "refuse" : "pass",
      detail: step.explain(input),
    });
  }
  trace.push({
    rule: POLICY_RULE.custom,
    outcome: "skipped",
    detail: decided
      ? "not reached"
      : policy.custom === undefined
        ? "no custom predicate"
        : "a custom predicate is set in code; a check does not run it",
  });
  const rule = decision.rule ?? POLICY_RULE.default;
  const lines = [
    `${input.addressText}: ${describeDecision(decision)}`,
    ...trace.map((step) => `  ${step.outcome.padEnd(7)} ${step.rule.padEnd(15)} ${step.detail}`),
  ];
  return { address: input.addressText, decision, rule, explanation: lines.join("\n"), trace };
}

/**
 * What the policy would decide for a connection from `address`, and why, without a server:
 * the engine of `tcpchat policy check FILE ADDRESS`. By default it assumes an empty server and
 * an address with no history (no bans, full connect-rate bucket); pass `stats` to assume more.
 * @throws {TypeError} if `address` is not an IP address.
 * @throws {PolicyFileError} if the config is invalid.
 */
export function checkPolicy(
  config: PolicyConfig,
  address: string,
  options: CheckPolicyOptions = {},
): PolicyCheckResult {
  const policy = compilePolicy(config);
  const normalized = normalizePeerAddress(address);
  if (normalized === undefined)
    throw new TypeError(`${JSON.stringify(address)} is not a valid IP address`);
  const stats: PeerStats = { ...EMPTY_PEER_STATS, ...options.stats };
  const input: RuleInput = {
    policy,
    address: normalized,
    addressText: normalized.text,
    stats,
    now: options.now ?? Date.now(),
  };
  return traceRules(policy, input);
}
