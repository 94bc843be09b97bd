import { KilnError } from '../platform/errors.js';

export interface LoginLimiterOptions {
  /** Failures allowed in a row for one user name before attempts are slowed down. */
  readonly freeFailures: number;
  /** The same for one client address (higher: many people may share an address behind a proxy). */
  readonly freeFailuresPerAddress: number;
  /** The first delay once they are used up; it doubles with every further failure. */
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  /** A key's failures are forgotten this long after its last one. */
  readonly forgetAfterMs: number;
  /** Keys remembered at most (the oldest are dropped first). */
  readonly maxKeys: number;
}

export const DEFAULT_LOGIN_LIMITS: LoginLimiterOptions = { freeFailures: 5, freeFailuresPerAddress: 20, baseDelayMs: 1_000, maxDelayMs: 15 * 60_000, forgetAfterMs: 60 * 60_000, maxKeys: 100_000 };

interface Failures {
  count: number;
  last: number;
  /** No attempt is checked before this time. */
  until: number;
}

/**
 * Slows down credential guessing, per user name and per client address separately: after `freeFailures` failures in a
 * row for a user (`freeFailuresPerAddress` for an address), each further attempt must wait a delay that doubles with
 * every failure (1 s, 2 s, 4 s … up to 15 min), and an
 * attempt that comes earlier is answered 429 with Retry-After, without checking the password (so it costs no scrypt
 * either). A success clears the user's count and the address's. Kept per process: with several replicas a guesser
 * gets each replica's allowance, still a few attempts per second at most.
 */
export class LoginLimiter {
  readonly options: LoginLimiterOptions;
  private readonly failures = new Map<string, Failures>();

  constructor(
    options: Partial<LoginLimiterOptions> = {},
    private readonly now: () => number = Date.now,
  ) {
    this.options = { ...DEFAULT_LOGIN_LIMITS, ...options };
  }

  /** Throws REQUEST_LIMIT_EXCEEDED when the user or the address must still wait. */
  check(user: string | undefined, source: string | undefined): void {
    const now = this.now();
    let wait = 0;
    for (const key of keys(user, source)) {
      const f = this.current(key, now);
      if (f && f.until > now) wait = Math.max(wait, f.until - now);
    }
    if (wait > 0) {
      throw new KilnError('REQUEST_LIMIT_EXCEEDED', `Too many failed sign-ins: try again in ${Math.ceil(wait / 1000)} s.`, { retry_after_seconds: Math.ceil(wait / 1000) });
    }
  }

  failed(user: string | undefined, source: string | undefined): void {
    const now = this.now();
    for (const key of keys(user, source)) {
      const f = this.current(key, now) ?? { count: 0, last: now, until: 0 };
      f.count += 1;
      f.last = now;
      const over = f.count - (key.startsWith('a:') ? this.options.freeFailuresPerAddress : this.options.freeFailures);
      f.until = over > 0 ? now + Math.min(this.options.maxDelayMs, this.options.baseDelayMs * 2 ** Math.min(over - 1, 30)) : 0;
      this.failures.delete(key);
      if (this.failures.size >= this.options.maxKeys) this.failures.delete(this.failures.keys().next().value!);
      this.failures.set(key, f);
    }
  }

  succeeded(user: string | undefined, source: string | undefined): void {
    for (const key of keys(user, source)) this.failures.delete(key);
  }

  private current(key: string, now: number): Failures | undefined {
    const f = this.failures.get(key);
    if (f && now - f.last > this.options.forgetAfterMs) {
      this.failures.delete(key);
      return undefined;
    }
    return f;
  }
}

const keys = (user: string | undefined, source: string | undefined) => [...(user !== undefined ? [`u:${user}`] : []), ...(source ? [`a:${source}`] : [])];
