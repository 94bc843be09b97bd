import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { KilnError, alreadyExists, invalid, notFound } from '../platform/errors.js';
import { SCOPES, type Principal, type Scope } from '../platform/auth/principal.js';
import type { AuthMethod } from '../platform/auth/principal.js';
import { OWASP_SCRYPT, hashPassword, needsRehash, passwordProblem, verifyPassword, type ScryptParams } from './passwords.js';
import { newToken, parseToken, secretMatches } from './tokens.js';
import type { GovernanceStore, SessionRow, SsoLoginRow, TokenRow, UserRow } from './store.js';
import type { AuditRecord } from '../platform/audit/log.js';
import { checkPermission, grantResourceType, grantSql, type Grant, type GrantKind, type GrantRow } from './grants.js';

export interface GovernanceOptions {
  /** scrypt's cost for new password hashes (tests lower it; OWASP's by default). */
  readonly scrypt: ScryptParams;
  /** How long a checked token or user row is trusted before it is read again: the bound on how late a revocation bites on another replica. */
  readonly recheckMs: number;
  /** How long a verified password is remembered (per process, under an HMAC with a per-process key) before scrypt runs again. */
  readonly passwordCacheMs: number;
  /** A token's last-used time, and a session's last-seen time, are written at most this often. */
  readonly lastUsedWriteMs: number;
  /** How long a browser session lasts at most, however active (absolute timeout). */
  readonly sessionTtlMs: number;
  /** A session unused for this long ends (idle timeout; counted from its last-seen time, written at most every lastUsedWriteMs). */
  readonly sessionIdleMs: number;
}

export const DEFAULT_GOVERNANCE_OPTIONS: GovernanceOptions = {
  scrypt: OWASP_SCRYPT,
  recheckMs: 2_000,
  passwordCacheMs: 5 * 60_000,
  lastUsedWriteMs: 60_000,
  sessionTtlMs: 12 * 3_600_000,
  sessionIdleMs: 3_600_000,
};

/** A browser session as the UI sees it (never its id, which only the cookie holds). */
export interface SessionInfo {
  readonly user: string;
  readonly admin: boolean;
  /** How it was opened: `session` (password) or `oidc` (single sign-on). */
  readonly method: 'session' | 'oidc';
  /** The provider's groups it carries (single sign-on). */
  readonly groups: readonly string[];
  readonly csrfToken: string;
  readonly creationTime: number;
  readonly expiryTime: number;
  /** When it ends if unused from now on (the idle timeout). */
  readonly idleExpiryTime: number;
}

/** A session id as the cookie carries it: 32 random bytes, base64url. */
const SESSION_ID = /^[A-Za-z0-9_-]{43}$/;
const sessionHash = (id: string) => createHash('sha256').update(id).digest('hex');
const sameSecret = (a: string, b: string) => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

export interface User {
  /** The user's key (`user_pk`): what grants and group memberships name it by. */
  readonly id: number;
  readonly name: string;
  readonly kind: 'user' | 'service';
  readonly displayName: string | null;
  readonly email: string | null;
  readonly admin: boolean;
  readonly disabled: boolean;
  readonly hasPassword: boolean;
  readonly creationTime: number;
  readonly lastUpdateTime: number;
  readonly lastLoginTime: number | null;
}

export interface TokenInfo {
  readonly id: string;
  readonly name: string;
  readonly user: string;
  readonly scopes: readonly Scope[];
  readonly creationTime: number;
  readonly expiryTime: number | null;
  readonly lastUsedTime: number | null;
  readonly revokedTime: number | null;
}

/** Who the identity provider says signed in (an ID token's or a bearer JWT's claims, read by oidc.ts). */
export interface SsoIdentity {
  readonly issuer: string;
  readonly subject: string;
  /** The Kiln user name (from the username claim). */
  readonly name: string;
  readonly displayName?: string;
  readonly email?: string;
  readonly groups: readonly string[];
  /** Server admin by the role map; undefined: the role map names no admin group, the flag is left as it is. */
  readonly admin?: boolean;
}

/** A sign-in under way at the provider, as the callback needs it back. */
export interface SsoLogin {
  readonly state: string;
  readonly nonce: string;
  readonly codeVerifier: string;
  readonly redirectUrl: string;
  readonly returnTo: string;
}

export interface NewUserInput {
  readonly name: string;
  readonly password?: string;
  readonly admin?: boolean;
  readonly kind?: 'user' | 'service';
  readonly displayName?: string;
  readonly email?: string;
}

export interface NewTokenInput {
  readonly name: string;
  readonly scopes?: readonly string[];
  /** Days until it expires (none: never). */
  readonly expiresInDays?: number;
}

const USER_NAME = /^[\p{L}\p{N}][\p{L}\p{N}._@+-]{0,127}$/u;
const MAX_TOKEN_DAYS = 3650;
/** A hash of a password nobody has: checked when the user does not exist, so a wrong name costs what a wrong password does. */
let decoyHash: Promise<string> | undefined;

