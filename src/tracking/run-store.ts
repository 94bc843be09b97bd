import { CompiledQuery, sql, type Insertable, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { TrackingTables, RunsTable } from './tables.js';
import type { StoreAdapter } from '../platform/db/adapter.js';
import { numberArrayLiteral, textArrayLiteral } from '../platform/db/array-literal.js';
import { invalid, notFound } from '../platform/errors.js';
import { newId } from '../platform/ids.js';
import { BUCKET_MERGE_SQL, METRIC_BUCKET_WIDTHS, recomputeBuckets, summarize, upsertBuckets, type StoredPoint } from './metric-buckets.js';
import type { DatasetInput, LifecycleStage, Metric, Param, Run, RunInfo, RunStatus, Tag } from './types.js';

export type RunRow = Selectable<RunsTable>;
type Db = Kysely<TrackingTables> | Transaction<TrackingTables>;

export const RUN_NAME_TAG = 'mlflow.runName';
const LOG_MODEL_HISTORY_TAG = 'mlflow.log-model.history';

export interface DatasetSummary {
  readonly experimentId: string;
  readonly name: string;
  readonly digest: string;
  readonly context?: string;
}

/** The runs table and the per-run tables (params, tags, metrics, latest_metrics, inputs). */
export class RunStore {
  constructor(
    private readonly db: Kysely<TrackingTables>,
    private readonly adapter: StoreAdapter,
  ) {}

  /** Creates a run and its tags in one transaction (PostgreSQL creates runs with insertUnderExperiment). */
  async insert(row: Insertable<RunsTable>, tags: readonly Tag[]): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx.insertInto('runs').values(row).execute();
      if (tags.length > 0) await trx.insertInto('tags').values(tags.map((t) => ({ run_id: row.run_id, key: t.key, value: t.value }))).execute();
    });
  }

  /**
   * PostgreSQL: creates a run and its tags in one statement that also checks its experiment, and derives the run's
   * artifact URI from the experiment's location. Undefined when there is no such experiment; otherwise the
   * experiment's stage, and the run's artifact URI when it was created (only under an active experiment).
   */
  async insertUnderExperiment(
    experimentId: number,
    row: Omit<Insertable<RunsTable>, 'experiment_id' | 'artifact_uri' | 'lifecycle_stage' | 'project_id'>,
    tags: readonly Tag[],
  ): Promise<{ stage: string; artifactUri: string | null; projectId: number } | undefined> {
    const res = await this.db.executeQuery<{ lifecycle_stage: string; artifact_uri: string | null; project_id: number | string }>(
      CompiledQuery.raw(
        `WITH e AS (SELECT experiment_id, lifecycle_stage, artifact_location, project_id FROM experiments WHERE experiment_id = $1),
r AS (
  INSERT INTO runs (run_id, experiment_id, name, user_id, status, start_time, end_time, artifact_uri, lifecycle_stage, deleted_time, project_id)
  SELECT $2::text, e.experiment_id, $3, $4, $5, $6, $7, e.artifact_location || '/' || $2::text || '/artifacts', 'active', NULL, e.project_id FROM e
  WHERE e.lifecycle_stage = 'active'
  RETURNING run_id, artifact_uri
),
t AS (INSERT INTO tags (run_id, key, value) SELECT r.run_id, t.key, t.value FROM r, unnest($8::text[], $9::text[]) AS t(key, value))
SELECT e.lifecycle_stage, e.project_id, (SELECT artifact_uri FROM r) AS artifact_uri FROM e`,
        [
          experimentId,
          row.run_id,
          row.name,
          row.user_id,
          row.status,
          row.start_time,
          row.end_time ?? null,
          textArrayLiteral(tags.map((t) => t.key)),
          textArrayLiteral(tags.map((t) => t.value)),
        ],
      ),
    );
    const r = res.rows[0];
    return r ? { stage: r.lifecycle_stage, artifactUri: r.artifact_uri, projectId: Number(r.project_id) } : undefined;
  }

  /** True when runs can be created with insertUnderExperiment. */
  get createsInOneStatement(): boolean {
    return this.adapter.arrayParameters;
  }

  async row(runId: string): Promise<RunRow | undefined> {
    return this.db.selectFrom('runs').selectAll().where('run_id', '=', runId).executeTakeFirst();
  }

  async requireRow(runId: string): Promise<RunRow> {
    const r = await this.row(runId);
    if (!r) throw notFound(`Run with id=${runId} not found`);
    return r;
  }

  async update(runId: string, set: { status?: RunStatus; end_time?: number | null; name?: string }): Promise<void> {
    if (set.name === undefined) {
      // One statement: no transaction round trips.
      await this.db.updateTable('runs').set(set).where('run_id', '=', runId).execute();
      return;
    }
    await this.db.transaction().execute(async (trx) => {
      await trx.updateTable('runs').set(set).where('run_id', '=', runId).execute();
      if (set.name !== undefined) await upsertTags(trx, runId, [{ key: RUN_NAME_TAG, value: set.name }]);
    });
  }

  /** Changes an active run in one statement and returns it; undefined when there is no such active run. */
  async updateActive(runId: string, set: { status?: RunStatus; end_time?: number | null }): Promise<RunRow | undefined> {
    return this.db.updateTable('runs').set(set).where('run_id', '=', runId).where('lifecycle_stage', '=', 'active').returningAll().executeTakeFirst();
  }

  async setLifecycle(runId: string, stage: LifecycleStage, now: number): Promise<void> {
    await this.db
      .updateTable('runs')
      .set({ lifecycle_stage: stage, deleted_time: stage === 'deleted' ? now : null })
      .where('run_id', '=', runId)
      .execute();
  }

  /**
   * Stores a whole batch in one transaction, or nothing: params (immutable), tags (upsert) and metric
   * points (idempotent: an identical point is stored once), then moves each key's latest value.
   */
  async logBatch(runId: string, metrics: readonly Metric[], params: readonly Param[], tags: readonly Tag[]): Promise<void> {
    if (this.adapter.arrayParameters && params.length === 0 && tags.length === 0 && metrics.length > 0) {
      // The common case, new points only: one statement, atomic on its own, no transaction round trips and no
      // per-row conflict handling. A point stored before makes the unique index refuse the whole statement
      // (nothing written); the batch then goes through the transaction below, which skips stored points.
      try {
        await this.insertMetricArrays(this.db, runId, undefined, metrics, true);
        return;
      } catch (e) {
        if (!this.adapter.isUniqueViolation(e)) throw e;
      }
    }
    if (this.adapter.arrayParameters && params.length > 0 && tags.length === 0 && metrics.length === 0) {
      // Params only: one statement that checks the run and the stored values and inserts the new keys, atomic on its
      // own. A key another request inserts meanwhile fails it with a unique violation: the transaction below decides.
      try {
        await insertNewParams(this.db, runId, distinctParams(params));
        return;
      } catch (e) {
        if (!this.adapter.isUniqueViolation(e)) throw e;
      }
    }
    await this.db.transaction().execute(async (trx) => {
      if (this.adapter.arrayParameters && params.length === 0 && tags.length === 0 && metrics.length > 0) {
        // The run's check travels with the metrics: one statement in the transaction.
        await this.insertMetricArrays(trx, runId, undefined, metrics);
        return;
      }
      if (this.adapter.arrayParameters && params.length > 0 && tags.length === 0 && metrics.length === 0) {
        // The run's check travels with the params: one statement in the transaction (two when some keys were there).
        await insertParams(trx, runId, params, true, true);
        return;
      }
      const runPk = await this.requireActive(trx, runId);
      if (params.length > 0) await insertParams(trx, runId, params, this.adapter.arrayParameters, false);
      if (tags.length > 0) {
        await upsertTags(trx, runId, tags);
        const nameTag = [...tags].reverse().find((t) => t.key === RUN_NAME_TAG);
        if (nameTag) await trx.updateTable('runs').set({ name: nameTag.value }).where('run_id', '=', runId).execute();
      }
      if (metrics.length > 0) {
        if (this.adapter.arrayParameters) await this.insertMetricArrays(trx, runId, runPk, metrics);
        else await this.insertMetrics(trx, runId, runPk, metrics);
      }
    });
  }

  /** Appends to the JSON list in the mlflow.log-model.history tag, in one transaction. */
  async appendModelHistory(runId: string, model: unknown, maxLength: number): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await this.requireActive(trx, runId);
      const prev = await trx.selectFrom('tags').select('value').where('run_id', '=', runId).where('key', '=', LOG_MODEL_HISTORY_TAG).executeTakeFirst();
      let history: unknown[] = [];
      try {
        const p: unknown = prev ? JSON.parse(prev.value) : [];
        if (Array.isArray(p)) history = p;
      } catch {
        history = [];
      }
      const value = JSON.stringify([...history, model]);
      if (value.length > maxLength) throw invalid(`The model history of run ${runId} would exceed ${maxLength} characters`);
      await upsertTags(trx, runId, [{ key: LOG_MODEL_HISTORY_TAG, value }]);
    });
  }

  async deleteTag(runId: string, key: string): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      await this.requireActive(trx, runId);
      const res = await trx.deleteFrom('tags').where('run_id', '=', runId).where('key', '=', key).executeTakeFirst();
      return Number(res.numDeletedRows) > 0;
    });
  }

  async logInputs(runId: string, experimentId: number, inputs: readonly DatasetInput[], now: number): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await this.requireActive(trx, runId);
      for (const input of inputs) {
        const d = input.dataset;
        await trx
          .insertInto('datasets')
          .values({
            dataset_id: newId(),
            experiment_id: experimentId,
            name: d.name,
            digest: d.digest,
            source_type: d.sourceType,
            source: d.source,
            schema: d.schema ?? null,
            profile: d.profile ?? null,
            created_time: now,
          })
          .onConflict((oc) => oc.doNothing())
          .execute();
        const ds = await trx
          .selectFrom('datasets')
          .select('dataset_id')
          .where('experiment_id', '=', experimentId)
          .where('name', '=', d.name)
          .where('digest', '=', d.digest)
          .executeTakeFirstOrThrow();
        await trx.insertInto('run_inputs').values({ input_id: newId(), run_id: runId, dataset_id: ds.dataset_id }).onConflict((oc) => oc.doNothing()).execute();
        const link = await trx
          .selectFrom('run_inputs')
          .select('input_id')
          .where('run_id', '=', runId)
          .where('dataset_id', '=', ds.dataset_id)
          .executeTakeFirstOrThrow();
        for (const t of input.tags) {
          await trx
            .insertInto('input_tags')
            .values({ input_id: link.input_id, key: t.key, value: t.value })
            .onConflict((oc) => oc.columns(['input_id', 'key']).doUpdateSet({ value: t.value }))
            .execute();
        }
      }
    });
  }

  /** Distinct (experiment, dataset name, digest, context) used by the runs of the given experiments. */
  async datasetSummaries(experimentIds: readonly number[]): Promise<DatasetSummary[]> {
    if (experimentIds.length === 0) return [];
    const rows = await this.db
      .selectFrom('run_inputs')
      .innerJoin('datasets', 'datasets.dataset_id', 'run_inputs.dataset_id')
      .innerJoin('runs', 'runs.run_id', 'run_inputs.run_id')
      .leftJoin('input_tags', (j) => j.onRef('input_tags.input_id', '=', 'run_inputs.input_id').on('input_tags.key', '=', 'mlflow.data.context'))
      .select(['datasets.experiment_id', 'datasets.name', 'datasets.digest', 'input_tags.value as context'])
      .where('datasets.experiment_id', 'in', [...experimentIds])
      .where('runs.lifecycle_stage', '=', 'active')
      .distinct()
      .orderBy('datasets.name')
      .orderBy('datasets.digest')
      .limit(1000)
      .execute();
    return rows.map((r) => ({ experimentId: String(r.experiment_id), name: r.name, digest: r.digest, context: r.context ?? undefined }));
  }

  /** Loads metrics (latest values), params, tags and dataset inputs for many runs in a few queries. */
  async loadRuns(rows: readonly RunRow[]): Promise<Run[]> {
    if (rows.length === 0) return [];
    const ids = rows.map((r) => r.run_id);
    const [metrics, params, tags, inputs] = await Promise.all([
      this.db.selectFrom('latest_metrics').select(['run_id', 'key', 'value', 'timestamp', 'step']).where('run_id', 'in', ids).orderBy('key').execute(),
      this.db.selectFrom('params').select(['run_id', 'key', 'value']).where('run_id', 'in', ids).orderBy('key').execute(),
      this.db.selectFrom('tags').select(['run_id', 'key', 'value']).where('run_id', 'in', ids).orderBy('key').execute(),
      this.db
        .selectFrom('run_inputs')
        .innerJoin('datasets', 'datasets.dataset_id', 'run_inputs.dataset_id')
        .select(['run_inputs.run_id', 'run_inputs.input_id', 'datasets.name', 'datasets.digest', 'datasets.source_type', 'datasets.source', 'datasets.schema', 'datasets.profile'])
        .where('run_inputs.run_id', 'in', ids)
        .orderBy('datasets.name')
        .execute(),
    ]);
    const inputTags = inputs.length
      ? await this.db.selectFrom('input_tags').selectAll().where('input_id', 'in', inputs.map((i) => i.input_id)).orderBy('key').execute()
      : [];
    const group = <T extends { run_id: string }>(list: readonly T[]) => {
      const m = new Map<string, T[]>();
      for (const x of list) {
        const l = m.get(x.run_id);
        if (l) l.push(x);
        else m.set(x.run_id, [x]);
      }
      return m;
    };
    const [mBy, pBy, tBy, iBy] = [group(metrics), group(params), group(tags), group(inputs)];
    const tagsByInput = new Map<string, Tag[]>();
    for (const t of inputTags) {
      const l = tagsByInput.get(t.input_id) ?? [];
      l.push({ key: t.key, value: t.value });
      tagsByInput.set(t.input_id, l);
    }
    return rows.map((r) => ({
      info: toRunInfo(r),
      data: {
        metrics: (mBy.get(r.run_id) ?? []).map(toMetric),
        params: (pBy.get(r.run_id) ?? []).map((p) => ({ key: p.key, value: p.value })),
        tags: (tBy.get(r.run_id) ?? []).map((t) => ({ key: t.key, value: t.value })),
      },
      inputs: {
        datasetInputs: (iBy.get(r.run_id) ?? []).map((i) => ({
          dataset: { name: i.name, digest: i.digest, sourceType: i.source_type, source: i.source, schema: i.schema, profile: i.profile },
          tags: tagsByInput.get(i.input_id) ?? [],
        })),
      },
    }));
  }

  private readonly insertSql = new Map<number, string>();

  private metricInsertSql(rows: number): string {
    let text = this.insertSql.get(rows);
    if (!text) {
      const p = this.adapter.placeholder;
      const tuples: string[] = [];
      for (let r = 0; r < rows; r++) tuples.push(`(${[1, 2, 3, 4, 5, 6].map((c) => p(r * 6 + c)).join(', ')})`);
      text = `INSERT INTO metrics (run_pk, key, value, timestamp, step, is_nan) VALUES ${tuples.join(', ')} ON CONFLICT DO NOTHING`;
      this.insertSql.set(rows, text);
    }
    return text;
  }

  /** Checks the run exists and is active, inside the caller's transaction; returns its integer key. */
  private async requireActive(trx: Db, runId: string): Promise<number> {
    const r = await trx.selectFrom('runs').select(['lifecycle_stage', 'run_pk']).where('run_id', '=', runId).executeTakeFirst();
    return Number(activeRun(runId, r).run_pk);
  }

  /**
   * Stores metric points with one statement whatever the batch size, for engines that take arrays as parameters:
   * the points, their bucket summaries (when every point was new) and each key's latest value, each from one array
   * per column. Checks the run exists and is active in the same statement unless the caller already did (`runPk`).
   */
  private async insertMetricArrays(trx: Db, runId: string, runPk: number | undefined, metrics: readonly Metric[], allNew = false): Promise<void> {
    const n = metrics.length;
    const keys = new Array<string>(n);
    const values = new Array<number>(n);
    const timestamps = new Array<number>(n);
    const steps = new Array<number>(n);
    const nans = new Array<number>(n);
    const points = new Array<{ key: string; value: number | null; timestamp: number; step: number }>(n);
    const latest = new Map<string, Metric>();
    for (let i = 0; i < n; i++) {
      const m = metrics[i]!;
      const nan = Number.isNaN(m.value);
      keys[i] = m.key;
      values[i] = nan ? 0 : m.value;
      timestamps[i] = m.timestamp;
      steps[i] = m.step;
      nans[i] = nan ? 1 : 0;
      points[i] = { key: m.key, value: nan ? null : m.value, timestamp: m.timestamp, step: m.step };
      const cur = latest.get(m.key);
      if (!cur || isNewer(m, cur)) latest.set(m.key, m);
    }
    const buckets = bucketColumns(points);
    const last = [...latest.values()];
    const res = await trx.executeQuery<{ run_pk: number; lifecycle_stage: string; stored: number }>(
      CompiledQuery.raw(allNew ? METRIC_ARRAYS_NEW_SQL : METRIC_ARRAYS_SQL, [
        runId,
        textArrayLiteral(keys),
        numberArrayLiteral(values),
        numberArrayLiteral(timestamps),
        numberArrayLiteral(steps),
        numberArrayLiteral(nans),
        ...buckets.map((col, c) => (c === 0 ? textArrayLiteral(col as string[]) : numberArrayLiteral(col as (number | null)[]))),
        n,
        textArrayLiteral(last.map((m) => m.key)),
        numberArrayLiteral(last.map((m) => storedValue(m.value))),
        numberArrayLiteral(last.map((m) => m.timestamp)),
        numberArrayLiteral(last.map((m) => m.step)),
      ]),
    );
    const run = res.rows[0];
    if (!run) throw notFound(`Run with id=${runId} not found`);
    if (runPk === undefined) activeRun(runId, run);
    // Some points were stored before (their summaries were left alone): count only what is stored.
    if (Number(run.stored) !== n) await recomputeBuckets(trx, Number(run.run_pk), points);
  }

  private async insertMetrics(trx: Db, runId: string, runPk: number, metrics: readonly Metric[]): Promise<void> {
    const rowsPerStatement = Math.min(1000, Math.floor(this.adapter.maxBindParameters / 6));
    for (let i = 0; i < metrics.length; i += rowsPerStatement) {
      const chunk = metrics.slice(i, i + rowsPerStatement);
      const params: unknown[] = [];
      for (const m of chunk) {
        const nan = Number.isNaN(m.value);
        params.push(runPk, m.key, nan ? 0 : m.value, m.timestamp, m.step, nan ? 1 : 0);
      }
      // Hand-written text (cached per row count) instead of the query builder: this is the ingestion hot path.
      const res = await trx.executeQuery(CompiledQuery.raw(this.metricInsertSql(chunk.length), params));
      const points = chunk.map((m) => ({ key: m.key, value: storedValue(m.value), timestamp: m.timestamp, step: m.step }));
      if (Number(res.numAffectedRows ?? 0) === chunk.length) await upsertBuckets(trx, runPk, points, Math.floor(this.adapter.maxBindParameters / 13));
      else await recomputeBuckets(trx, runPk, points); // some points were stored before: count only what is stored
    }
    const latest = new Map<string, Metric>();
    for (const m of metrics) {
      const cur = latest.get(m.key);
      if (!cur || isNewer(m, cur)) latest.set(m.key, m);
    }
    const rows = [...latest.values()].map((m) => ({ run_id: runId, key: m.key, value: storedValue(m.value), timestamp: m.timestamp, step: m.step }));
    for (let i = 0; i < rows.length; i += rowsPerStatement) {
      await trx
        .insertInto('latest_metrics')
        .values(rows.slice(i, i + rowsPerStatement))
        .onConflict((oc) =>
          oc
            .columns(['run_id', 'key'])
            .doUpdateSet((eb) => ({ value: eb.ref('excluded.value'), timestamp: eb.ref('excluded.timestamp'), step: eb.ref('excluded.step') }))
            .where(
              sql<boolean>`excluded.step > latest_metrics.step
                OR (excluded.step = latest_metrics.step AND excluded.timestamp > latest_metrics.timestamp)
                OR (excluded.step = latest_metrics.step AND excluded.timestamp = latest_metrics.timestamp AND excluded.value > latest_metrics.value)`,
            ),
        )
        .execute();
    }
  }
}

