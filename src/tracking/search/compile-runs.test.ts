import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Kysely } from 'kysely';
import type { TrackingTables } from '../tables.js';
import { KilnError } from '../../platform/errors.js';
import { buildRunSearchQuery, searchRunRows, type RunSearchOptions } from './compile-runs.js';
import { parseRunFilter, parseRunOrderBy } from './grammars.js';
import { TEST_BACKENDS, addExperiments, openTestDb, type TestDb } from './search-test-db.js';

// run_id, experiment, name, user, status, start, end, lifecycle stage
const RUNS: [string, number, string, string, string, number, number | null, string][] = [
  ['r01', 1, 'alpha-1', 'ann', 'FINISHED', 1000, 2000, 'active'],
  ['r02', 1, 'alpha-2', 'bob', 'FINISHED', 1100, 2100, 'active'],
  ['r03', 1, 'beta-1', 'ann', 'RUNNING', 1200, null, 'active'],
  ['r04', 1, 'Beta-2', 'carl', 'FAILED', 1300, 1400, 'active'],
  ['r05', 1, 'gamma', 'ann', 'FINISHED', 1400, 2500, 'active'],
  ['r06', 1, 'delta', 'bob', 'KILLED', 1500, 1600, 'deleted'],
  ['r07', 2, 'other-1', 'ann', 'FINISHED', 1600, 1700, 'active'],
  ['r08', 1, "it's", 'dana', 'FINISHED', 1700, null, 'active'],
  ['r09', 1, 'under_score', 'ann', 'FINISHED', 1200, 3000, 'active'],
  ['r10', 1, 'zeta', 'ann', 'SCHEDULED', 1800, null, 'active'],
];
// Latest metric values; null is a NaN latest value. r08 and r10 never logged acc.
const METRICS: [string, string, number | null][] = [
  ['r01', 'acc', 0.9],
  ['r02', 'acc', 0.7],
  ['r03', 'acc', null],
  ['r04', 'acc', 0.7],
  ['r05', 'acc', 0.95],
  ['r06', 'acc', 0.99],
  ['r07', 'acc', 0.8],
  ['r09', 'acc', -1],
  ['r01', 'model class', 3],
  ['r02', 'loss', 0.2],
];
const PARAMS: [string, string, string][] = [
  ['r01', 'lr', '0.01'],
  ['r02', 'lr', '0.1'],
  ['r03', 'lr', '0.01'],
  ['r04', 'lr', '0.001'],
  ['r05', 'lr', '0.1'],
  ['r06', 'lr', '0.1'],
  ['r07', 'lr', '0.01'],
  ['r09', 'lr', '0.01'],
  ['r01', 'opt', 'adam'],
  ['r02', 'opt', 'SGD'],
  ['r03', 'opt', 'sgd'],
  ['r04', 'opt', 'Adam'],
];
const TAGS: [string, string, string][] = [
  ['r01', 'team', 'Vision'],
  ['r02', 'team', 'vision'],
  ['r03', 'team', 'nlp'],
  ['r04', 'team', 'VISION-x'],
  ['r05', 'team', 'nlp'],
  ['r08', 'team', 'vis_ion'],
  ['r01', 'user-name', 'x'],
  ['r06', 'team', 'nlp'],
];