const toUser = (u: UserRow): User => ({
  id: u.user_pk,
  name: u.name,
  kind: u.kind === 'service' ? 'service' : 'user',
  displayName: u.display_name,
  email: u.email,
  admin: u.admin === 1,
  disabled: u.disabled === 1,
  hasPassword: u.password_hash !== null,
  creationTime: u.creation_time,
  lastUpdateTime: u.last_update_time,
  lastLoginTime: u.last_login_time,
});

const toToken = (t: TokenRow, user: string): TokenInfo => ({
  id: t.token_id,
  name: t.name,
  user,
  scopes: t.scopes.split(',').filter((s): s is Scope => (SCOPES as readonly string[]).includes(s)),
  creationTime: t.creation_time,
  expiryTime: t.expiry_time,
  lastUsedTime: t.last_used_time,
  revokedTime: t.revoked_time,
});

const badCredentials = () => new KilnError('UNAUTHENTICATED', 'Invalid username or password.');
const badToken = () => new KilnError('UNAUTHENTICATED', 'Invalid, expired or revoked API token.');
const badSession = () => new KilnError('UNAUTHENTICATED', 'Your session has ended (signed out, expired or idle too long): sign in again.');

/** Who the users are, their API tokens, and checking the credentials a request carries. */
export class GovernanceService {
  readonly options: GovernanceOptions;
  /** Keys the password cache: what it holds is worthless outside this process. */
  private readonly cacheKey = randomBytes(32);
  private readonly tokens = new Map<string, { token: TokenRow; user: UserRow; checkedAt: number }>();
  private readonly usersByName = new Map<string, { user: UserRow | undefined; checkedAt: number }>();
  private readonly passwords = new Map<string, { hash: string; verifiedAt: number }>();
  private readonly touched = new Map<string, number>();
  /** Told the user_pk of a user whose grants, admin flag or existence changed in this process (see onChange). */
  private readonly listeners = new Set<(userPk: number) => void>();
  private readonly sessions = new Map<string, { session: SessionRow; user: UserRow; checkedAt: number }>();
  /** Users of bearer JWTs, by the identity's claims (re-read after recheckMs). */
  private readonly ssoUsers = new Map<string, { user: UserRow; checkedAt: number }>();
  private lastPrune = 0;

  constructor(
    private readonly store: GovernanceStore,
    options: Partial<GovernanceOptions> = {},
    private readonly now: () => number = Date.now,
    private readonly report: (e: unknown, what: string) => void = () => {},
  ) {
    this.options = { ...DEFAULT_GOVERNANCE_OPTIONS, ...options };
  }

  // ------------------------------------------------------------------ users

  async createUser(input: NewUserInput): Promise<User> {
    const name = checkUserName(input.name);
    const kind = input.kind ?? 'user';
    if (kind !== 'user' && kind !== 'service') throw invalid(`kind must be 'user' or 'service', got '${String(kind)}'.`);
    if (kind === 'service' && input.password !== undefined) throw invalid('A service account has no password: it authenticates with API tokens.');
    let passwordHash: string | null = null;
    if (input.password !== undefined) passwordHash = await this.hash(input.password);
    const now = this.now();
    const row = {
      name,
      kind,
      display_name: optionalText(input.displayName, 'display_name', 200),
      email: optionalText(input.email, 'email', 320),
      password_hash: passwordHash,
      admin: input.admin ? 1 : 0,
      disabled: 0,
      creation_time: now,
      last_update_time: now,
      last_login_time: null,
      sso_issuer: null,
      sso_subject: null,
    };
    try {
      return toUser(
        await this.store.change(async (s, record) => {
          const u = await s.insertUser(row);
          record({ action: 'auth.user_created', resourceType: 'user', resourceId: name, details: { kind, admin: row.admin === 1, has_password: passwordHash !== null } });
          return u;
        }),
      );
    } catch (e) {
      if (this.store.isUniqueViolation(e)) throw alreadyExists(`User '${name}' already exists.`);
      throw e;
    }
  }

  async getUser(name: string): Promise<User> {
    return toUser(await this.userRow(name));
  }

  async listUsers(): Promise<User[]> {
    return (await this.store.users()).map(toUser);
  }

  async countUsers(): Promise<number> {
    return this.store.countUsers();
  }

  async updateUser(name: string, patch: { admin?: boolean; disabled?: boolean; displayName?: string | null; email?: string | null }): Promise<User> {
    const row = await this.userRow(name);
    const set: Partial<UserRow> = { last_update_time: this.now() };
    if (patch.admin !== undefined) set.admin = patch.admin ? 1 : 0;
    if (patch.disabled !== undefined) set.disabled = patch.disabled ? 1 : 0;
    if (patch.displayName !== undefined) set.display_name = patch.displayName === null ? null : optionalText(patch.displayName, 'display_name', 200);
    if (patch.email !== undefined) set.email = patch.email === null ? null : optionalText(patch.email, 'email', 320);
    const losesAdmin = row.admin === 1 && row.disabled === 0 && (set.admin === 0 || set.disabled === 1);
    if (losesAdmin && (await this.store.countAdmins()) <= 1) throw new KilnError('INVALID_STATE', `'${name}' is the last active admin: make another user admin first.`);
    await this.store.change(async (s, record) => {
      await s.updateUser(row.user_pk, set);
      // A disabled user is signed out everywhere.
      if (set.disabled === 1) await s.deleteSessionsOf(row.user_pk);
      for (const r of userChanges(row, set)) record(r);
    });
    this.forget(row.user_pk, name);
    this.changed(row.user_pk);
    return this.getUser(name);
  }

