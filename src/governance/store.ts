import type { Kysely, Selectable } from 'kysely';
import type { StoreAdapter } from '../platform/db/adapter.js';
import { inTransaction } from '../platform/db/transaction.js';
import type { AuditLog, RecordAudit } from '../platform/audit/log.js';
import type { GovernanceTables, SessionsTable, SsoLoginsTable, TokensTable, UsersTable } from './tables.js';

export type UserRow = Selectable<UsersTable>;
export type TokenRow = Selectable<TokensTable>;
export type SessionRow = Selectable<SessionsTable>;
export type SsoLoginRow = Selectable<SsoLoginsTable>;

/** Persistence of users and tokens. */
export class GovernanceStore {
  constructor(
    readonly db: Kysely<GovernanceTables>,
    private readonly adapter: StoreAdapter,
    readonly audit: AuditLog,
  ) {}

  /**
   * Runs `fn` on this store inside one transaction; the audit entries it records are appended at its end, so a change
   * commits with its entry or not at all.
   */
  async change<T>(fn: (store: GovernanceStore, record: RecordAudit) => Promise<T>): Promise<T> {
    return this.audit.transaction(this.db, (trx, record) => fn(new GovernanceStore(trx, this.adapter, this.audit), record));
  }

  isUniqueViolation(e: unknown): boolean {
    return this.adapter.isUniqueViolation(e);
  }

  async insertUser(row: Omit<UserRow, 'user_pk'>): Promise<UserRow> {
    const r = await this.db.insertInto('gov_users').values(row).returning('user_pk').executeTakeFirstOrThrow();
    return { ...row, user_pk: Number(r.user_pk) };
  }

  async userByName(name: string): Promise<UserRow | undefined> {
    return this.db.selectFrom('gov_users').selectAll().where('name', '=', name).executeTakeFirst().then(normUser);
  }

  async users(): Promise<UserRow[]> {
    return (await this.db.selectFrom('gov_users').selectAll().orderBy('name').execute()).map((u) => normUser(u)!);
  }

  async countUsers(): Promise<number> {
    const r = await this.db.selectFrom('gov_users').select((eb) => eb.fn.countAll<number | string>().as('n')).executeTakeFirstOrThrow();
    return Number(r.n);
  }

  async countAdmins(): Promise<number> {
    const r = await this.db
      .selectFrom('gov_users')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .where('admin', '=', 1)
      .where('disabled', '=', 0)
      .executeTakeFirstOrThrow();
    return Number(r.n);
  }

  async updateUser(pk: number, patch: Partial<Omit<UserRow, 'user_pk' | 'name' | 'creation_time'>>): Promise<void> {
    await this.db.updateTable('gov_users').set(patch).where('user_pk', '=', pk).execute();
  }

  async deleteUser(pk: number): Promise<void> {
    await inTransaction(this.db, async (trx) => {
      await trx.deleteFrom('gov_tokens').where('user_pk', '=', pk).execute();
      await trx.deleteFrom('gov_members').where('member_kind', '=', 'user').where('member', '=', String(pk)).execute();
      await trx.deleteFrom('gov_group_members').where('user_pk', '=', pk).execute();
      await trx.deleteFrom('gov_grants').where('user_pk', '=', pk).execute();
      await trx.deleteFrom('gov_sessions').where('user_pk', '=', pk).execute();
      await trx.deleteFrom('gov_users').where('user_pk', '=', pk).execute();
    });
  }

  async insertToken(row: TokenRow): Promise<void> {
    await this.db.insertInto('gov_tokens').values(row).execute();
  }

  /** A token with its owner, in one read (the authentication path). */
  async tokenWithUser(id: string): Promise<{ token: TokenRow; user: UserRow } | undefined> {
    const r = await this.db
      .selectFrom('gov_tokens as t')
      .innerJoin('gov_users as u', 'u.user_pk', 't.user_pk')
      .selectAll('t')
      .select(['u.name as u_name', 'u.kind as u_kind', 'u.admin as u_admin', 'u.disabled as u_disabled', 'u.display_name as u_display_name', 'u.email as u_email'])
      .select(['u.password_hash as u_password_hash', 'u.creation_time as u_creation_time', 'u.last_update_time as u_last_update_time', 'u.last_login_time as u_last_login_time'])
      .select(['u.sso_issuer as u_sso_issuer', 'u.sso_subject as u_sso_subject'])
      .where('t.token_id', '=', id)
      .executeTakeFirst();
    if (!r) return undefined;
    const token: TokenRow = {
      token_id: r.token_id,
      user_pk: Number(r.user_pk),
      name: r.name,
      secret_hash: r.secret_hash,
      scopes: r.scopes,
      creation_time: Number(r.creation_time),
      expiry_time: num(r.expiry_time),
      last_used_time: num(r.last_used_time),
      revoked_time: num(r.revoked_time),
    };
    const user = normUser({
      user_pk: r.user_pk,
      name: r.u_name,
      kind: r.u_kind,
      admin: r.u_admin,
      disabled: r.u_disabled,
      display_name: r.u_display_name,
      email: r.u_email,
      password_hash: r.u_password_hash,
      creation_time: r.u_creation_time,
      last_update_time: r.u_last_update_time,
      last_login_time: r.u_last_login_time,
      sso_issuer: r.u_sso_issuer,
      sso_subject: r.u_sso_subject,
    })!;
    return { token, user };
  }