async function seed(db: Kysely<TrackingTables>): Promise<void> {
  await addExperiments(db, [...new Set(RUNS.map((r) => r[1]))]);
  await db
    .insertInto('runs')
    .values(
      RUNS.map(([run_id, experiment_id, name, user_id, status, start_time, end_time, lifecycle_stage], i) => ({
        run_pk: i + 1,
        run_id,
        experiment_id,
        name,
        user_id,
        status,
        start_time,
        end_time,
        artifact_uri: `s3://bucket/${run_id}`,
        lifecycle_stage,
        deleted_time: lifecycle_stage === 'deleted' ? 1 : null,
      })),
    )
    .execute();
  await db.insertInto('latest_metrics').values(METRICS.map(([run_id, key, value]) => ({ run_id, key, value, timestamp: 1, step: 0 }))).execute();
  await db.insertInto('params').values(PARAMS.map(([run_id, key, value]) => ({ run_id, key, value }))).execute();
  await db.insertInto('tags').values(TAGS.map(([run_id, key, value]) => ({ run_id, key, value }))).execute();
  const dataset = { experiment_id: 1, source_type: 'local', source: '{}', schema: null, profile: null, created_time: 1 };
  await db
    .insertInto('datasets')
    .values([
      { ...dataset, dataset_id: 'd1', name: 'weather', digest: 'abc123' },
      { ...dataset, dataset_id: 'd2', name: 'mnist', digest: 'fff000' },
    ])
    .execute();
  await db
    .insertInto('run_inputs')
    .values([
      { input_id: 'i1', run_id: 'r01', dataset_id: 'd1' },
      { input_id: 'i2', run_id: 'r02', dataset_id: 'd1' },
      { input_id: 'i3', run_id: 'r02', dataset_id: 'd2' },
      { input_id: 'i4', run_id: 'r05', dataset_id: 'd2' },
    ])
    .execute();
  await db
    .insertInto('input_tags')
    .values([
      { input_id: 'i1', key: 'mlflow.data.context', value: 'training' },
      { input_id: 'i2', key: 'mlflow.data.context', value: 'eval' },
      { input_id: 'i3', key: 'mlflow.data.context', value: 'training' },
      { input_id: 'i4', key: 'other', value: 'training' },
    ])
    .execute();
}

const BASE: RunSearchOptions = { experimentIds: [1], viewType: 'ACTIVE_ONLY', offset: 0, limit: 100 };
const ALL_ACTIVE = ['r10', 'r08', 'r05', 'r04', 'r03', 'r09', 'r02', 'r01'];