  async setPassword(name: string, password: string): Promise<void> {
    const row = await this.userRow(name);
    if (row.kind === 'service') throw invalid('A service account has no password: it authenticates with API tokens.');
    const hash = await this.hash(password);
    await this.store.change(async (s, record) => {
      await s.updateUser(row.user_pk, { password_hash: hash, last_update_time: this.now() });
      // A new password ends every session opened with the old one.
      await s.deleteSessionsOf(row.user_pk);
      record({ action: 'auth.password_changed', resourceType: 'user', resourceId: row.name });
    });
    this.forget(row.user_pk, name);
  }

  async deleteUser(name: string): Promise<void> {
    const row = await this.userRow(name);
    if (row.admin === 1 && row.disabled === 0 && (await this.store.countAdmins()) <= 1) throw new KilnError('INVALID_STATE', `'${name}' is the last active admin: make another user admin first.`);
    await this.store.change(async (s, record) => {
      await s.deleteUser(row.user_pk);
      record({ action: 'auth.user_deleted', resourceType: 'user', resourceId: row.name, details: { kind: row.kind, admin: row.admin === 1 } });
    });
    this.forget(row.user_pk, name);
    this.changed(row.user_pk);
  }

  /**
   * Creates the first admin from the environment at start (`KILN_ADMIN_USER`, `KILN_ADMIN_PASSWORD`) when there is no
   * user yet. Several replicas starting at once: one creates it, the others find it exists. Returns what it did.
   */
  async bootstrapAdmin(name: string | undefined, password: string | undefined): Promise<'created' | 'exists' | 'no-users' | 'has-users'> {
    if ((await this.store.countUsers()) > 0) return 'has-users';
    if (!name || password === undefined || password === '') return 'no-users';
    try {
      await this.createUser({ name, password, admin: true });
      return 'created';
    } catch (e) {
      if (e instanceof KilnError && e.code === 'RESOURCE_ALREADY_EXISTS') return 'exists';
      throw e;
    }
  }

  // ------------------------------------------------------------------ tokens

  /** Creates a token for `owner` (a person's own, or a service account's when an admin asks). The secret is in the answer only. */
  async createToken(owner: string, input: NewTokenInput): Promise<{ token: string; info: TokenInfo }> {
    const user = await this.userRow(owner);
    const name = checkTokenName(input.name);
    const scopes = checkScopes(input.scopes ?? ['read', 'write']);
    if (scopes.includes('admin') && user.admin !== 1) throw new KilnError('PERMISSION_DENIED', `Only a server admin's token can have the 'admin' scope.`);
    let expiry: number | null = null;
    if (input.expiresInDays !== undefined) {
      const d = input.expiresInDays;
      if (typeof d !== 'number' || !Number.isFinite(d) || d <= 0 || d > MAX_TOKEN_DAYS) throw invalid(`expires_in_days must be a number of days between 0 and ${MAX_TOKEN_DAYS}.`);
      expiry = this.now() + Math.round(d * 86_400_000);
    }
    const t = newToken();
    const row: TokenRow = {
      token_id: t.id,
      user_pk: user.user_pk,
      name,
      secret_hash: t.secretHash,
      scopes: scopes.join(','),
      creation_time: this.now(),
      expiry_time: expiry,
      last_used_time: null,
      revoked_time: null,
    };
    try {
      await this.store.change(async (s, record) => {
        await s.insertToken(row);
        record({ action: 'auth.token_created', resourceType: 'token', resourceId: t.id, details: { user: user.name, name, scopes, expiry_time: expiry } });
      });
    } catch (e) {
      if (this.store.isUniqueViolation(e)) throw alreadyExists(`'${owner}' already has a token named '${name}': revoke it or choose another name.`);
      throw e;
    }
    return { token: t.token, info: toToken(row, user.name) };
  }

  async listTokens(owner: string): Promise<TokenInfo[]> {
    const user = await this.userRow(owner);
    return (await this.store.tokensOf(user.user_pk)).map((t) => toToken(t, user.name));
  }

  async revokeToken(owner: string, idOrName: string): Promise<TokenInfo> {
    const user = await this.userRow(owner);
    const row = await this.store.change(async (s, record) => {
      const revoked = await s.revokeToken(user.user_pk, idOrName, this.now());
      if (revoked) record({ action: 'auth.token_revoked', resourceType: 'token', resourceId: revoked.token_id, details: { user: user.name, name: revoked.name } });
      return revoked;
    });
    if (!row) throw notFound(`'${owner}' has no live token with the id or name '${idOrName}'.`);
    this.tokens.delete(row.token_id);
    return toToken(row, user.name);
  }


  // ------------------------------------------------------------------ grants

