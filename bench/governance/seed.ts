import { sql, type Insertable } from 'kysely';
import type { ParamsTable, RunsTable, TagsTable, TrackingTables } from '../../src/tracking/tables.js';
import type { GovernanceTables } from '../../src/governance/tables.js';
import type { MetadataStore } from '../../src/platform/db/types.js';
import { newRunId } from '../../src/platform/ids.js';

export const PROJECTS = 100;
export const EXPERIMENTS_PER_PROJECT = 10;
export const RUNS_PER_EXPERIMENT = 100;

/** Projects p000…p099, each with 10 experiments of 100 runs (start times interleaved across projects), 2 params and 2 tags per run. */
export async function seedProjects(store: MetadataStore): Promise<{ experiments: Map<number, string[]> }> {
  const gov = store.db.withTables<GovernanceTables>();
  const db = store.db.withTables<TrackingTables>();
  const now = Date.now();
  const experiments = new Map<number, string[]>();
  for (let p = 1; p <= PROJECTS; p++) {
    const name = `p${String(p - 1).padStart(3, '0')}`;
    const r = await gov.insertInto('gov_projects').values({ name, description: null, everyone_role: null, created_by: 'bench', creation_time: now, last_update_time: now }).returning('project_id').executeTakeFirstOrThrow();
    const projectId = Number(r.project_id);
    const ids: string[] = [];
    for (let e = 0; e < EXPERIMENTS_PER_PROJECT; e++) {
      const x = await db
        .insertInto('experiments')
        .values({ name: `${name}-e${e}`, artifact_location: 'mlflow-artifacts:/x', lifecycle_stage: 'active', creation_time: now, last_update_time: now, project_id: projectId })
        .returning('experiment_id')
        .executeTakeFirstOrThrow();
      ids.push(String(x.experiment_id));
    }
    experiments.set(projectId, ids);
  }
  let i = 0;
  for (const [projectId, ids] of experiments) {
    const runs: Insertable<RunsTable>[] = [];
    const params: Insertable<ParamsTable>[] = [];
    const tags: Insertable<TagsTable>[] = [];
    for (const experimentId of ids) {
      for (let k = 0; k < RUNS_PER_EXPERIMENT; k++) {
        const runId = newRunId();
        // Start times interleave projects, so the newest runs of readable projects are spread among the others'.
        const start = now - (k * PROJECTS * EXPERIMENTS_PER_PROJECT + i++) * 1000;
        runs.push({ run_id: runId, experiment_id: Number(experimentId), project_id: projectId, name: `r${k}`, user_id: 'bench', status: 'FINISHED', start_time: start, end_time: start + 500, artifact_uri: `mlflow-artifacts:/${experimentId}/${runId}/artifacts`, lifecycle_stage: 'active', deleted_time: null });
        params.push({ run_id: runId, key: 'lr', value: String(k % 4) }, { run_id: runId, key: 'layers', value: String(k % 7) });
        tags.push({ run_id: runId, key: 'mlflow.runName', value: `r${k}` }, { run_id: runId, key: 'team', value: 'bench' });
      }
    }
    await db.transaction().execute(async (trx) => {
      for (let c = 0; c < runs.length; c += 250) await trx.insertInto('runs').values(runs.slice(c, c + 250)).execute();
      for (let c = 0; c < params.length; c += 250) await trx.insertInto('params').values(params.slice(c, c + 250)).execute();
      for (let c = 0; c < tags.length; c += 250) await trx.insertInto('tags').values(tags.slice(c, c + 250)).execute();
    });
  }
  await sql`ANALYZE`.execute(db);
  return { experiments };
}