/** [filter, order_by, other options, run ids expected in order]. */
const CASES: [string | undefined, string[], Partial<RunSearchOptions>, string[]][] = [
  [undefined, [], {}, ALL_ACTIVE],
  ['  ', [], {}, ALL_ACTIVE],
  ['metrics.acc > 0.75', [], {}, ['r05', 'r01']],
  ['metrics.acc != 0.7', [], {}, ['r05', 'r09', 'r01']],
  ['metrics.acc IS NULL', [], {}, ['r10', 'r08', 'r03']],
  ['metrics.acc IS NOT NULL', [], {}, ['r05', 'r04', 'r09', 'r02', 'r01']],
  ['metrics.acc <= 0.7 AND metrics.acc >= 0.7', [], {}, ['r04', 'r02']],
  ["params.lr = '0.01' AND metrics.acc >= 0", [], {}, ['r01']],
  ["params.lr = '0.1' OR metrics.acc < 0", [], {}, ['r05', 'r09', 'r02']],
  ["metrics.acc > 0.8 OR (params.lr = '0.001' AND tags.team LIKE 'VISION%')", [], {}, ['r05', 'r04', 'r01']],
  ["metrics.acc > 0.8 OR params.lr = '0.001' AND tags.team = 'nlp'", [], {}, ['r05', 'r01']],
  ["(metrics.acc > 0.8 OR params.lr = '0.001') AND tags.team = 'nlp'", [], {}, ['r05']],
  ["tags.team LIKE 'vis%'", [], {}, ['r08', 'r02']],
  ["tags.team ILIKE 'vis%'", [], {}, ['r08', 'r04', 'r02', 'r01']],
  ["tags.team LIKE 'vis\\_%'", [], {}, ['r08']],
  ["tags.team = 'Vision'", [], {}, ['r01']],
  ["tags.team != 'nlp'", [], {}, ['r08', 'r04', 'r02', 'r01']],
  ['tags.team IS NULL', [], {}, ['r10', 'r09']],
  ["tags.`user-name` = 'x'", [], {}, ['r01']],
  ['metrics."model class" = 3', [], {}, ['r01']],
  ["params.opt IN ('sgd', 'adam')", [], {}, ['r03', 'r01']],
  ["params.opt NOT IN ('sgd', 'adam')", [], {}, ['r04', 'r02']],
  ["params.opt ILIKE 'SGD'", [], {}, ['r03', 'r02']],
  ["attributes.run_name LIKE 'alpha%'", [], {}, ['r02', 'r01']],
  ["run_name ILIKE 'beta%'", [], {}, ['r04', 'r03']],
  ["\"run name\" = 'it''s'", [], {}, ['r08']],
  ["run_name LIKE '%\\_%'", [], {}, ['r09']],
  ["status IN ('RUNNING', 'SCHEDULED')", [], {}, ['r10', 'r03']],
  ["status != 'FINISHED'", [], {}, ['r10', 'r04', 'r03']],
  ["user_id = 'ann' AND artifact_uri LIKE 's3://bucket/r0%'", [], {}, ['r05', 'r03', 'r09', 'r01']],
  ['end_time IS NULL', [], {}, ['r10', 'r08', 'r03']],
  ['end_time > 2000', [], {}, ['r05', 'r09', 'r02']],
  ['created >= 1200 AND created < 1400', [], {}, ['r04', 'r03', 'r09']],
  ['start_time > 1199.5', [], {}, ['r10', 'r08', 'r05', 'r04', 'r03', 'r09']],
  ['start_time <= 1200.5', [], {}, ['r03', 'r09', 'r02', 'r01']],
  ['start_time = 1200.5', [], {}, []],
  ['start_time != 1.5', [], {}, ALL_ACTIVE],
  ['start_time < 1e30 AND end_time > -1e30', [], {}, ['r05', 'r04', 'r09', 'r02', 'r01']],
  ["datasets.name = 'weather'", [], {}, ['r02', 'r01']],
  ["datasets.context = 'training'", [], {}, ['r02', 'r01']],
  ["datasets.context IN ('eval')", [], {}, ['r02']],
  ["datasets.name = 'mnist' AND datasets.context = 'training'", [], {}, ['r02']],
  ["datasets.digest LIKE 'fff%'", [], {}, ['r05', 'r02']],
  ["run_id IN ('r01', 'r05', 'r06')", [], {}, ['r05', 'r01']],
  ["run_id IN ('r01', 'r05', 'r06')", [], { viewType: 'ALL' }, ['r06', 'r05', 'r01']],
  [undefined, [], { viewType: 'DELETED_ONLY' }, ['r06']],
  // The filter's OR must not escape the view type and experiment conditions.
  ["metrics.acc > 0.9 OR params.lr = '0.1'", [], { viewType: 'DELETED_ONLY' }, ['r06']],
  ["params.lr = '0.01' OR tags.team = 'nlp'", [], { experimentIds: [2] }, ['r07']],
  ['metrics.acc >= 0.8', [], { experimentIds: [1, 2] }, ['r07', 'r05', 'r01']],
  ['metrics.acc >= 0.8', ['experiment_id DESC'], { experimentIds: [1, 2] }, ['r07', 'r05', 'r01']],
  ['metrics.acc >= 0.8', ['attributes.experiment_id ASC'], { experimentIds: [1, 2] }, ['r05', 'r01', 'r07']],
  [undefined, [], { experimentIds: [] }, []],
  // Ordering: missing and NaN values last in both directions; ties by start_time DESC, run_id ASC.
  [undefined, ['metrics.acc ASC'], {}, ['r09', 'r04', 'r02', 'r01', 'r05', 'r10', 'r08', 'r03']],
  [undefined, ['metrics.acc DESC'], {}, ['r05', 'r01', 'r04', 'r02', 'r09', 'r10', 'r08', 'r03']],
  [undefined, ['params.lr DESC'], {}, ['r05', 'r02', 'r03', 'r09', 'r01', 'r04', 'r10', 'r08']],
  [undefined, ['params.lr DESC', 'metrics.acc ASC'], {}, ['r02', 'r05', 'r09', 'r01', 'r03', 'r04', 'r10', 'r08']],
  [undefined, ['params.opt', 'metrics.acc DESC'], {}, ['r04', 'r02', 'r01', 'r03', 'r05', 'r09', 'r10', 'r08']],
  [undefined, ['end_time DESC'], {}, ['r09', 'r05', 'r02', 'r01', 'r04', 'r10', 'r08', 'r03']],
  [undefined, ['end_time'], {}, ['r04', 'r01', 'r02', 'r05', 'r09', 'r10', 'r08', 'r03']],
  [undefined, ['created ASC'], {}, ['r01', 'r02', 'r03', 'r09', 'r04', 'r05', 'r08', 'r10']],
  [undefined, ['tags.team'], {}, ['r04', 'r01', 'r05', 'r03', 'r08', 'r02', 'r10', 'r09']],
  ["user_id = 'ann'", ['run_name DESC'], {}, ['r10', 'r09', 'r05', 'r03', 'r01']],
  ["user_id = 'ann'", ['`Run Name`'], {}, ['r01', 'r03', 'r05', 'r09', 'r10']],
  // Pagination over the full order.
  [undefined, [], { offset: 2, limit: 3 }, ['r05', 'r04', 'r03']],
  [undefined, ['metrics.acc ASC'], { offset: 4, limit: 3 }, ['r05', 'r10', 'r08']],
  [undefined, ['metrics.acc DESC'], { offset: 7, limit: 3 }, ['r03']],
  [undefined, [], { offset: 8, limit: 5 }, []],
];