/** The latest value of a metric: highest step, then latest timestamp, then largest value. */
export function isNewer(a: Metric, b: Metric): boolean {
  if (a.step !== b.step) return a.step > b.step;
  if (a.timestamp !== b.timestamp) return a.timestamp > b.timestamp;
  return a.value > b.value;
}

/**
 * Inserts params, refusing changed values. With `arrays` (PostgreSQL) the keys and values go as two arrays; with
 * `checkRun` too, the same statement checks that the run exists and is active (and inserts nothing otherwise).
 */
async function insertParams(trx: Db, runId: string, params: readonly Param[], arrays: boolean, checkRun: boolean): Promise<void> {
  const seen = distinctParams(params);
  // Insert first; only when some keys were already there, compare their stored values (params are immutable).
  let inserted: bigint | number | undefined;
  if (arrays && checkRun) {
    const res = await sql<{ lifecycle_stage: string; inserted: number }>`WITH run AS (SELECT lifecycle_stage FROM runs WHERE run_id = ${runId}),
      ins AS (
        INSERT INTO params (run_id, key, value)
        SELECT ${runId}, p.key, p.value FROM run, unnest(${[...seen.keys()]}::text[], ${[...seen.values()]}::text[]) AS p(key, value)
        WHERE run.lifecycle_stage = 'active'
        ON CONFLICT DO NOTHING
        RETURNING 1
      )
      SELECT run.lifecycle_stage, (SELECT count(*) FROM ins) AS inserted FROM run`.execute(trx);
    inserted = activeRun(runId, res.rows[0]).inserted;
  } else if (arrays) {
    inserted = (await sql`INSERT INTO params (run_id, key, value) SELECT ${runId}, p.key, p.value FROM unnest(${[...seen.keys()]}::text[], ${[...seen.values()]}::text[]) AS p(key, value) ON CONFLICT DO NOTHING`.execute(trx)).numAffectedRows;
  } else {
    inserted = (await trx.insertInto('params').values([...seen].map(([key, value]) => ({ run_id: runId, key, value }))).onConflict((oc) => oc.doNothing()).executeTakeFirst()).numInsertedOrUpdatedRows;
  }
  if (Number(inserted ?? 0) === seen.size) return;
  const existing = await trx.selectFrom('params').select(['key', 'value']).where('run_id', '=', runId).where('key', 'in', [...seen.keys()]).execute();
  for (const e of existing) {
    const v = seen.get(e.key);
    if (v !== undefined && v !== e.value) throw paramChanged(runId, e.key, e.value, v);
  }
}

