import type { Kysely, Selectable } from 'kysely';
import { inTransaction } from '../platform/db/transaction.js';
import type { TrackingTables, ExperimentsTable } from './tables.js';
import type { StoreAdapter } from '../platform/db/adapter.js';
import { alreadyExists, notFound } from '../platform/errors.js';
import type { Experiment, LifecycleStage, Tag } from './types.js';

type ExperimentRow = Selectable<ExperimentsTable>;

/** The experiments and experiment_tags tables. */
export class ExperimentStore {
  constructor(
    private readonly db: Kysely<TrackingTables>,
    private readonly adapter: StoreAdapter,
  ) {}

  async create(name: string, artifactLocation: ((id: number) => string) | string, tags: readonly Tag[], now: number, projectId = 0): Promise<number> {
    try {
      return await inTransaction(this.db, async (trx) => {
        const row = await trx
          .insertInto('experiments')
          .values({ name, artifact_location: '', lifecycle_stage: 'active', creation_time: now, last_update_time: now, project_id: projectId })
          .returning('experiment_id')
          .executeTakeFirstOrThrow();
        const id = Number(row.experiment_id);
        const location = typeof artifactLocation === 'string' ? artifactLocation : artifactLocation(id);
        await trx.updateTable('experiments').set({ artifact_location: location }).where('experiment_id', '=', id).execute();
        if (tags.length > 0) {
          await trx.insertInto('experiment_tags').values(tags.map((t) => ({ experiment_id: id, key: t.key, value: t.value }))).execute();
        }
        return id;
      });
    } catch (e) {
      if (this.adapter.isUniqueViolation(e)) throw alreadyExists(`Experiment(name=${name}) already exists.`);
      throw e;
    }
  }

  async get(id: number): Promise<Experiment | undefined> {
    const row = await this.db.selectFrom('experiments').selectAll().where('experiment_id', '=', id).executeTakeFirst();
    if (!row) return undefined;
    return (await this.withTags([row]))[0];
  }

  /** The experiment's own row, without its tags (one query); not found is an error. */
  async requireRow(id: number | undefined, idText: string): Promise<ExperimentRow> {
    const row = id === undefined ? undefined : await this.db.selectFrom('experiments').selectAll().where('experiment_id', '=', id).executeTakeFirst();
    if (!row) throw notFound(`No Experiment with id=${idText} exists`);
    return row;
  }

  async require(id: number | undefined, idText: string): Promise<Experiment> {
    const e = id === undefined ? undefined : await this.get(id);
    if (!e) throw notFound(`No Experiment with id=${idText} exists`);
    return e;
  }

  async getByName(name: string): Promise<Experiment | undefined> {
    const row = await this.db.selectFrom('experiments').selectAll().where('name', '=', name).executeTakeFirst();
    if (!row) return undefined;
    return (await this.withTags([row]))[0];
  }

  async withTags(rows: readonly ExperimentRow[]): Promise<Experiment[]> {
    if (rows.length === 0) return [];
    const ids = rows.map((r) => Number(r.experiment_id));
    const tags = await this.db.selectFrom('experiment_tags').selectAll().where('experiment_id', 'in', ids).orderBy('key').execute();
    const byId = new Map<number, Tag[]>();
    for (const t of tags) {
      const list = byId.get(Number(t.experiment_id)) ?? [];
      list.push({ key: t.key, value: t.value });
      byId.set(Number(t.experiment_id), list);
    }
    return rows.map((r) => toExperiment(r, byId.get(Number(r.experiment_id)) ?? []));
  }

  async rename(id: number, newName: string, now: number): Promise<void> {
    try {
      await this.db.updateTable('experiments').set({ name: newName, last_update_time: now }).where('experiment_id', '=', id).execute();
    } catch (e) {
      if (this.adapter.isUniqueViolation(e)) throw alreadyExists(`Experiment(name=${newName}) already exists.`);
      throw e;
    }
  }

  /** Soft-deletes the experiment and its active runs in one transaction; restore reverses exactly that set. */
  async setLifecycle(id: number, stage: LifecycleStage, now: number): Promise<void> {
    await inTransaction(this.db, async (trx) => {
      const before = await trx.selectFrom('experiments').select('last_update_time').where('experiment_id', '=', id).executeTakeFirstOrThrow();
      await trx.updateTable('experiments').set({ lifecycle_stage: stage, last_update_time: now }).where('experiment_id', '=', id).execute();
      if (stage === 'deleted') {
        await trx
          .updateTable('runs')
          .set({ lifecycle_stage: 'deleted', deleted_time: now })
          .where('experiment_id', '=', id)
          .where('lifecycle_stage', '=', 'active')
          .execute();
      } else {
        await trx
          .updateTable('runs')
          .set({ lifecycle_stage: 'active', deleted_time: null })
          .where('experiment_id', '=', id)
          .where('lifecycle_stage', '=', 'deleted')
          .where('deleted_time', '=', Number(before.last_update_time))
          .execute();
      }
    });
  }

  async setTag(id: number, key: string, value: string, now: number): Promise<void> {
    await inTransaction(this.db, async (trx) => {
      await trx
        .insertInto('experiment_tags')
        .values({ experiment_id: id, key, value })
        .onConflict((oc) => oc.columns(['experiment_id', 'key']).doUpdateSet({ value }))
        .execute();
      await trx.updateTable('experiments').set({ last_update_time: now }).where('experiment_id', '=', id).execute();
    });
  }

  async deleteTag(id: number, key: string): Promise<boolean> {
    const res = await this.db.deleteFrom('experiment_tags').where('experiment_id', '=', id).where('key', '=', key).executeTakeFirst();
    return Number(res.numDeletedRows) > 0;
  }
}

export function toExperiment(r: ExperimentRow, tags: readonly Tag[]): Experiment {
  return {
    experimentId: String(r.experiment_id),
    name: r.name,
    artifactLocation: r.artifact_location,
    lifecycleStage: r.lifecycle_stage as LifecycleStage,
    creationTime: Number(r.creation_time),
    lastUpdateTime: Number(r.last_update_time),
    tags,
    projectId: Number(r.project_id ?? 0),
  };
}