  /**
   * Calls `listener` with the user_pk of a user whose grants, admin flag or account changed through this process
   * (an access cache drops that user's entry). Returns the function that stops it.
   */
  onChange(listener: (userPk: number) => void): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  /** A user's resource-level grants (by user_pk), experiments first. */
  async grantsOf(userPk: number): Promise<Grant[]> {
    return grantSql.ofUser(this.store.db, userPk);
  }

  /** One user's grant on a resource; RESOURCE_DOES_NOT_EXIST for an unknown user or when there is none. */
  async getGrant(kind: GrantKind, resourceId: string, userName: string): Promise<Grant> {
    const user = await this.userRow(userName);
    const g = await grantSql.get(this.store.db, kind, resourceId, user.user_pk);
    if (!g) throw noGrant(kind, resourceId, user.name);
    return g;
  }

  /**
   * Gives a user a level on a resource (the caller checked the resource exists). INVALID_PARAMETER_VALUE for a level
   * that is not one of MLflow's, RESOURCE_DOES_NOT_EXIST for an unknown user, RESOURCE_ALREADY_EXISTS when the user
   * has a grant on it already (update it instead). Audited as `auth.grant_set`.
   */
  async createGrant(kind: GrantKind, resourceId: string, userName: string, permission: unknown): Promise<Grant> {
    const level = checkPermission(permission);
    const user = await this.userRow(userName);
    const now = this.now();
    const row: GrantRow = { resource_kind: kind, resource_id: resourceId, user_pk: user.user_pk, permission: level, creation_time: now, last_update_time: now };
    try {
      await this.store.change(async (s, record) => {
        await grantSql.insert(s.db, row);
        record({ action: 'auth.grant_set', resourceType: grantResourceType(kind), resourceId, details: { user: user.name, permission: level, previous: null } });
      });
    } catch (e) {
      if (this.store.isUniqueViolation(e)) throw alreadyExists(`${grantLabel(kind)} permission (${grantField(kind)}=${resourceId}, username=${user.name}) already exists.`);
      throw e;
    }
    this.changed(user.user_pk);
    return { kind, resourceId, userPk: user.user_pk, permission: level, creationTime: now, lastUpdateTime: now };
  }

  /** Changes the level of an existing grant (RESOURCE_DOES_NOT_EXIST when there is none). Audited as `auth.grant_set`. */
  async updateGrant(kind: GrantKind, resourceId: string, userName: string, permission: unknown): Promise<Grant> {
    const level = checkPermission(permission);
    const user = await this.userRow(userName);
    const now = this.now();
    const before = await this.store.change(async (s, record) => {
      const current = await grantSql.get(s.db, kind, resourceId, user.user_pk);
      if (!current) throw noGrant(kind, resourceId, user.name);
      await grantSql.update(s.db, kind, resourceId, user.user_pk, level, now);
      record({ action: 'auth.grant_set', resourceType: grantResourceType(kind), resourceId, details: { user: user.name, permission: level, previous: current.permission } });
      return current;
    });
    this.changed(user.user_pk);
    return { ...before, permission: level, lastUpdateTime: now };
  }

  /** Removes a grant (RESOURCE_DOES_NOT_EXIST when there is none). Audited as `auth.grant_deleted`. */
  async deleteGrant(kind: GrantKind, resourceId: string, userName: string): Promise<void> {
    const user = await this.userRow(userName);
    await this.store.change(async (s, record) => {
      const current = await grantSql.get(s.db, kind, resourceId, user.user_pk);
      if (!current) throw noGrant(kind, resourceId, user.name);
      await grantSql.delete(s.db, kind, resourceId, user.user_pk);
      record({ action: 'auth.grant_deleted', resourceType: grantResourceType(kind), resourceId, details: { user: user.name, permission: current.permission } });
    });
    this.changed(user.user_pk);
  }

  /**
   * Follows a registered model's rename inside `db` (the transaction of the event consumer that saw it): the grants on
   * `from` move to `to`. Grants `to` had before the rename (`before`: the rename's time) belonged to an earlier model of
   * that name, since deleted, and are dropped first; a grant given on `to` after the rename wins over the moved one.
   * Returns the audit entries to record and the users whose grants changed.
   */
  async followRename(db: GovernanceStore['db'], kind: GrantKind, from: string, to: string, before: number): Promise<{ records: AuditRecord[]; users: number[] }> {
    const { records, users } = await this.dropStale(db, kind, to, before);
    const kept = new Set((await grantSql.onResource(db, kind, to)).map((g) => g.userPk));
    for (const g of await grantSql.onResource(db, kind, from)) {
      if (kept.has(g.userPk)) await grantSql.delete(db, kind, from, g.userPk);
      else await grantSql.move(db, kind, from, to, g.userPk);
      records.push({ action: 'auth.grant_moved', resourceType: grantResourceType(kind), resourceId: to, details: { user_pk: g.userPk, from, to, permission: g.permission, superseded: kept.has(g.userPk) } });
      users.push(g.userPk);
    }
    return { records, users };
  }

