import { sql, type Insertable } from 'kysely';
import type { LatestMetricsTable, MetricsTable, ParamsTable, RunsTable, TagsTable, TrackingTables } from '../../src/tracking/tables.js';
import type { MetadataStore } from '../../src/platform/db/types.js';
import { newRunId } from '../../src/platform/ids.js';

/**
 * Writes `n` finished runs with 5 metrics (m0..m4, uniform in [0,1)), 5 params (lr one of 4 values) and
 * 3 tags each into a new experiment, in large transactions. Deterministic (seeded PRNG).
 */
export async function seedSearchCorpus(store: MetadataStore, n: number): Promise<{ experimentId: string }> {
  const db = store.db.withTables<TrackingTables>();
  let seed = 42;
  const rand = () => {
    seed = (seed * 1664525 + 1013904223) % 4294967296;
    return seed / 4294967296;
  };
  const now = Date.now();
  const exp = await db
    .insertInto('experiments')
    .values({ name: `bench-${now}`, artifact_location: '', lifecycle_stage: 'active', creation_time: now, last_update_time: now })
    .returning('experiment_id')
    .executeTakeFirstOrThrow();
  const experimentId = Number(exp.experiment_id);
  await db.updateTable('experiments').set({ artifact_location: `mlflow-artifacts:/${experimentId}` }).where('experiment_id', '=', experimentId).execute();
  const LRS = ['0.1', '0.01', '0.001', '0.0001'];
  const CHUNK = 500;
  for (let start = 0; start < n; start += CHUNK) {
    const runs: Insertable<RunsTable>[] = [];
    type PendingMetric = Omit<Insertable<MetricsTable>, 'run_pk'> & { run_id: string };
    const metrics: PendingMetric[] = [];
    const latest: Insertable<LatestMetricsTable>[] = [];
    const params: Insertable<ParamsTable>[] = [];
    const tags: Insertable<TagsTable>[] = [];
    for (let i = start; i < Math.min(n, start + CHUNK); i++) {
      const runId = newRunId();
      runs.push({ run_id: runId, experiment_id: experimentId, name: `run-${i}`, user_id: 'bench', status: 'FINISHED', start_time: now + i, end_time: now + i + 1000, artifact_uri: `mlflow-artifacts:/${experimentId}/${runId}/artifacts`, lifecycle_stage: 'active', deleted_time: null });
      for (let k = 0; k < 5; k++) {
        const value = rand();
        metrics.push({ run_id: runId, key: `m${k}`, value, timestamp: now, step: 0 });
        latest.push({ run_id: runId, key: `m${k}`, value, timestamp: now, step: 0 });
      }
      params.push({ run_id: runId, key: 'lr', value: LRS[Math.floor(rand() * LRS.length)]! });
      for (let k = 1; k < 5; k++) params.push({ run_id: runId, key: `p${k}`, value: String(Math.floor(rand() * 100)) });
      tags.push({ run_id: runId, key: 'mlflow.runName', value: `run-${i}` }, { run_id: runId, key: 'team', value: rand() < 0.5 ? 'vision' : 'nlp' }, { run_id: runId, key: 'stage', value: 'bench' });
    }
    await db.transaction().execute(async (trx) => {
      const keys = await trx.insertInto('runs').values(runs).returning(['run_id', 'run_pk']).execute();
      const pk = new Map(keys.map((k) => [k.run_id, Number(k.run_pk)]));
      await trx
        .insertInto('metrics')
        .values(metrics.map(({ run_id, ...m }) => ({ ...m, run_pk: pk.get(run_id)! })))
        .execute();
      await trx.insertInto('latest_metrics').values(latest).execute();
      await trx.insertInto('params').values(params).execute();
      await trx.insertInto('tags').values(tags).execute();
    });
  }
  // Fresh planner statistics, as any long-lived database has.
  await sql`ANALYZE`.execute(db);
  return { experimentId: String(experimentId) };
}
