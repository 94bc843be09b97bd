import { sql, type Kysely, type RawBuilder, type Selectable, type Transaction } from 'kysely';
import type { RegistryTables, ModelVersionsTable, RegisteredModelsTable } from './tables.js';
import type { StoreAdapter } from '../platform/db/adapter.js';
import type { Tag } from '../platform/tags.js';
import type { ModelEvent, ModelEventKind, ModelPackage, ModelVersion, ModelVersionStatus, RegisteredModel, Stage } from './types.js';

export type ModelRow = Selectable<RegisteredModelsTable>;
export type VersionRow = Selectable<ModelVersionsTable> & { name: string };
type Db = Kysely<RegistryTables> | Transaction<RegistryTables>;

export interface NewEvent {
  readonly modelPk: number;
  readonly version?: number | null;
  readonly kind: ModelEventKind;
  readonly alias?: string | null;
  readonly actor: string;
  readonly time: number;
  readonly reason?: string | null;
  readonly details?: Record<string, unknown> | null;
}

/** The registry tables: registered models, versions, tags, aliases and the history. */
export class RegistryStore {
  constructor(
    readonly db: Kysely<RegistryTables>,
    private readonly adapter: StoreAdapter,
  ) {}

  isUniqueViolation(e: unknown): boolean {
    return this.adapter.isUniqueViolation(e);
  }

  transaction<T>(fn: (trx: Transaction<RegistryTables>) => Promise<T>): Promise<T> {
    return this.db.transaction().execute(fn);
  }

  // ------------------------------------------------------------------ registered models
  async modelRow(name: string, db: Db = this.db): Promise<ModelRow | undefined> {
    return db.selectFrom('registered_models').selectAll().where('name', '=', name).executeTakeFirst();
  }

  async projectHoldsModels(projectId: number): Promise<boolean> {
    return !!(await this.db.selectFrom('registered_models').select('model_pk').where('project_id', '=', projectId).limit(1).executeTakeFirst());
  }

  async modelRowByPk(modelPk: number, db: Db = this.db): Promise<ModelRow | undefined> {
    return db.selectFrom('registered_models').selectAll().where('model_pk', '=', modelPk).executeTakeFirst();
  }