  /**
   * Drops the grants on `resourceId` last changed before `before` (a registered model created then: the grants on its
   * name were given on an earlier model of that name, since deleted). Returns the audit entries and the users.
   */
  async dropStale(db: GovernanceStore['db'], kind: GrantKind, resourceId: string, before: number): Promise<{ records: AuditRecord[]; users: number[] }> {
    const stale = await grantSql.onResource(db, kind, resourceId, before);
    const records: AuditRecord[] = [];
    for (const g of stale) {
      await grantSql.delete(db, kind, resourceId, g.userPk);
      records.push({ action: 'auth.grant_deleted', resourceType: grantResourceType(kind), resourceId, details: { user_pk: g.userPk, permission: g.permission, reason: 'the resource it was given on was deleted' } });
    }
    return { records, users: stale.map((g) => g.userPk) };
  }

  /** Tells the listeners a user's access may have changed. */
  changed(userPk: number): void {
    for (const l of this.listeners) {
      try {
        l(userPk);
      } catch (e) {
        this.report(e, 'telling a listener of a change of grants');
      }
    }
  }

  // ------------------------------------------------------------------ authentication

  /** The principal of a `kiln_…` API token; UNAUTHENTICATED when it is unknown, expired, revoked or its owner disabled. */
  async authenticateToken(token: string): Promise<Principal> {
    const parsed = parseToken(token);
    if (!parsed) throw badToken();
    const now = this.now();
    let entry = this.tokens.get(parsed.id);
    if (!entry || now - entry.checkedAt > this.options.recheckMs) {
      const found = await this.store.tokenWithUser(parsed.id);
      if (!found) {
        this.tokens.delete(parsed.id);
        throw badToken();
      }
      entry = { ...found, checkedAt: now };
      this.remember(this.tokens, parsed.id, entry);
    }
    const { token: t, user } = entry;
    if (!secretMatches(parsed.secret, t.secret_hash)) throw badToken();
    if (t.revoked_time !== null || (t.expiry_time !== null && t.expiry_time <= now) || user.disabled === 1) throw badToken();
    this.touch(t.token_id, now);
    const scopes = toToken(t, user.name).scopes;
    return { kind: user.kind === 'service' ? 'service' : 'user', id: String(user.user_pk), name: user.name, admin: user.admin === 1, method: 'token', scopes, tokenId: t.token_id };
  }

  /**
   * The principal of a user name and password. scrypt is slow by design, so a verified pair is remembered for a while
   * (under an HMAC keyed per process) as long as the stored hash stays the same and the user stays enabled.
   * `onSignIn` is awaited when the password was checked rather than remembered (a sign-in, for the audit log).
   */
  async authenticatePassword(name: string, password: string, method: AuthMethod = 'password', onSignIn?: (p: Principal) => Promise<void>): Promise<Principal> {
    if (typeof name !== 'string' || typeof password !== 'string' || name === '' || Buffer.byteLength(password) > 1024) throw badCredentials();
    const now = this.now();
    const user = await this.cachedUser(name.normalize('NFC'), now);
    if (!user || user.password_hash === null) {
      await verifyPassword(password, await (decoyHash ??= hashPassword(randomBytes(16).toString('hex'), this.options.scrypt)));
      throw badCredentials();
    }
    const key = createHmac('sha256', this.cacheKey).update(user.name).update('\0').update(password).digest('base64url');
    const cached = this.passwords.get(key);
    const fresh = cached !== undefined && cached.hash === user.password_hash && now - cached.verifiedAt < this.options.passwordCacheMs;
    if (!fresh) {
      if (!(await verifyPassword(password, user.password_hash))) throw badCredentials();
      this.remember(this.passwords, key, { hash: user.password_hash, verifiedAt: now });
      if (needsRehash(user.password_hash, this.options.scrypt)) {
        void this.hash(password)
          .then((h) => this.store.updateUser(user.user_pk, { password_hash: h }))
          .catch((e) => this.report(e, 're-hashing a password'));
      }
    }
    if (user.disabled === 1) throw new KilnError('UNAUTHENTICATED', `The account '${user.name}' is disabled.`);
    const principal: Principal = { kind: 'user', id: String(user.user_pk), name: user.name, admin: user.admin === 1, method, scopes: 'all' };
    if (!fresh) await onSignIn?.(principal);
    return principal;
  }

  // ------------------------------------------------------------------ sessions

  /**
   * Opens a browser session for a principal that just signed in with a password; records `auth.login` in the same
   * transaction (attributed to the request's context, which the caller sets to the principal). Returns the session id,
   * which only the cookie holds: the store keeps its SHA-256.
   */
  async createSession(p: Principal): Promise<{ id: string; info: SessionInfo }> {
    const method = p.method === 'oidc' ? 'oidc' : 'session';
    const user = await this.userRow(p.name);
    if (user.disabled === 1) throw new KilnError('UNAUTHENTICATED', `The account '${user.name}' is disabled.`);
    const now = this.now();
    const id = randomBytes(32).toString('base64url');
    const row: SessionRow = {
      session_hash: sessionHash(id),
      user_pk: user.user_pk,
      csrf_token: randomBytes(32).toString('base64url'),
      creation_time: now,
      expiry_time: now + this.options.sessionTtlMs,
      last_seen_time: now,
      method,
      groups: method === 'oidc' ? JSON.stringify(p.groups ?? []) : null,
    };
    await this.store.change(async (s, record) => {
      await s.insertSession(row);
      await s.setLastLogin(user.user_pk, now);
      record({ action: 'auth.login', resourceType: 'user', resourceId: user.name, details: { method: method === 'oidc' ? 'oidc' : 'password', session: true, ...(method === 'oidc' ? { groups: p.groups ?? [] } : {}) } });
    });
    this.remember(this.sessions, row.session_hash, { session: row, user: { ...user, last_login_time: now }, checkedAt: now });
    this.pruneSessions(now);
    return { id, info: this.sessionInfo(row, user) };
  }

