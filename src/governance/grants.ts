import type { Kysely, Selectable } from 'kysely';
import { invalid } from '../platform/errors.js';
import type { GrantLevel } from '../platform/auth/access.js';
import type { GovernanceTables, GrantsTable } from './tables.js';

/**
 * Resource-level grants: one user's level on one experiment (by id) or registered model (by name), MLflow's
 * experiment and registered-model permissions. They extend or, with NO_PERMISSIONS, cut what the user's projects
 * allow (see platform/auth/access.ts).
 */

/** MLflow's permission levels, as its auth API names them. */
export const GRANT_PERMISSIONS = ['READ', 'EDIT', 'MANAGE', 'NO_PERMISSIONS'] as const;
export type GrantPermission = (typeof GRANT_PERMISSIONS)[number];

/** What a grant is on: `experiment` (resource id: the experiment's id) or `registered_model` (its name). */
export type GrantKind = 'experiment' | 'registered_model';

export type GrantRow = Selectable<GrantsTable>;

export interface Grant {
  readonly kind: GrantKind;
  /** The experiment's id or the registered model's name. */
  readonly resourceId: string;
  readonly userPk: number;
  readonly permission: GrantPermission;
  readonly creationTime: number;
  readonly lastUpdateTime: number;
}

/** The role a level gives on the resource (NO_PERMISSIONS: `none`, a denial that wins over the project's role). */
export const GRANT_LEVELS: Readonly<Record<GrantPermission, GrantLevel>> = Object.freeze({ READ: 'viewer', EDIT: 'editor', MANAGE: 'maintainer', NO_PERMISSIONS: 'none' });

/** The audit log's resource type of a grant's resource. */
export const grantResourceType = (kind: GrantKind): string => (kind === 'experiment' ? 'experiment' : 'registered-model');

/** A permission as MLflow's clients send it; INVALID_PARAMETER_VALUE otherwise, worded as MLflow words it. */
export function checkPermission(p: unknown): GrantPermission {
  if (typeof p === 'string' && (GRANT_PERMISSIONS as readonly string[]).includes(p)) return p as GrantPermission;
  throw invalid(`Invalid permission '${String(p)}'. Valid permissions are: (${GRANT_PERMISSIONS.map((x) => `'${x}'`).join(', ')})`);
}

export const toGrant = (r: GrantRow): Grant => ({
  kind: r.resource_kind === 'registered_model' ? 'registered_model' : 'experiment',
  resourceId: r.resource_id,
  userPk: Number(r.user_pk),
  // Written through checkPermission only; anything else reads as the safest level.
  permission: (GRANT_PERMISSIONS as readonly string[]).includes(r.permission) ? (r.permission as GrantPermission) : 'NO_PERMISSIONS',
  creationTime: Number(r.creation_time),
  lastUpdateTime: Number(r.last_update_time),
});

type Db = Kysely<GovernanceTables>;

/** The SQL of grants, on the governance store's database or one of its transactions. */
export const grantSql = {
  async insert(db: Db, row: GrantRow): Promise<void> {
    await db.insertInto('gov_grants').values(row).execute();
  },

  async get(db: Db, kind: GrantKind, resourceId: string, userPk: number): Promise<Grant | undefined> {
    const r = await db.selectFrom('gov_grants').selectAll().where('resource_kind', '=', kind).where('resource_id', '=', resourceId).where('user_pk', '=', userPk).executeTakeFirst();
    return r ? toGrant(r) : undefined;
  },

  async update(db: Db, kind: GrantKind, resourceId: string, userPk: number, permission: GrantPermission, now: number): Promise<boolean> {
    const r = await db
      .updateTable('gov_grants')
      .set({ permission, last_update_time: now })
      .where('resource_kind', '=', kind)
      .where('resource_id', '=', resourceId)
      .where('user_pk', '=', userPk)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  },

  async delete(db: Db, kind: GrantKind, resourceId: string, userPk: number): Promise<boolean> {
    const r = await db.deleteFrom('gov_grants').where('resource_kind', '=', kind).where('resource_id', '=', resourceId).where('user_pk', '=', userPk).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  },

  /** A user's grants, experiments first, each kind in resource order. */
  async ofUser(db: Db, userPk: number): Promise<Grant[]> {
    const rows = await db.selectFrom('gov_grants').selectAll().where('user_pk', '=', userPk).orderBy('resource_kind').orderBy('resource_id').execute();
    return rows.map(toGrant);
  },

  /** The grants on one resource last changed before `before` (all of them without it). */
  async onResource(db: Db, kind: GrantKind, resourceId: string, before?: number): Promise<Grant[]> {
    let q = db.selectFrom('gov_grants').selectAll().where('resource_kind', '=', kind).where('resource_id', '=', resourceId);
    if (before !== undefined) q = q.where('last_update_time', '<', before);
    return (await q.orderBy('user_pk').execute()).map(toGrant);
  },

  /** Moves one user's grant to another resource id of the same kind. */
  async move(db: Db, kind: GrantKind, from: string, to: string, userPk: number): Promise<void> {
    await db.updateTable('gov_grants').set({ resource_id: to }).where('resource_kind', '=', kind).where('resource_id', '=', from).where('user_pk', '=', userPk).execute();
  },
};
