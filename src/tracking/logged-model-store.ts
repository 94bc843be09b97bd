import { sql, type Kysely, type Selectable } from 'kysely';
import type { TrackingTables, LoggedModelsTable } from './tables.js';
import type { LoggedModel, LoggedModelMetric, LoggedModelStatus, ModelOutput } from './logged-model-types.js';
import type { Param, Tag } from './types.js';

type Row = Selectable<LoggedModelsTable>;

/** The logged_models tables and the run → model output links. */
export class LoggedModelStore {
  constructor(private readonly db: Kysely<TrackingTables>) {}

  async insert(row: Row, params: readonly Param[], tags: readonly Tag[]): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx.insertInto('logged_models').values(row).execute();
      if (params.length) await trx.insertInto('logged_model_params').values(params.map((p) => ({ model_id: row.model_id, key: p.key, value: p.value }))).execute();
      if (tags.length) await trx.insertInto('logged_model_tags').values(tags.map((t) => ({ model_id: row.model_id, key: t.key, value: t.value }))).execute();
    });
  }

  async row(modelId: string): Promise<Row | undefined> {
    return this.db.selectFrom('logged_models').selectAll().where('model_id', '=', modelId).where('lifecycle_stage', '=', 'active').executeTakeFirst();
  }

  async load(rows: readonly Row[]): Promise<LoggedModel[]> {
    if (rows.length === 0) return [];
    const ids = rows.map((r) => r.model_id);
    const [tags, params, metrics] = await Promise.all([
      this.db.selectFrom('logged_model_tags').selectAll().where('model_id', 'in', ids).orderBy('key').execute(),
      this.db.selectFrom('logged_model_params').selectAll().where('model_id', 'in', ids).orderBy('key').execute(),
      this.metricsOf(ids),
    ]);
    const by = (list: { model_id: string; key: string; value: string }[]) => {
      const m = new Map<string, { key: string; value: string }[]>();
      for (const x of list) m.set(x.model_id, [...(m.get(x.model_id) ?? []), { key: x.key, value: x.value }]);
      return m;
    };
    const [t, p] = [by(tags), by(params)];
    return rows.map((r) => ({
      modelId: r.model_id,
      experimentId: String(r.experiment_id),
      name: r.name,
      modelType: r.model_type,
      sourceRunId: r.source_run_id,
      status: r.status as LoggedModelStatus,
      statusMessage: r.status_message,
      artifactUri: r.artifact_location,
      creationTime: Number(r.creation_time),
      lastUpdateTime: Number(r.last_update_time),
      tags: t.get(r.model_id) ?? [],
      params: p.get(r.model_id) ?? [],
      metrics: metrics.get(r.model_id) ?? [],
    }));
  }

  async setStatus(modelId: string, status: LoggedModelStatus, message: string | null, now: number): Promise<void> {
    await this.db.updateTable('logged_models').set({ status, status_message: message, last_update_time: now }).where('model_id', '=', modelId).execute();
  }

  async softDelete(modelId: string, now: number): Promise<void> {
    await this.db.updateTable('logged_models').set({ lifecycle_stage: 'deleted', last_update_time: now }).where('model_id', '=', modelId).execute();
  }

  async upsert(table: 'logged_model_tags' | 'logged_model_params', modelId: string, items: readonly Tag[], now: number, immutable = false): Promise<void> {
    if (items.length === 0) return;
    await this.db.transaction().execute(async (trx) => {
      const q = trx.insertInto(table).values(items.map((i) => ({ model_id: modelId, key: i.key, value: i.value })));
      await (immutable ? q.onConflict((oc) => oc.doNothing()) : q.onConflict((oc) => oc.columns(['model_id', 'key']).doUpdateSet((eb) => ({ value: eb.ref('excluded.value') })))).execute();
      await trx.updateTable('logged_models').set({ last_update_time: now }).where('model_id', '=', modelId).execute();
    });
  }

  async existingParams(modelId: string, keys: readonly string[]): Promise<Map<string, string>> {
    if (keys.length === 0) return new Map();
    const rows = await this.db.selectFrom('logged_model_params').select(['key', 'value']).where('model_id', '=', modelId).where('key', 'in', [...keys]).execute();
    return new Map(rows.map((r) => [r.key, r.value]));
  }

  async deleteTag(modelId: string, key: string): Promise<boolean> {
    const res = await this.db.deleteFrom('logged_model_tags').where('model_id', '=', modelId).where('key', '=', key).executeTakeFirst();
    return Number(res.numDeletedRows) > 0;
  }

  async addMetrics(metrics: readonly LoggedModelMetric[]): Promise<void> {
    if (metrics.length === 0) return;
    await this.db
      .insertInto('logged_model_metrics')
      .values(
        metrics.map((m) => ({
          model_id: m.modelId,
          key: m.key,
          value: Number.isNaN(m.value) ? 0 : m.value,
          is_nan: Number.isNaN(m.value) ? 1 : 0,
          timestamp: m.timestamp,
          step: m.step,
          run_id: m.runId,
          dataset_name: m.datasetName ?? null,
          dataset_digest: m.datasetDigest ?? null,
        })),
      )
      .execute();
  }

  private async metricsOf(modelIds: readonly string[]): Promise<Map<string, LoggedModelMetric[]>> {
    const out = new Map<string, LoggedModelMetric[]>();
    const rows = await this.db
      .selectFrom('logged_model_metrics')
      .selectAll()
      .where('model_id', 'in', [...modelIds])
      .orderBy('model_id')
      .orderBy('key')
      .orderBy('step')
      .orderBy('timestamp')
      .execute();
    for (const r of rows) {
      const m: LoggedModelMetric = {
        modelId: r.model_id,
        key: r.key,
        value: Number(r.is_nan) ? Number.NaN : Number(r.value),
        timestamp: Number(r.timestamp),
        step: Number(r.step),
        runId: r.run_id,
        ...(r.dataset_name !== null ? { datasetName: r.dataset_name } : {}),
        ...(r.dataset_digest !== null ? { datasetDigest: r.dataset_digest } : {}),
      };
      const list = out.get(r.model_id);
      if (list) list.push(m);
      else out.set(r.model_id, [m]);
    }
    return out;
  }

  async addInputs(runId: string, modelIds: readonly string[]): Promise<void> {
    if (modelIds.length === 0) return;
    await this.db
      .insertInto('run_model_inputs')
      .values(modelIds.map((modelId) => ({ run_id: runId, model_id: modelId })))
      .onConflict((oc) => oc.doNothing())
      .execute();
  }

  async inputsOf(runIds: readonly string[]): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>();
    if (runIds.length === 0) return out;
    const rows = await this.db.selectFrom('run_model_inputs').selectAll().where('run_id', 'in', [...runIds]).orderBy('model_id').execute();
    for (const r of rows) out.set(r.run_id, [...(out.get(r.run_id) ?? []), r.model_id]);
    return out;
  }

  async addOutputs(runId: string, outputs: readonly ModelOutput[]): Promise<void> {
    if (outputs.length === 0) return;
    await this.db
      .insertInto('run_model_outputs')
      .values(outputs.map((o) => ({ run_id: runId, model_id: o.modelId, step: o.step })))
      .onConflict((oc) => oc.columns(['run_id', 'model_id']).doUpdateSet((eb) => ({ step: eb.ref('excluded.step') })))
      .execute();
  }

  async outputsOf(runIds: readonly string[]): Promise<Map<string, ModelOutput[]>> {
    const out = new Map<string, ModelOutput[]>();
    if (runIds.length === 0) return out;
    const rows = await this.db.selectFrom('run_model_outputs').selectAll().where('run_id', 'in', [...runIds]).orderBy('model_id').execute();
    for (const r of rows) out.set(r.run_id, [...(out.get(r.run_id) ?? []), { modelId: r.model_id, step: Number(r.step) }]);
    return out;
  }

  /** One page of models in the experiments, filtered and ordered (filter and order already compiled). */
  async search(experimentIds: readonly number[], where: ReturnType<typeof sql> | undefined, orderSql: ReturnType<typeof sql>[], offset: number, limit: number): Promise<Row[]> {
    const conds = [sql`logged_models.experiment_id IN (${sql.join(experimentIds.map((id) => sql`${id}`))})`, sql`logged_models.lifecycle_stage = ${'active'}`];
    if (where) conds.push(sql`(${where})`);
    return (await sql<Row>`SELECT logged_models.* FROM logged_models WHERE ${sql.join(conds, sql` AND `)} ORDER BY ${sql.join(orderSql)} LIMIT ${limit} OFFSET ${offset}`.execute(this.db)).rows;
  }
}
