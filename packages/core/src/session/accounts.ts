import { DEFAULT_LOGIN_GRACE_MS } from "../defaults.js";
import { lookalikeKeys } from "../protocol/lookalikes.js";
import { nameKey } from "../protocol/names.js";
import { DEFAULT_SCRYPT_PARAMS, type ScryptParams } from "../store/password.js";
import type { ChatStore } from "../store/types.js";
import {
  DEFAULT_LOGIN_THROTTLE,
  LoginThrottle,
  type LoginThrottleOptions,
} from "./login-throttle.js";
import { DEFAULT_PASSWORD_GATE, PasswordGate, type PasswordGateOptions } from "./password-gate.js";

/** Settings of {@link Accounts}. */
export interface AccountSettings {
  /** Shortest password accepted, in code points. */
  minPasswordLength: number;
  /** scrypt cost of new hashes (checks use the cost stored with each hash). */
  scrypt: ScryptParams;
  throttle: LoginThrottleOptions;
  /** Registrations per address: a few free, then waits that double (as failed logins). */
  registrationThrottle: LoginThrottleOptions;
  /** Password hashes (register, login) running or waiting at once, server-wide and per address. */
  passwordGate: PasswordGateOptions;
  /**
   * How long a client that brings a registered nick in its hello may hold it before it logs in,
   * in ms (default 30000; 0: such a hello is refused the nick at once).
   */
  loginGraceMs: number;
}

/**
 * Registrations from one address: 5 free, then 10 s, 20 s, ... up to an hour between them. Each
 * costs a password hash and a stored account, so a flood of fresh nicks is paced per address.
 */
export const DEFAULT_REGISTRATION_THROTTLE: LoginThrottleOptions = {
  ...DEFAULT_LOGIN_THROTTLE,
  baseDelayMs: 10_000,
  maxDelayMs: 60 * 60_000,
};

/** Default {@link AccountSettings}. */
export const DEFAULT_ACCOUNT_SETTINGS: AccountSettings = {
  minPasswordLength: 8,
  scrypt: DEFAULT_SCRYPT_PARAMS,
  throttle: DEFAULT_LOGIN_THROTTLE,
  registrationThrottle: DEFAULT_REGISTRATION_THROTTLE,
  passwordGate: DEFAULT_PASSWORD_GATE,
  loginGraceMs: DEFAULT_LOGIN_GRACE_MS,
};

/**
 * Registered nicks: which nicks (and their lookalikes) belong to an account, so that a nick
 * check stays synchronous on the per-request path; the store holds the hashes. Loaded once at
 * start ({@link load}), then kept in step by registrations.
 */
export class Accounts {
  /** Lookalike skeleton -> the account key it belongs to. */
  private readonly owners = new Map<string, string>();
  /** Account keys made operators by the server's configuration (an operators file). */
  private configuredOperators = new Set<string>();
  readonly throttle: LoginThrottle;
  /** Registrations per address (keys: the address, and the nick registered). */
  readonly registrations: LoginThrottle;
  /** Where every password hash waits for its turn. */
  readonly passwordGate: PasswordGate;

  constructor(
    readonly store: ChatStore,
    readonly settings: AccountSettings = DEFAULT_ACCOUNT_SETTINGS,
  ) {
    this.throttle = new LoginThrottle(settings.throttle);
    this.registrations = new LoginThrottle(settings.registrationThrottle);
    this.passwordGate = new PasswordGate(settings.passwordGate);
  }

  /** Reads every registered nick from the store. */
  async load(): Promise<void> {
    for (const key of await this.store.accountKeys()) this.add(key);
  }

  /** Protects a registered nick (and its lookalikes). */
  add(nick: string): void {
    const key = nameKey(nick);
    for (const skeleton of lookalikeKeys(nick)) this.owners.set(skeleton, key);
    this.owners.set(key, key);
  }

  /** Replaces the operators the configuration names (account names, any case). */
  setConfiguredOperators(names: Iterable<string>): void {
    this.configuredOperators = new Set([...names].map((name) => nameKey(name)));
  }

  /** Whether the configuration makes an account an operator (besides its stored flag). */
  isConfiguredOperator(key: string): boolean {
    return this.configuredOperators.has(key);
  }

  /** The account a nick belongs to (itself, or a registered nick it looks like), if any. */
  ownerOf(nick: string): string | undefined {
    const own = this.owners.get(nameKey(nick));
    if (own !== undefined) return own;
    for (const skeleton of lookalikeKeys(nick)) {
      const owner = this.owners.get(skeleton);
      if (owner !== undefined) return owner;
    }
    return undefined;
  }
}