  /**
   * The principal of a session cookie and the session itself; UNAUTHENTICATED when it is unknown, ended (signed out,
   * expired, idle too long) or its user disabled or deleted. Refreshes its last-seen time at most every lastUsedWriteMs.
   */
  async authenticateSession(id: string): Promise<{ principal: Principal; info: SessionInfo }> {
    if (typeof id !== 'string' || !SESSION_ID.test(id)) throw badSession();
    const hash = sessionHash(id);
    const now = this.now();
    let entry = this.sessions.get(hash);
    if (!entry || now - entry.checkedAt > this.options.recheckMs) {
      const found = await this.store.sessionWithUser(hash);
      if (!found) {
        this.sessions.delete(hash);
        throw badSession();
      }
      // What this process saw last counts too: its write of last_seen_time may not have landed yet.
      const seen = Math.max(found.session.last_seen_time, entry?.session.last_seen_time ?? 0);
      entry = { session: { ...found.session, last_seen_time: seen }, user: found.user, checkedAt: now };
      this.remember(this.sessions, hash, entry);
    }
    const { session, user } = entry;
    if (user.disabled === 1 || now >= session.expiry_time || now - session.last_seen_time >= this.options.sessionIdleMs) {
      this.sessions.delete(hash);
      void this.store.deleteSession(hash).catch((e) => this.report(e, 'removing an ended session'));
      throw badSession();
    }
    if (now - session.last_seen_time >= this.options.lastUsedWriteMs) {
      entry.session = { ...session, last_seen_time: now };
      void this.store.touchSession(hash, now).catch((e) => this.report(e, 'recording when a session was last seen'));
    }
    const info = this.sessionInfo(entry.session, user);
    const principal: Principal = { kind: 'user', id: String(user.user_pk), name: user.name, admin: user.admin === 1, method: info.method, scopes: 'all', ...(info.method === 'oidc' ? { groups: info.groups } : {}) };
    return { principal, info };
  }

  /** Whether `presented` is the session's CSRF token (constant-time). */
  csrfMatches(info: SessionInfo, presented: string | undefined): boolean {
    return typeof presented === 'string' && presented !== '' && sameSecret(presented, info.csrfToken);
  }

  /** Ends a session (sign-out) and records `auth.logout`; false when it had already ended. */
  async endSession(id: string): Promise<boolean> {
    if (typeof id !== 'string' || !SESSION_ID.test(id)) return false;
    const hash = sessionHash(id);
    this.sessions.delete(hash);
    const row = await this.store.change(async (s, record) => {
      const deleted = await s.deleteSession(hash);
      if (deleted) record({ action: 'auth.logout', resourceType: 'user', resourceId: (await this.userByPk(s, deleted.user_pk)) ?? String(deleted.user_pk) });
      return deleted;
    });
    return row !== undefined;
  }

  private async userByPk(s: GovernanceStore, pk: number): Promise<string | undefined> {
    const r = await s.db.selectFrom('gov_users').select('name').where('user_pk', '=', pk).executeTakeFirst();
    return r?.name;
  }

  private sessionInfo(row: SessionRow, user: UserRow): SessionInfo {
    return {
      user: user.name,
      admin: user.admin === 1,
      method: row.method === 'oidc' ? 'oidc' : 'session',
      groups: parseGroups(row.groups),
      csrfToken: row.csrf_token,
      creationTime: row.creation_time,
      expiryTime: row.expiry_time,
      idleExpiryTime: Math.min(row.expiry_time, row.last_seen_time + this.options.sessionIdleMs),
    };
  }

  /** Removes ended sessions from the store, at most every ten minutes, off the request path. */
  private pruneSessions(now: number): void {
    if (now - this.lastPrune < 10 * 60_000) return;
    this.lastPrune = now;
    void this.store.deleteEndedSessions(now, now - this.options.sessionIdleMs).catch((e) => this.report(e, 'removing ended sessions'));
  }

  // ------------------------------------------------------------------ single sign-on

  /** Keeps a sign-in under way (single use, ten minutes at most); returns the id its cookie holds. */
  async startSsoLogin(login: SsoLogin): Promise<string> {
    const id = randomBytes(32).toString('base64url');
    const now = this.now();
    const row: SsoLoginRow = {
      login_hash: sessionHash(id),
      state: login.state,
      nonce: login.nonce,
      code_verifier: login.codeVerifier,
      redirect_url: login.redirectUrl,
      return_to: login.returnTo,
      expiry_time: now + SSO_LOGIN_TTL_MS,
    };
    await this.store.insertSsoLogin(row, now);
    return id;
  }

