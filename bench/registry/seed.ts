import { sql, type Insertable } from 'kysely';
import type { RegistryTables } from '../../src/registry/tables.js';
import type { TrackingTables } from '../../src/tracking/tables.js';
import type { MetadataStore } from '../../src/platform/db/types.js';
import { newRunId } from '../../src/platform/ids.js';

export interface RegistryCorpus {
  readonly models: number;
  readonly versionsPerModel: number;
  readonly runs: number;
  readonly datasets: number;
  readonly nodes: number;
  readonly sampleModel: string;
  readonly sampleDigest: string;
}

/**
 * A registry and lineage corpus written straight into the store (deterministic):
 * `models` registered models × `versionsPerModel` versions (an alias `champion` and a tag on each model), every
 * version registered from one of the child runs of `parents` sweeps (9 trials each), every child run using one of
 * `datasets` dataset digests for training. Lineage nodes: versions + runs + datasets.
 */
export async function seedRegistryCorpus(store: MetadataStore, opts: { models: number; versionsPerModel: number; parents: number; datasets: number }): Promise<RegistryCorpus> {
  const db = store.db.withTables<RegistryTables & TrackingTables>();
  const now = Date.now();
  const exp = await db.insertInto('experiments').values({ name: `bench-registry-${now}`, artifact_location: 'mlflow-artifacts:/bench', lifecycle_stage: 'active', creation_time: now, last_update_time: now }).returning('experiment_id').executeTakeFirstOrThrow();
  const experimentId = Number(exp.experiment_id);
  const digest = (i: number) => `d${String(i).padStart(7, '0')}`;

  // datasets (the tracking table of logged dataset identities)
  for (let start = 0; start < opts.datasets; start += 1000) {
    const rows: Insertable<(RegistryTables & TrackingTables)['datasets']>[] = [];
    for (let i = start; i < Math.min(opts.datasets, start + 1000); i++) rows.push({ dataset_id: `ds-${i}`, experiment_id: experimentId, name: `data-${i}`, digest: digest(i), source_type: 'local', source: `/data/${i}.csv`, schema: null, profile: null, created_time: now });
    await db.insertInto('datasets').values(rows).execute();
  }
  // sweeps: a parent run and 9 children each; children use a dataset for training
  const children: string[] = [];
  for (let start = 0; start < opts.parents; start += 100) {
    await db.transaction().execute(async (trx) => {
      const runs: Insertable<(RegistryTables & TrackingTables)['runs']>[] = [];
      const tags: Insertable<(RegistryTables & TrackingTables)['tags']>[] = [];
      const inputs: Insertable<(RegistryTables & TrackingTables)['run_inputs']>[] = [];
      const inputTags: Insertable<(RegistryTables & TrackingTables)['input_tags']>[] = [];
      for (let p = start; p < Math.min(opts.parents, start + 100); p++) {
        const parent = newRunId();
        runs.push({ run_id: parent, experiment_id: experimentId, name: `sweep-${p}`, user_id: 'bench', status: 'FINISHED', start_time: now, end_time: now, artifact_uri: `mlflow-artifacts:/bench/${parent}`, lifecycle_stage: 'active', deleted_time: null });
        for (let c = 0; c < 9; c++) {
          const child = newRunId();
          const n = children.length;
          children.push(child);
          runs.push({ run_id: child, experiment_id: experimentId, name: `trial-${p}-${c}`, user_id: 'bench', status: 'FINISHED', start_time: now, end_time: now, artifact_uri: `mlflow-artifacts:/bench/${child}`, lifecycle_stage: 'active', deleted_time: null });
          tags.push({ run_id: child, key: 'mlflow.parentRunId', value: parent });
          const input = `in-${n}`;
          inputs.push({ input_id: input, run_id: child, dataset_id: `ds-${n % opts.datasets}` });
          inputTags.push({ input_id: input, key: 'mlflow.data.context', value: 'training' });
        }
      }
      await trx.insertInto('runs').values(runs).execute();
      await trx.insertInto('tags').values(tags).execute();
      await trx.insertInto('run_inputs').values(inputs).execute();
      await trx.insertInto('input_tags').values(inputTags).execute();
    });
  }
  // registered models and versions
  for (let start = 0; start < opts.models; start += 200) {
    await db.transaction().execute(async (trx) => {
      const models: Insertable<(RegistryTables & TrackingTables)['registered_models']>[] = [];
      for (let m = start; m < Math.min(opts.models, start + 200); m++) {
        models.push({ name: `model-${String(m).padStart(5, '0')}`, description: null, user_id: 'bench', creation_time: now + m, last_update_time: now + m, next_version: opts.versionsPerModel + 1 });
      }
      const pks = await trx.insertInto('registered_models').values(models).returning(['model_pk', 'name']).execute();
      const versions: Insertable<(RegistryTables & TrackingTables)['model_versions']>[] = [];
      const aliases: Insertable<(RegistryTables & TrackingTables)['model_aliases']>[] = [];
      const tags: Insertable<(RegistryTables & TrackingTables)['registered_model_tags']>[] = [];
      for (const { model_pk, name } of pks) {
        const m = Number(name.slice(6));
        for (let v = 1; v <= opts.versionsPerModel; v++) {
          const run = children[(m * opts.versionsPerModel + v) % children.length]!;
          versions.push({
            model_pk: Number(model_pk), version: v, creation_time: now, last_update_time: now, user_id: 'bench', description: null, current_stage: v === opts.versionsPerModel ? 'Production' : 'None',
            source: `runs:/${run}/model`, storage_location: `mlflow-artifacts:/bench/${run}/model`, run_id: run, run_link: null, logged_model_id: null, status: 'READY', status_message: null, servable: 1, package: null,
          });
        }
        aliases.push({ model_pk: Number(model_pk), alias: 'champion', version: opts.versionsPerModel - 1 });
        tags.push({ model_pk: Number(model_pk), key: 'team', value: m % 2 ? 'vision' : 'nlp' });
      }
      await trx.insertInto('model_versions').values(versions).execute();
      await trx.insertInto('model_aliases').values(aliases).execute();
      await trx.insertInto('registered_model_tags').values(tags).execute();
    });
  }
  await sql`ANALYZE`.execute(db);
  const runs = opts.parents * 10;
  return { models: opts.models, versionsPerModel: opts.versionsPerModel, runs, datasets: opts.datasets, nodes: opts.models * opts.versionsPerModel + runs + opts.datasets, sampleModel: 'model-04321', sampleDigest: digest(1234) };
}