/** The row a statement read for a run (none: no such run), checked to be an active run. */
function activeRun<R extends { lifecycle_stage: string }>(runId: string, run: R | undefined): R {
  if (!run) throw notFound(`Run with id=${runId} not found`);
  if (run.lifecycle_stage !== 'active') throw invalid(`The run ${runId} must be in the 'active' state. Current state is ${run.lifecycle_stage}.`);
  return run;
}

/** The batch's params by key; the same key twice with different values is refused. */
function distinctParams(params: readonly Param[]): Map<string, string> {
  const seen = new Map<string, string>();
  for (const p of params) {
    const prev = seen.get(p.key);
    if (prev !== undefined && prev !== p.value) {
      throw invalid(`Duplicate parameter keys have been submitted: '${p.key}' with values '${prev}' and '${p.value}'. Params are immutable.`);
    }
    seen.set(p.key, p.value);
  }
  return seen;
}

function paramChanged(runId: string, key: string, oldValue: string, newValue: string) {
  return invalid(
    `Changing param values is not allowed. Param with key='${key}' was already logged with value='${oldValue}' for run ID='${runId}'. Attempted logging new value '${newValue}'.`,
    { key, old_value: oldValue, new_value: newValue },
  );
}

/**
 * PostgreSQL, params only: one autocommit statement checks the run, compares the keys already stored (params are
 * immutable: a changed value refuses the whole batch) and inserts the rest. No ON CONFLICT: a key that another
 * request stores meanwhile fails the statement with a unique violation, and nothing is written.
 */