  async tokensOf(userPk: number): Promise<TokenRow[]> {
    return (await this.db.selectFrom('gov_tokens').selectAll().where('user_pk', '=', userPk).orderBy('creation_time', 'desc').orderBy('token_id').execute()).map(normToken);
  }

  /** Revokes a live token of the user by id or name; false when there is none. */
  async revokeToken(userPk: number, idOrName: string, now: number): Promise<TokenRow | undefined> {
    return inTransaction(this.db, async (trx) => {
      const row = await trx
        .selectFrom('gov_tokens')
        .selectAll()
        .where('user_pk', '=', userPk)
        .where('revoked_time', 'is', null)
        .where((eb) => eb.or([eb('token_id', '=', idOrName), eb('name', '=', idOrName)]))
        .executeTakeFirst();
      if (!row) return undefined;
      await trx.updateTable('gov_tokens').set({ revoked_time: now }).where('token_id', '=', row.token_id).execute();
      return normToken({ ...row, revoked_time: now });
    });
  }

  async touchToken(id: string, now: number): Promise<void> {
    await this.db.updateTable('gov_tokens').set({ last_used_time: now }).where('token_id', '=', id).execute();
  }

  async insertSession(row: SessionRow): Promise<void> {
    await this.db.insertInto('gov_sessions').values(row).execute();
  }

  /** A session with its user, in one read (the authentication path). */
  async sessionWithUser(hash: string): Promise<{ session: SessionRow; user: UserRow } | undefined> {
    const s = await this.db.selectFrom('gov_sessions').selectAll().where('session_hash', '=', hash).executeTakeFirst();
    if (!s) return undefined;
    const user = await this.db.selectFrom('gov_users').selectAll().where('user_pk', '=', s.user_pk).executeTakeFirst().then(normUser);
    if (!user) return undefined;
    return { session: normSession(s), user };
  }

  /** Deletes one session; the row deleted, if there was one. */
  async deleteSession(hash: string): Promise<SessionRow | undefined> {
    const row = await this.db.selectFrom('gov_sessions').selectAll().where('session_hash', '=', hash).executeTakeFirst();
    if (!row) return undefined;
    await this.db.deleteFrom('gov_sessions').where('session_hash', '=', hash).execute();
    return normSession(row);
  }

  /** Ends every session of a user; how many there were. */
  async deleteSessionsOf(userPk: number): Promise<number> {
    const r = await this.db.deleteFrom('gov_sessions').where('user_pk', '=', userPk).executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  /** Removes sessions that ended (expired, or idle since before `idleBefore`). */
  async deleteEndedSessions(now: number, idleBefore: number): Promise<number> {
    const r = await this.db
      .deleteFrom('gov_sessions')
      .where((eb) => eb.or([eb('expiry_time', '<=', now), eb('last_seen_time', '<', idleBefore)]))
      .executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  async touchSession(hash: string, now: number): Promise<void> {
    await this.db.updateTable('gov_sessions').set({ last_seen_time: now }).where('session_hash', '=', hash).execute();
  }

  async insertSsoLogin(row: SsoLoginRow, now: number): Promise<void> {
    await this.db.deleteFrom('gov_sso_logins').where('expiry_time', '<=', now).execute();
    await this.db.insertInto('gov_sso_logins').values(row).execute();
  }

  /** Takes a sign-in under way out of the store (each is used once); undefined when there is none. */
  async takeSsoLogin(hash: string): Promise<SsoLoginRow | undefined> {
    const row = await this.db.selectFrom('gov_sso_logins').selectAll().where('login_hash', '=', hash).executeTakeFirst();
    if (!row) return undefined;
    const r = await this.db.deleteFrom('gov_sso_logins').where('login_hash', '=', hash).executeTakeFirst();
    // Another request took it first.
    if (Number(r.numDeletedRows) === 0) return undefined;
    return { ...row, expiry_time: Number(row.expiry_time) };
  }

  async setLastLogin(pk: number, now: number): Promise<void> {
    await this.db.updateTable('gov_users').set({ last_login_time: now }).where('user_pk', '=', pk).execute();
  }
}

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

// PostgreSQL returns bigint columns as strings.
function normUser(u: UserRow | undefined): UserRow | undefined {
  if (!u) return undefined;
  return {
    ...u,
    user_pk: Number(u.user_pk),
    admin: Number(u.admin),
    disabled: Number(u.disabled),
    creation_time: Number(u.creation_time),
    last_update_time: Number(u.last_update_time),
    last_login_time: num(u.last_login_time),
  };
}

function normSession(s: SessionRow): SessionRow {
  return { ...s, user_pk: Number(s.user_pk), creation_time: Number(s.creation_time), expiry_time: Number(s.expiry_time), last_seen_time: Number(s.last_seen_time) };
}

function normToken(t: TokenRow): TokenRow {
  return {
    ...t,
    user_pk: Number(t.user_pk),
    creation_time: Number(t.creation_time),
    expiry_time: num(t.expiry_time),
    last_used_time: num(t.last_used_time),
    revoked_time: num(t.revoked_time),
  };
}
