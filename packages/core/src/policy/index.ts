/**
 * The accept policy: who may connect, decided at accept time before any session exists.
 * Rules, in order: operator bans, deny list, allow list, connect rate, max connections,
 * max per address, max per subnet, custom predicate.
 */
export {
  type AcceptPolicyOptions,
  type BanOptions,
  createAcceptPolicy,
  type ManagedAcceptPolicy,
  type PolicyStats,
} from "./accept-policy.js";
export {
  type AddressRange,
  type NormalizedAddress,
  normalizePeerAddress,
  parseAddressOrCidr,
} from "./address.js";
export type { BanChange } from "./ban-store.js";
export {
  type CheckPolicyOptions,
  checkPolicy,
  type PolicyCheckResult,
  type PolicyTraceStep,
} from "./check.js";
export type { ResolvedConnectRate } from "./compile.js";
export {
  type ConnectRateConfig,
  type CustomPredicate,
  type CustomPredicateContext,
  type CustomVerdict,
  type PolicyConfig,
  PolicyFileError,
  type PolicyIssue,
} from "./config.js";
export { CONNECT_OUTCOME, type ConnectOutcome, recordConnectAttempt } from "./connect-bucket.js";
export {
  evaluatePolicy,
  POLICY_RULE,
  type PolicyRuleName,
  type RefusedDecision,
} from "./evaluate.js";
export {
  BAN_SOURCE,
  type BanInfo,
  type BanSource,
  type ConnectBucket,
  EMPTY_PEER_STATS,
  type PeerStats,
} from "./peer-stats.js";
export {
  loadPolicyFile,
  type PolicyFileFormat,
  parsePolicyFile,
  policyFileFormat,
} from "./policy-file.js";
export {
  createRefusalLogLimiter,
  type RefusalLogEntry,
  type RefusalLogLimiter,
  type RefusalLogLimiterOptions,
} from "./refusal-log.js";
export type { AcceptDecision, AcceptPolicy, PeerInfo, ServerLoad } from "./types.js";