async function insertNewParams(db: Db, runId: string, seen: ReadonlyMap<string, string>): Promise<void> {
  const res = await db.executeQuery<{ lifecycle_stage: string; key: string | null; old_value: string | null; new_value: string | null }>(
    CompiledQuery.raw(
      `WITH run AS (SELECT lifecycle_stage FROM runs WHERE run_id = $1),
p AS (SELECT * FROM unnest($2::text[], $3::text[]) AS p(key, value)),
existing AS (SELECT e.key, e.value FROM params e JOIN p ON e.key = p.key WHERE e.run_id = $1),
clash AS (SELECT p.key, e.value AS old_value, p.value AS new_value FROM p JOIN existing e ON e.key = p.key WHERE e.value <> p.value ORDER BY p.key LIMIT 1),
ins AS (
  INSERT INTO params (run_id, key, value)
  SELECT $1, p.key, p.value FROM run, p
  WHERE run.lifecycle_stage = 'active' AND NOT EXISTS (SELECT 1 FROM clash) AND NOT EXISTS (SELECT 1 FROM existing e WHERE e.key = p.key)
)
SELECT run.lifecycle_stage, clash.key, clash.old_value, clash.new_value FROM run LEFT JOIN clash ON true`,
      [runId, textArrayLiteral([...seen.keys()]), textArrayLiteral([...seen.values()])],
    ),
  );
  const row = activeRun(runId, res.rows[0]);
  if (row.key !== null) throw paramChanged(runId, row.key, row.old_value!, row.new_value!);
}