  /** The sign-in of a callback's cookie, taken out of the store (a second callback with it finds nothing); undefined when unknown or expired. */
  async takeSsoLogin(id: string): Promise<SsoLogin | undefined> {
    if (typeof id !== 'string' || !SESSION_ID.test(id)) return undefined;
    const row = await this.store.takeSsoLogin(sessionHash(id));
    if (!row || row.expiry_time <= this.now()) return undefined;
    return { state: row.state, nonce: row.nonce, codeVerifier: row.code_verifier, redirectUrl: row.redirect_url, returnTo: row.return_to };
  }

  /**
   * The principal of an identity the provider vouched for (an SSO sign-in, method `oidc`, or a bearer JWT, `jwt`):
   * its Kiln user, created at first sight (kind user, no password, marked with the provider's issuer and subject).
   * Refused (UNAUTHENTICATED) when a local user, or another account of the provider, already has the name, or the
   * user is disabled. The role map's admin flag is applied (set or cleared) when it names admin groups.
   */
  async ssoPrincipal(id: SsoIdentity, method: 'oidc' | 'jwt'): Promise<Principal> {
    const name = id.name.normalize('NFC');
    if (!USER_NAME.test(name)) throw new KilnError('UNAUTHENTICATED', `The identity provider's user name '${[...id.name].slice(0, 128).join('')}' is not a valid Kiln user name.`);
    const now = this.now();
    const key = JSON.stringify([id.issuer, id.subject, name, id.admin, id.displayName, id.email]);
    const hit = this.ssoUsers.get(key);
    let user: UserRow;
    if (method === 'jwt' && hit && now - hit.checkedAt <= this.options.recheckMs) user = hit.user;
    else {
      user = await this.ssoUser(id, name);
      this.remember(this.ssoUsers, key, { user, checkedAt: now });
    }
    if (user.disabled === 1) throw new KilnError('UNAUTHENTICATED', `The account '${user.name}' is disabled.`);
    return { kind: 'user', id: String(user.user_pk), name: user.name, admin: user.admin === 1, method, scopes: 'all', groups: [...id.groups] };
  }

  private async ssoUser(id: SsoIdentity, name: string, retried = false): Promise<UserRow> {
    const row = await this.store.userByName(name);
    const displayName = id.displayName === undefined ? null : clip(id.displayName, 200);
    const email = id.email === undefined ? null : clip(id.email, 320);
    if (row) {
      if (row.sso_issuer === null) throw new KilnError('UNAUTHENTICATED', `A local user named '${name}' exists: single sign-on does not take it over (an admin may delete it, or change the provider's user name).`);
      if (row.sso_issuer !== id.issuer || row.sso_subject !== id.subject) throw new KilnError('UNAUTHENTICATED', `The user '${name}' was created by another account of the identity provider.`);
      if (row.kind !== 'user') throw new KilnError('UNAUTHENTICATED', `'${name}' is a service account.`);
      const set: Partial<UserRow> = {};
      if (id.admin !== undefined && (row.admin === 1) !== id.admin) set.admin = id.admin ? 1 : 0;
      if (displayName !== null && displayName !== row.display_name) set.display_name = displayName;
      if (email !== null && email !== row.email) set.email = email;
      if (Object.keys(set).length === 0) return row;
      set.last_update_time = this.now();
      await this.store.change(async (s, record) => {
        await s.updateUser(row.user_pk, set);
        for (const r of userChanges(row, set)) record({ ...r, details: { ...r.details, by: 'sso' } });
      });
      this.forget(row.user_pk, name);
      this.changed(row.user_pk);
      return { ...row, ...set };
    }
    const now = this.now();
    const fresh = {
      name,
      kind: 'user',
      display_name: displayName,
      email,
      password_hash: null,
      admin: id.admin ? 1 : 0,
      disabled: 0,
      creation_time: now,
      last_update_time: now,
      last_login_time: null,
      sso_issuer: id.issuer,
      sso_subject: id.subject,
    };
    try {
      return await this.store.change(async (s, record) => {
        const u = await s.insertUser(fresh);
        record({ action: 'auth.user_created', resourceType: 'user', resourceId: name, details: { kind: 'user', admin: fresh.admin === 1, has_password: false, sso: true } });
        return u;
      });
    } catch (e) {
      // Two first sign-ins at once: the other one created it.
      if (!retried && this.store.isUniqueViolation(e)) return this.ssoUser(id, name, true);
      throw e;
    }
  }

  // ------------------------------------------------------------------ internals

  private async userRow(name: string): Promise<UserRow> {
    if (typeof name !== 'string') throw invalid('A user name is required.');
    const row = await this.store.userByName(name.normalize('NFC'));
    if (!row) throw notFound(`User '${name}' does not exist.`);
    return row;
  }