for (const backend of TEST_BACKENDS) {
  describe(`run search on ${backend}`, () => {
    let t: TestDb;
    before(async () => {
      t = await openTestDb(backend);
      await seed(t.db);
    });
    after(async () => {
      await t?.close();
    });

    for (const [filter, orderBy, extra, want] of CASES) {
      const label = `${filter ?? '(no filter)'} ORDER BY ${orderBy.join(', ') || 'default'}${Object.keys(extra).length ? ' ' + JSON.stringify(extra) : ''}`;
      it(label, async () => {
        const opts: RunSearchOptions = { ...BASE, filter, orderBy, ...extra };
        const rows = await buildRunSearchQuery(t.db, opts).execute();
        assert.deepEqual(
          rows.map((r) => r.run_id),
          want,
        );
        assert.deepEqual(
          (await searchRunRows(t.db, opts)).map((r) => r.run_id),
          want,
          'searchRunRows agrees',
        );
      });
    }

    it('selects every runs column', async () => {
      const [row] = await buildRunSearchQuery(t.db, { ...BASE, filter: "run_id = 'r03'" }).execute();
      assert.deepEqual(row, {
        run_pk: 3,
        run_id: 'r03',
        experiment_id: 1,
        project_id: 0,
        name: 'beta-1',
        user_id: 'ann',
        status: 'RUNNING',
        start_time: 1200,
        end_time: null,
        artifact_uri: 's3://bucket/r03',
        lifecycle_stage: 'active',
        deleted_time: null,
      });
    });

    it('answers a filter of as many comparisons as allowed (MAX_FILTER_COMPARISONS)', async () => {
      const many = Array.from({ length: 99 }, (_, i) => `params.lr = '${i}'`).join(' OR ');
      const rows = await buildRunSearchQuery(t.db, { ...BASE, filter: `${many} OR params.lr = '0.001'` }).execute();
      assert.deepEqual(
        rows.map((r) => r.run_id),
        ['r04'],
      );
    });

    it('binds every value as a parameter', () => {
      const q = buildRunSearchQuery(t.db, { ...BASE, filter: "tags.team = 'x'' OR 1=1 --' AND metrics.acc > 0.123", orderBy: ['params.`weird key`'] }).compile();
      assert.ok(!q.sql.includes('1=1') && !q.sql.includes('0.123') && !q.sql.includes('weird key'), q.sql);
      assert.ok(q.parameters.includes("x' OR 1=1 --") && q.parameters.includes(0.123) && q.parameters.includes('weird key'));
    });

    it('rejects a bad filter or order_by before building any SQL', () => {
      for (const opts of [{ filter: 'metrics.acc >' }, { orderBy: ['metrics.acc UP'] }, { filter: "datasets.size = 'x'" }]) {
        assert.throws(
          () => buildRunSearchQuery(t.db, { ...BASE, ...opts }),
          (e: unknown) => e instanceof KilnError && e.code === 'INVALID_PARAMETER_VALUE',
        );
      }
    });

    it('runs the deferred form on any database', async () => {
      const opts = { ...BASE, viewType: 'ALL' as const };
      const { rows } = await buildRunSearchQuery(opts, parseRunFilter('metrics.acc > 0.9'), parseRunOrderBy(['metrics.acc'])).execute(t.db);
      assert.deepEqual(
        rows.map((r) => r.run_id),
        ['r05', 'r06'],
      );
    });
  });

  describe(`run search plans agree on ${backend}`, () => {
    let t: TestDb;
    const ids: string[] = [];
    before(async () => {
      t = await openTestDb(backend);
      await addExperiments(t.db, [3]);
      const n = 600;
      for (let i = 0; i < n; i++) ids.push(`p${String(i).padStart(4, '0')}`);
      const runs = ids.map((run_id, i) => ({
        run_pk: i + 1,
        run_id,
        experiment_id: 3,
        name: run_id,
        user_id: 'u',
        status: 'FINISHED',
        start_time: 10_000 + (i % 97),
        end_time: null,
        artifact_uri: 'a',
        lifecycle_stage: i % 50 === 0 ? 'deleted' : 'active',
        deleted_time: null,
      }));
      // m: many ties (i % 37), a NaN for every 11th run, nothing for every 13th.
      const metrics = ids.flatMap((run_id, i) => (i % 13 === 0 ? [] : [{ run_id, key: 'm', value: i % 11 === 0 ? null : (i % 37) / 10, timestamp: 1, step: 0 }]));
      const params = ids.map((run_id, i) => ({ run_id, key: 'g', value: `g${i % 5}` }));
      for (let i = 0; i < runs.length; i += 200) await t.db.insertInto('runs').values(runs.slice(i, i + 200)).execute();
      for (let i = 0; i < metrics.length; i += 200) await t.db.insertInto('latest_metrics').values(metrics.slice(i, i + 200)).execute();
      for (let i = 0; i < params.length; i += 200) await t.db.insertInto('params').values(params.slice(i, i + 200)).execute();
    });
    after(async () => {
      await t?.close();
    });

    const cases: [string | undefined, string[], number, number][] = [
      ["params.g = 'g1'", ['metrics.m DESC'], 0, 20],
      ["params.g = 'g1'", ['metrics.m ASC'], 40, 30],
      ["params.g IN ('g1', 'g2') AND metrics.m > 0.5", ['metrics.m', 'params.g DESC'], 10, 25],
      [undefined, ['metrics.m DESC'], 0, 50],
      [undefined, ['metrics.m ASC'], 450, 100],
      ["params.g != 'g0'", [], 5, 40],
      ["params.g = 'g3' OR metrics.m IS NULL", ['start_time ASC'], 0, 60],
    ];
    for (const [filter, orderBy, offset, limit] of cases) {
      it(`${filter ?? '(no filter)'} ORDER BY ${orderBy.join(', ') || 'default'} OFFSET ${offset} LIMIT ${limit}`, async () => {
        const opts: RunSearchOptions = { experimentIds: [3], filter, orderBy, viewType: 'ACTIVE_ONLY', offset, limit };
        const want = (await buildRunSearchQuery(t.db, opts).execute()).map((r) => r.run_id);
        assert.ok(want.length > 0);
        assert.deepEqual(
          (await searchRunRows(t.db, opts)).map((r) => r.run_id),
          want,
        );
      });
    }
  });
}