async function upsertTags(trx: Db, runId: string, tags: readonly Tag[]): Promise<void> {
  const last = new Map<string, string>();
  for (const t of tags) last.set(t.key, t.value);
  await trx
    .insertInto('tags')
    .values([...last].map(([key, value]) => ({ run_id: runId, key, value })))
    .onConflict((oc) => oc.columns(['run_id', 'key']).doUpdateSet((eb) => ({ value: eb.ref('excluded.value') })))
    .execute();
}

export function storedValue(v: number): number | null {
  return Number.isNaN(v) ? null : v;
}

export function toMetric(r: { key: string; value: number | null; timestamp: number; step: number }): Metric {
  return { key: r.key, value: r.value === null ? NaN : Number(r.value), timestamp: Number(r.timestamp), step: Number(r.step) };
}

export function toRunInfo(r: Omit<RunRow, 'run_pk'>): RunInfo {
  return {
    runId: r.run_id,
    runName: r.name,
    experimentId: String(r.experiment_id),
    userId: r.user_id,
    status: r.status as RunStatus,
    startTime: Number(r.start_time),
    endTime: r.end_time === null ? null : Number(r.end_time),
    artifactUri: r.artifact_uri,
    lifecycleStage: r.lifecycle_stage as LifecycleStage,
  };
}