  /**
   * Locks a model's row until the transaction ends (an UPDATE takes the row lock on PostgreSQL; SQLite has one
   * writer), so changes of one model's versions, aliases, policies and promotions checked and written in that
   * transaction cannot interleave with another's. Returns false when the model is gone. Without `now` the model's
   * update time is left as it is (a change of a version's state, not of the model).
   */
  async lockModel(db: Transaction<RegistryTables>, modelPk: number, now?: number): Promise<boolean> {
    const r = await db
      .updateTable('registered_models')
      .set((eb) => ({ last_update_time: now ?? eb.ref('last_update_time') }))
      .where('model_pk', '=', modelPk)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async insertModel(db: Db, row: Omit<ModelRow, 'model_pk' | 'next_version'>, tags: readonly Tag[]): Promise<number> {
    const { model_pk } = await db.insertInto('registered_models').values(row).returning('model_pk').executeTakeFirstOrThrow();
    const pk = Number(model_pk);
    if (tags.length) await db.insertInto('registered_model_tags').values(tags.map((t) => ({ model_pk: pk, key: t.key, value: t.value }))).execute();
    return pk;
  }

  async updateModel(db: Db, modelPk: number, set: Partial<Pick<ModelRow, 'name' | 'description' | 'last_update_time'>>): Promise<void> {
    await db.updateTable('registered_models').set(set).where('model_pk', '=', modelPk).execute();
  }

  async deleteModel(modelPk: number, now: number): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      // The model's row first, as every change of the model takes it: taking a version's row before it (by deleting
      // the version) would be the opposite order of a promotion, which holds the model and then needs the version
      // (the new alias's foreign key), and on PostgreSQL the two would deadlock.
      await this.lockModel(trx, modelPk, now);
      // Children first: PostgreSQL checks the composite foreign keys of tags and aliases row by row.
      await trx.deleteFrom('model_aliases').where('model_pk', '=', modelPk).execute();
      await trx.deleteFrom('model_version_tags').where('model_pk', '=', modelPk).execute();
      await trx.deleteFrom('model_versions').where('model_pk', '=', modelPk).execute();
      await trx.deleteFrom('registered_models').where('model_pk', '=', modelPk).execute();
    });
  }

  /** Takes the next version number of a model (atomic: the row is locked until the transaction ends). */
  async takeVersionNumber(db: Db, modelPk: number): Promise<number> {
    const row = await db
      .updateTable('registered_models')
      .set((eb) => ({ next_version: eb('next_version', '+', 1) }))
      .where('model_pk', '=', modelPk)
      .returning('next_version')
      .executeTakeFirstOrThrow();
    return Number(row.next_version) - 1;
  }

  async upsertTags(db: Db, table: 'registered_model_tags', key: { model_pk: number }, tags: readonly Tag[]): Promise<void>;
  async upsertTags(db: Db, table: 'model_version_tags', key: { model_pk: number; version: number }, tags: readonly Tag[]): Promise<void>;
  async upsertTags(db: Db, table: 'registered_model_tags' | 'model_version_tags', key: { model_pk: number; version?: number }, tags: readonly Tag[]): Promise<void> {
    if (tags.length === 0) return;
    const conflict = table === 'registered_model_tags' ? (['model_pk', 'key'] as const) : (['model_pk', 'version', 'key'] as const);
    await db
      .insertInto(table)
      .values(tags.map((t) => ({ ...key, key: t.key, value: t.value })) as never)
      .onConflict((oc) => oc.columns(conflict as never).doUpdateSet((eb) => ({ value: eb.ref('excluded.value') })))
      .execute();
  }

  async deleteModelTag(modelPk: number, key: string, db: Kysely<RegistryTables> = this.db): Promise<boolean> {
    const r = await db.deleteFrom('registered_model_tags').where('model_pk', '=', modelPk).where('key', '=', key).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  async deleteVersionTag(modelPk: number, version: number, key: string, db: Kysely<RegistryTables> = this.db): Promise<boolean> {
    const r = await db.deleteFrom('model_version_tags').where('model_pk', '=', modelPk).where('version', '=', version).where('key', '=', key).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  /** One page of registered models (filter and order compiled by registry/search). */
  async searchModels(where: RawBuilder<boolean> | undefined, order: RawBuilder<unknown>[], offset: number, limit: number): Promise<ModelRow[]> {
    const cond = where ? sql`WHERE ${where}` : sql``;
    return (await sql<ModelRow>`SELECT registered_models.* FROM registered_models ${cond} ORDER BY ${sql.join(order)} LIMIT ${limit} OFFSET ${offset}`.execute(this.db)).rows;
  }

  async loadModels(rows: readonly ModelRow[]): Promise<RegisteredModel[]> {
    if (rows.length === 0) return [];
    const pks = rows.map((r) => Number(r.model_pk));
    const [tags, aliases, latest] = await Promise.all([
      this.db.selectFrom('registered_model_tags').selectAll().where('model_pk', 'in', pks).orderBy('key').execute(),
      this.db.selectFrom('model_aliases').selectAll().where('model_pk', 'in', pks).orderBy('alias').execute(),
      this.latestVersionRows(pks),
    ]);
    const latestVersions = await this.loadVersions(latest);
    const group = <T>(list: readonly T[], pk: (x: T) => number) => {
      const m = new Map<number, T[]>();
      for (const x of list) {
        const k = pk(x);
        const l = m.get(k);
        if (l) l.push(x);
        else m.set(k, [x]);
      }
      return m;
    };
    const t = group(tags, (x) => Number(x.model_pk));
    const a = group(aliases, (x) => Number(x.model_pk));
    const byModel = new Map<number, ModelVersion[]>();
    latestVersions.forEach((v, i) => {
      const pk = Number(latest[i]!.model_pk);
      byModel.set(pk, [...(byModel.get(pk) ?? []), v]);
    });
    return rows.map((r) => ({
      name: r.name,
      creationTime: Number(r.creation_time),
      lastUpdateTime: Number(r.last_update_time),
      userId: r.user_id,
      description: r.description,
      tags: (t.get(Number(r.model_pk)) ?? []).map((x) => ({ key: x.key, value: x.value })),
      aliases: (a.get(Number(r.model_pk)) ?? []).map((x) => ({ alias: x.alias, version: String(x.version) })),
      latestVersions: byModel.get(Number(r.model_pk)) ?? [],
    }));
  }

  /** The highest version in each stage of each model. */
  async latestVersionRows(modelPks: readonly number[], stages?: readonly Stage[]): Promise<VersionRow[]> {
    if (modelPks.length === 0) return [];
    let q = this.versions(this.db)
      .where('v.model_pk', 'in', [...modelPks])
      .where(({ eb, selectFrom }) =>
        eb(
          'v.version',
          '=',
          selectFrom('model_versions as w')
            .select((e) => e.fn.max('w.version').as('mx'))
            .whereRef('w.model_pk', '=', 'v.model_pk')
            .whereRef('w.current_stage', '=', 'v.current_stage'),
        ),
      );
    if (stages && stages.length) q = q.where('v.current_stage', 'in', [...stages]);
    return (await q.orderBy('v.model_pk').orderBy('v.version').execute()) as VersionRow[];
  }

  // ------------------------------------------------------------------ versions
  async insertVersion(db: Db, row: Selectable<ModelVersionsTable>, tags: readonly Tag[]): Promise<void> {
    await db.insertInto('model_versions').values(row).execute();
    if (tags.length) await db.insertInto('model_version_tags').values(tags.map((t) => ({ model_pk: row.model_pk, version: row.version, key: t.key, value: t.value }))).execute();
  }

  /** Versions joined with their model's name (the shape of VersionRow). */
  private versions(db: Db) {
    return db.selectFrom('model_versions as v').innerJoin('registered_models as m', 'm.model_pk', 'v.model_pk').selectAll('v').select('m.name');
  }

  async versionRow(modelPk: number, version: number, db: Db = this.db): Promise<VersionRow | undefined> {
    return (await this.versions(db)
      .where('v.model_pk', '=', modelPk)
      .where('v.version', '=', version)
      .executeTakeFirst()) as VersionRow | undefined;
  }

  /** The version an alias points to, in one indexed query (name → model → alias → version). */
  async versionByAlias(name: string, alias: string): Promise<VersionRow | undefined> {
    return (await this.db
      .selectFrom('registered_models as m')
      .innerJoin('model_aliases as a', 'a.model_pk', 'm.model_pk')
      .innerJoin('model_versions as v', (j) => j.onRef('v.model_pk', '=', 'a.model_pk').onRef('v.version', '=', 'a.version'))
      .selectAll('v')
      .select('m.name')
      .where('m.name', '=', name)
      .where('a.alias', '=', alias)
      .executeTakeFirst()) as VersionRow | undefined;
  }

  async updateVersion(db: Db, modelPk: number, version: number, set: Partial<Selectable<ModelVersionsTable>>): Promise<void> {
    await db.updateTable('model_versions').set(set).where('model_pk', '=', modelPk).where('version', '=', version).execute();
  }

  /** The aliases that point to a version. */
  async aliasesOfVersion(db: Db, modelPk: number, version: number): Promise<string[]> {
    const rows = await db.selectFrom('model_aliases').select('alias').where('model_pk', '=', modelPk).where('version', '=', version).orderBy('alias').execute();
    return rows.map((r) => r.alias);
  }

  /** Deletes a version with its aliases and tags (inside the caller's transaction); false when it was already gone. */
  async deleteVersion(trx: Transaction<RegistryTables>, modelPk: number, version: number): Promise<boolean> {
    // Children first: PostgreSQL checks the composite foreign keys of tags and aliases row by row.
    await trx.deleteFrom('model_aliases').where('model_pk', '=', modelPk).where('version', '=', version).execute();
    await trx.deleteFrom('model_version_tags').where('model_pk', '=', modelPk).where('version', '=', version).execute();
    const r = await trx.deleteFrom('model_versions').where('model_pk', '=', modelPk).where('version', '=', version).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  async pendingVersions(): Promise<VersionRow[]> {
    return (await this.versions(this.db)
      .where('v.status', '=', 'PENDING_REGISTRATION')
      .execute()) as VersionRow[];
  }

  /**
   * Records the outcome of a PENDING_REGISTRATION version's inspection; false when it was no longer pending (another
   * replica finished first, or the version is gone), so exactly one outcome is recorded.
   */
  async setStatus(db: Db, modelPk: number, version: number, status: ModelVersionStatus, message: string | null, servable: boolean, pkg: string | null, now: number): Promise<boolean> {
    const r = await db
      .updateTable('model_versions')
      .set({ status, status_message: message, servable: servable ? 1 : 0, package: pkg, last_update_time: now })
      .where('model_pk', '=', modelPk)
      .where('version', '=', version)
      .where('status', '=', 'PENDING_REGISTRATION')
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async searchVersions(where: RawBuilder<boolean> | undefined, order: RawBuilder<unknown>[], offset: number, limit: number): Promise<VersionRow[]> {
    const cond = where ? sql`WHERE ${where}` : sql``;
    return (
      await sql<VersionRow>`SELECT model_versions.*, registered_models.name AS name FROM model_versions JOIN registered_models ON registered_models.model_pk = model_versions.model_pk ${cond} ORDER BY ${sql.join(order)} LIMIT ${limit} OFFSET ${offset}`.execute(
        this.db,
      )
    ).rows;
  }

  async loadVersions(rows: readonly VersionRow[]): Promise<ModelVersion[]> {
    if (rows.length === 0) return [];
    const pks = [...new Set(rows.map((r) => Number(r.model_pk)))];
    const [tags, aliases] = await Promise.all([
      this.db.selectFrom('model_version_tags').selectAll().where('model_pk', 'in', pks).where('version', 'in', [...new Set(rows.map((r) => Number(r.version)))]).orderBy('key').execute(),
      this.db.selectFrom('model_aliases').selectAll().where('model_pk', 'in', pks).orderBy('alias').execute(),
    ]);
    const key = (pk: unknown, v: unknown) => `${Number(pk)}:${Number(v)}`;
    const t = new Map<string, Tag[]>();
    for (const x of tags) t.set(key(x.model_pk, x.version), [...(t.get(key(x.model_pk, x.version)) ?? []), { key: x.key, value: x.value }]);
    const a = new Map<string, string[]>();
    for (const x of aliases) a.set(key(x.model_pk, x.version), [...(a.get(key(x.model_pk, x.version)) ?? []), x.alias]);
    return rows.map((r) => ({
      name: r.name,
      version: String(r.version),
      creationTime: Number(r.creation_time),
      lastUpdateTime: Number(r.last_update_time),
      userId: r.user_id,
      currentStage: r.current_stage as Stage,
      description: r.description,
      source: r.source,
      storageLocation: r.storage_location,
      runId: r.run_id,
      runLink: r.run_link,
      loggedModelId: r.logged_model_id,
      status: r.status as ModelVersionStatus,
      statusMessage: r.status_message,
      servable: Number(r.servable) === 1,
      package: r.package ? (JSON.parse(r.package) as ModelPackage) : null,
      tags: t.get(key(r.model_pk, r.version)) ?? [],
      aliases: a.get(key(r.model_pk, r.version)) ?? [],
    }));
  }

  // ------------------------------------------------------------------ aliases
  async aliasVersion(modelPk: number, alias: string, db: Db = this.db): Promise<number | undefined> {
    const row = await db.selectFrom('model_aliases').select('version').where('model_pk', '=', modelPk).where('alias', '=', alias).executeTakeFirst();
    return row ? Number(row.version) : undefined;
  }

  async setAlias(db: Db, modelPk: number, alias: string, version: number): Promise<void> {
    await db
      .insertInto('model_aliases')
      .values({ model_pk: modelPk, alias, version })
      .onConflict((oc) => oc.columns(['model_pk', 'alias']).doUpdateSet({ version }))
      .execute();
  }

  async deleteAlias(db: Db, modelPk: number, alias: string): Promise<boolean> {
    const r = await db.deleteFrom('model_aliases').where('model_pk', '=', modelPk).where('alias', '=', alias).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  /** The newest version number of a model (with `status`: the newest in that status). */
  async latestVersionNumber(modelPk: number, status?: string): Promise<number | undefined> {
    let q = this.db.selectFrom('model_versions').select((e) => e.fn.max('version').as('v')).where('model_pk', '=', modelPk);
    if (status !== undefined) q = q.where('status', '=', status);
    const row = await q.executeTakeFirst();
    return row?.v === null || row?.v === undefined ? undefined : Number(row.v);
  }

  /** The versions registered from these runs (lineage: run → model version). */
  async versionsOfRuns(runIds: readonly string[]): Promise<{ name: string; version: string; runId: string; status: string; stage: string; servable: boolean }[]> {
    if (runIds.length === 0) return [];
    const rows = await this.db
      .selectFrom('model_versions as v')
      .innerJoin('registered_models as m', 'm.model_pk', 'v.model_pk')
      .select(['m.name', 'v.version', 'v.run_id', 'v.status', 'v.current_stage', 'v.servable'])
      .where('v.run_id', 'in', [...runIds])
      .execute();
    return rows.map((r) => ({ name: r.name, version: String(r.version), runId: r.run_id!, status: r.status, stage: r.current_stage, servable: Number(r.servable) === 1 }));
  }

  // ------------------------------------------------------------------ history
  async addEvent(db: Db, e: NewEvent): Promise<number> {
    const row = await db
      .insertInto('model_events')
      .values({
        model_pk: e.modelPk,
        version: e.version ?? null,
        kind: e.kind,
        alias: e.alias ?? null,
        actor: e.actor,
        time: e.time,
        reason: e.reason ?? null,
        details: e.details ? JSON.stringify(e.details) : null,
      })
      .returning('event_pk')
      .executeTakeFirstOrThrow();
    return Number(row.event_pk);
  }

  async events(modelPk: number, name: string, afterId: number, limit: number): Promise<ModelEvent[]> {
    const rows = await this.db.selectFrom('model_events').selectAll().where('model_pk', '=', modelPk).where('event_pk', '>', afterId).orderBy('event_pk').limit(limit).execute();
    return rows.map((r) => ({
      id: Number(r.event_pk),
      name,
      version: r.version === null ? null : String(r.version),
      kind: r.kind as ModelEventKind,
      alias: r.alias,
      actor: r.actor,
      time: Number(r.time),
      reason: r.reason,
      details: r.details ? (JSON.parse(r.details) as Record<string, unknown>) : null,
    }));
  }
}