  private async cachedUser(name: string, now: number): Promise<UserRow | undefined> {
    const hit = this.usersByName.get(name);
    if (hit && now - hit.checkedAt <= this.options.recheckMs) return hit.user;
    const user = await this.store.userByName(name);
    this.remember(this.usersByName, name, { user, checkedAt: now });
    return user;
  }

  private async hash(password: string): Promise<string> {
    const problem = passwordProblem(password);
    if (problem) throw invalid(problem);
    return hashPassword(password, this.options.scrypt);
  }

  /** Drops what this process remembers of a user (the other replicas re-read within recheckMs). */
  private forget(userPk: number, name: string): void {
    this.usersByName.delete(name);
    for (const [id, e] of this.tokens) if (e.user.user_pk === userPk) this.tokens.delete(id);
    for (const [hash, e] of this.sessions) if (e.user.user_pk === userPk) this.sessions.delete(hash);
    for (const [key, e] of this.ssoUsers) if (e.user.user_pk === userPk) this.ssoUsers.delete(key);
  }

  private remember<V>(map: Map<string, V>, key: string, value: V): void {
    if (map.size >= 10_000) map.delete(map.keys().next().value!);
    map.set(key, value);
  }

  private touch(id: string, now: number): void {
    const last = this.touched.get(id);
    if (last !== undefined && now - last < this.options.lastUsedWriteMs) return;
    this.remember(this.touched, id, now);
    void this.store.touchToken(id, now).catch((e) => this.report(e, 'recording when a token was last used'));
  }
}

/** The audit entries of a change to a user: admin granted or revoked, enabled or disabled, other fields (named, not their values). */
function userChanges(row: UserRow, set: Partial<UserRow>): AuditRecord[] {
  const on = { resourceType: 'user', resourceId: row.name } as const;
  const out: AuditRecord[] = [];
  if (set.admin !== undefined && set.admin !== row.admin) out.push({ action: set.admin === 1 ? 'auth.admin_granted' : 'auth.admin_revoked', ...on });
  if (set.disabled !== undefined && set.disabled !== row.disabled) out.push({ action: set.disabled === 1 ? 'auth.user_disabled' : 'auth.user_enabled', ...on });
  const changed = (['display_name', 'email'] as const).filter((k) => set[k] !== undefined && set[k] !== row[k]);
  if (changed.length > 0 || out.length === 0) out.push({ action: 'auth.user_updated', ...on, details: { changed } });
  return out;
}

/** How long a sign-in may stay at the identity provider. */
const SSO_LOGIN_TTL_MS = 10 * 60_000;

function parseGroups(raw: string | null): string[] {
  if (raw === null) return [];
  try {
    const v: unknown = JSON.parse(raw);
    return Array.isArray(v) ? v.filter((g): g is string => typeof g === 'string') : [];
  } catch {
    return [];
  }
}

/** A provider's free text cut to a column's length, without control characters. */
function clip(v: string, max: number): string | null {
  // eslint-disable-next-line no-control-regex
  const t = [...v.replace(/[\u0000-\u001f\u007f]/g, '')].slice(0, max).join('');
  return t === '' ? null : t;
}

const grantLabel = (kind: GrantKind) => (kind === 'experiment' ? 'Experiment' : 'Registered model');
const grantField = (kind: GrantKind) => (kind === 'experiment' ? 'experiment_id' : 'name');
const noGrant = (kind: GrantKind, resourceId: string, user: string) => notFound(`${grantLabel(kind)} permission with ${grantField(kind)}=${resourceId} and username=${user} not found`);

function checkUserName(name: unknown): string {
  if (typeof name !== 'string') throw invalid('name must be a string.');
  const n = name.normalize('NFC');
  if (!USER_NAME.test(n)) throw invalid(`Invalid user name '${name}': 1–128 letters, digits and . _ @ + -, starting with a letter or digit.`);
  return n;
}

function checkTokenName(name: unknown): string {
  if (typeof name !== 'string' || name.trim() === '') throw invalid('A token needs a name.');
  // eslint-disable-next-line no-control-regex
  if ([...name].length > 100 || /[\u0000-\u001f\u007f]/.test(name)) throw invalid('A token name is at most 100 printable characters.');
  return name.normalize('NFC');
}

function checkScopes(scopes: readonly string[]): Scope[] {
  if (!Array.isArray(scopes) || scopes.length === 0) throw invalid(`scopes must list one or more of ${SCOPES.join(', ')}.`);
  const out = new Set<Scope>();
  for (const s of scopes) {
    if (!(SCOPES as readonly string[]).includes(s)) throw invalid(`Unknown scope '${String(s)}': one of ${SCOPES.join(', ')}.`);
    out.add(s as Scope);
  }
  return SCOPES.filter((s) => out.has(s));
}

function optionalText(v: unknown, field: string, max: number): string | null {
  if (v === undefined || v === null || v === '') return null;
  if (typeof v !== 'string') throw invalid(`${field} must be a string.`);
  // eslint-disable-next-line no-control-regex
  if ([...v].length > max || /[\u0000-\u001f\u007f]/.test(v)) throw invalid(`${field} is at most ${max} printable characters.`);
  return v;
}
