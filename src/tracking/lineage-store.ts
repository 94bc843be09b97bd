import type { Kysely } from 'kysely';
import type { TrackingTables } from './tables.js';
import type { RunDatasetLink, RunSummary } from './types.js';

/** Batched reads the lineage graph needs from the tracking tables: one indexed query per hop, whatever the frontier. */
export class TrackingLineageStore {
  constructor(private readonly db: Kysely<TrackingTables>) {}

  async runSummaries(runIds: readonly string[]): Promise<RunSummary[]> {
    if (runIds.length === 0) return [];
    const rows = await this.db
      .selectFrom('runs')
      .select(['run_id', 'name', 'experiment_id', 'status', 'lifecycle_stage', 'start_time', 'end_time'])
      .where('run_id', 'in', [...runIds])
      .execute();
    return rows.map((r) => ({
      runId: r.run_id,
      runName: r.name,
      experimentId: String(r.experiment_id),
      status: r.status,
      lifecycleStage: r.lifecycle_stage,
      startTime: Number(r.start_time),
      endTime: r.end_time === null ? null : Number(r.end_time),
    }));
  }

  /** The dataset inputs of runs, with their mlflow.data.context. */
  async datasetInputs(runIds: readonly string[]): Promise<RunDatasetLink[]> {
    if (runIds.length === 0) return [];
    return this.inputsWhere('run_inputs.run_id', runIds);
  }

  /** The runs that used a dataset with one of these digests. */
  async runsUsingDigests(digests: readonly string[]): Promise<RunDatasetLink[]> {
    if (digests.length === 0) return [];
    return this.inputsWhere('datasets.digest', digests);
  }

  private async inputsWhere(column: 'run_inputs.run_id' | 'datasets.digest', values: readonly string[]): Promise<RunDatasetLink[]> {
    const rows = await this.db
      .selectFrom('run_inputs')
      .innerJoin('datasets', 'datasets.dataset_id', 'run_inputs.dataset_id')
      .leftJoin('input_tags', (j) => j.onRef('input_tags.input_id', '=', 'run_inputs.input_id').on('input_tags.key', '=', 'mlflow.data.context'))
      .select(['run_inputs.run_id', 'datasets.name', 'datasets.digest', 'datasets.source_type', 'datasets.source', 'input_tags.value as context'])
      .where(column, 'in', [...values])
      .execute();
    return rows.map((r) => ({ runId: r.run_id, name: r.name, digest: r.digest, sourceType: r.source_type, source: r.source, context: r.context ?? null }));
  }

  /** Parent → child links (the mlflow.parentRunId tag), for children of these runs. */
  async childRuns(parentRunIds: readonly string[]): Promise<{ parentRunId: string; runId: string }[]> {
    if (parentRunIds.length === 0) return [];
    const rows = await this.db.selectFrom('tags').select(['run_id', 'value']).where('key', '=', 'mlflow.parentRunId').where('value', 'in', [...parentRunIds]).execute();
    return rows.map((r) => ({ parentRunId: r.value, runId: r.run_id }));
  }

  /** Per experiment: active runs, runs still RUNNING, and the latest run start or end (for lists of experiments). */
  async experimentStats(experimentIds: readonly number[]): Promise<{ experimentId: string; runs: number; running: number; lastActivity: number | null }[]> {
    if (experimentIds.length === 0) return [];
    const rows = await this.db
      .selectFrom('runs')
      .select((eb) => [
        'experiment_id',
        eb.fn.countAll<number>().as('runs'),
        eb.fn.sum<number>(eb.case().when('status', '=', 'RUNNING').then(1).else(0).end()).as('running'),
        eb.fn.max('start_time').as('last_start'),
        eb.fn.max('end_time').as('last_end'),
      ])
      .where('experiment_id', 'in', [...experimentIds])
      .where('lifecycle_stage', '=', 'active')
      .groupBy('experiment_id')
      .execute();
    return rows.map((r) => {
      const last = Math.max(Number(r.last_start ?? 0), Number(r.last_end ?? 0));
      return { experimentId: String(r.experiment_id), runs: Number(r.runs), running: Number(r.running ?? 0), lastActivity: last > 0 ? last : null };
    });
  }

  /** The parents of these runs. */
  async parentRuns(runIds: readonly string[]): Promise<{ parentRunId: string; runId: string }[]> {
    if (runIds.length === 0) return [];
    const rows = await this.db.selectFrom('tags').select(['run_id', 'value']).where('key', '=', 'mlflow.parentRunId').where('run_id', 'in', [...runIds]).execute();
    return rows.map((r) => ({ parentRunId: r.value, runId: r.run_id }));
  }
}