/** The bucket summaries of new points as 12 column arrays, in METRIC_ARRAYS_SQL's order. */
function bucketColumns(points: readonly StoredPoint[]): unknown[][] {
  const cols: unknown[][] = Array.from({ length: 12 }, () => []);
  for (const width of METRIC_BUCKET_WIDTHS) {
    for (const [key, buckets] of summarize(points, width)) {
      for (const b of buckets.values()) {
        const row = [key, width, b.bucket, b.count, b.first_step, b.last_step, b.min_value, b.min_step, b.min_timestamp, b.max_value, b.max_step, b.max_timestamp];
        for (let c = 0; c < 12; c++) cols[c]!.push(row[c]);
      }
    }
  }
  return cols;
}

// One statement per batch of metric points (PostgreSQL): $1 the run id; $2–$6 the points; $7–$18 their bucket
// summaries; $19 the number of points; $20–$23 each key's latest point. Every part is guarded by the run being
// active; the result row (none: no such run) says what the run is and how many points were new.
//
// Two forms. `allNew`: a plain insert, whose unique index refuses the whole statement (nothing written) when a
// point was stored before; it skips the speculative insertion of ON CONFLICT, which costs about as much again per
// row as the insert itself. Otherwise: stored points are skipped, and the summaries are folded in only when all
// $19 points were new (the caller recomputes them when not).
function metricArraysSql(allNew: boolean): string {
  return `WITH run AS (SELECT run_pk, lifecycle_stage FROM runs WHERE run_id = $1),
ins AS (
  INSERT INTO metrics (run_pk, key, value, timestamp, step, is_nan)
  SELECT run.run_pk, m.key, m.value, m.timestamp, m.step, m.is_nan
  FROM run, unnest($2::text[], $3::float8[], $4::int8[], $5::int8[], $6::int4[]) AS m(key, value, timestamp, step, is_nan)
  WHERE run.lifecycle_stage = 'active'${allNew ? '' : '\n  ON CONFLICT DO NOTHING\n  RETURNING 1'}
),${allNew ? '' : '\nstored AS (SELECT count(*) AS n FROM ins),'}
buckets AS (
  INSERT INTO metric_buckets (run_pk, key, width, bucket, count, first_step, last_step, min_value, min_step, min_timestamp, max_value, max_step, max_timestamp)
  SELECT run.run_pk, b.*
  FROM run, ${allNew ? '' : 'stored, '}unnest($7::text[], $8::int4[], $9::int8[], $10::int8[], $11::int8[], $12::int8[], $13::float8[], $14::int8[], $15::int8[], $16::float8[], $17::int8[], $18::int8[])
    AS b(key, width, bucket, count, first_step, last_step, min_value, min_step, min_timestamp, max_value, max_step, max_timestamp)
  WHERE run.lifecycle_stage = 'active'${allNew ? '' : ' AND stored.n = $19'}
  ON CONFLICT (run_pk, key, width, bucket) DO UPDATE SET ${BUCKET_MERGE_SQL}
),
latest AS (
  INSERT INTO latest_metrics (run_id, key, value, timestamp, step)
  SELECT $1, l.key, l.value, l.timestamp, l.step
  FROM run, unnest($20::text[], $21::float8[], $22::int8[], $23::int8[]) AS l(key, value, timestamp, step)
  WHERE run.lifecycle_stage = 'active'
  ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value, timestamp = excluded.timestamp, step = excluded.step
  WHERE excluded.step > latest_metrics.step
    OR (excluded.step = latest_metrics.step AND excluded.timestamp > latest_metrics.timestamp)
    OR (excluded.step = latest_metrics.step AND excluded.timestamp = latest_metrics.timestamp AND excluded.value > latest_metrics.value)
)
SELECT run.run_pk, run.lifecycle_stage, ${allNew ? '$19::int4' : 'stored.n'} AS stored FROM run${allNew ? '' : ', stored'}`;
}
const METRIC_ARRAYS_SQL = metricArraysSql(false);
const METRIC_ARRAYS_NEW_SQL = metricArraysSql(true);
