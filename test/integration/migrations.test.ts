import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { openStore, migrateToLatest, type KilnMigration, type MetadataStore } from '../../src/platform/db/index.js';
import { MIGRATIONS } from '../../src/migrations.js';
import { STORE_BACKENDS, freshStore } from '../support/backends.js';
import { call, startTestServer } from '../support/server.js';
import { checkLock, lockEntry, LOCK_PATH } from '../support/migration-lock.js';
import { describeSchemaDiff, introspect, readSnapshot, snapshotPath } from '../support/schema.js';
import { restoreRelease } from '../support/release-db.js';

const NAMES = MIGRATIONS.map((m) => m.name).sort();

/** The release whose databases are checked in (test/fixtures/db/README.md), and the migrations it shipped. */
const RELEASE_0_1_0 = {
  version: '0.1.0',
  migrations: ['0001_tracking', '0002_logged_models', '0003_logged_model_metrics_and_inputs', '0004_registry', '0005_data', '0006_promotions_and_webhooks'],
};

async function assertSchemaIsSnapshot(store: MetadataStore, kind: 'sqlite' | 'postgres'): Promise<void> {
  const diff = describeSchemaDiff(readSnapshot(kind), await introspect(store));
  assert.deepEqual(
    diff,
    [],
    `The schema differs from ${snapshotPath(kind)} (expected → actual):\n  ${diff.join('\n  ')}\n` +
      'If a new migration made this change on purpose, run `npm run db:snapshot` and commit the snapshots.',
  );
}

describe('migration lock', () => {
  it('has every migration locked, and none changed since it shipped', async () => {
    const check = await checkLock(MIGRATIONS);
    assert.deepEqual(
      check.missing,
      [],
      `Locked in ${LOCK_PATH} but gone from MIGRATIONS: a shipped migration is never removed or renamed (databases record its name).`,
    );
    assert.deepEqual(
      check.changed,
      [],
      'Shipped migrations must never be edited: databases that already ran them will not run them again. ' +
        'Restore the migration and add a new one (the next NNNN_ name) for the change.',
    );
    assert.deepEqual(
      check.unlocked.map((u) => u.name),
      [],
      'A migration has no entry in the lock: run `npm run db:snapshot` (it locks new migrations and rewrites the schema snapshots) and commit test/fixtures/db.',
    );
  });

  it('notices an edited, a renamed and a new migration', async () => {
    const original = MIGRATIONS.find((m) => m.name === '0002_logged_models')!;
    const edited: KilnMigration = {
      name: original.name,
      async up(db, adapter) {
        await original.up(db, adapter);
        await db.schema.createIndex('logged_models_name').on('logged_models').column('name').execute();
      },
    };
    // Against a lock of today's migrations, so this checks the mechanism whatever the checked-in lock says.
    const lock = Object.fromEntries(await Promise.all(MIGRATIONS.map(async (m) => [m.name, await lockEntry(m)] as const)));
    const others = MIGRATIONS.filter((m) => m !== original);
    let check = await checkLock([...others, edited], lock);
    assert.deepEqual(check.changed, [{ name: '0002_logged_models', dialects: ['sqlite', 'postgres'] }]);

    check = await checkLock([...others, { name: '0002_models_logged', up: original.up }], lock);
    assert.deepEqual(check.missing, ['0002_logged_models']);
    assert.deepEqual(
      check.unlocked.map((u) => u.name),
      ['0002_models_logged'],
    );
    assert.deepEqual(check.changed, []);
  });
});

describe('migration runner', () => {
  it('refuses malformed names, duplicates and reused numbers before touching the database', async () => {
    const store = await freshStore('sqlite');
    const meta = await openStore(store.uri);
    try {
      const noop = async () => undefined;
      await assert.rejects(migrateToLatest(meta, [...MIGRATIONS, { name: '7_events', up: noop }]), /Migration name '7_events' does not match NNNN_snake_case/);
      await assert.rejects(migrateToLatest(meta, [...MIGRATIONS, { name: '0007_Events', up: noop }]), /'0007_Events' does not match/);
      await assert.rejects(migrateToLatest(meta, [...MIGRATIONS, MIGRATIONS.find((m) => m.name === '0001_tracking')!]), /Migration '0001_tracking' is listed twice/);
      await assert.rejects(
        migrateToLatest(meta, [...MIGRATIONS, { name: '0004_events', up: noop }]),
        /Migrations '0004_registry' and '0004_events' have the same number: renumber the one not shipped yet/,
      );
      assert.deepEqual(await meta.db.introspection.getTables(), [], 'nothing was created');
    } finally {
      await meta.close();
      await store.drop();
    }
  });

  for (const backend of STORE_BACKENDS) {
    it(`reports a failing migration by name (${backend})`, async () => {
      const store = await freshStore(backend);
      const meta = await openStore(store.uri);
      try {
        await migrateToLatest(meta, MIGRATIONS);
        const broken: KilnMigration = {
          name: '0999_broken',
          async up(db) {
            await db.schema.createTable('half_done').addColumn('id', 'integer').execute();
            throw new Error('disk on fire');
          },
        };
        await assert.rejects(migrateToLatest(meta, [...MIGRATIONS, broken]), (e: any) => {
          assert.equal(e.name, 'KilnError');
          assert.equal(e.code, 'INTERNAL_ERROR');
          // SQLite runs migrations outside a transaction (see migrate.ts): the retries trip over the table the
          // first attempt left, and that is what the last attempt reports.
          assert.match(e.message, backend === 'postgres' ? /^Database migration 0999_broken failed: disk on fire$/ : /^Database migration 0999_broken failed: /);
          return true;
        });
        const tables = (await meta.db.introspection.getTables()).map((t) => t.name);
        if (backend === 'postgres') assert.ok(!tables.includes('half_done'), 'the failed migration was rolled back');
        const report = await migrateToLatest(meta, MIGRATIONS);
        assert.deepEqual(report.current, NAMES, 'the failed migration is not recorded');
      } finally {
        await meta.close();
        await store.drop();
      }
    });
  }
});

for (const backend of STORE_BACKENDS) {
  describe(`database schema on ${backend}`, () => {
    it('migrates an empty database to the checked-in schema, and a second run changes nothing', async () => {
      const store = await freshStore(backend);
      const meta = await openStore(store.uri);
      try {
        // Given in reverse: the runner orders by name, whatever order the capabilities' lists come in.
        const first = await migrateToLatest(meta, [...MIGRATIONS].reverse());
        assert.deepEqual(first.applied, NAMES);
        assert.deepEqual(first.current, NAMES);
        await assertSchemaIsSnapshot(meta, backend);

        const again = await migrateToLatest(meta, MIGRATIONS);
        assert.deepEqual(again.applied, []);
        assert.deepEqual(again.current, NAMES);
        await assertSchemaIsSnapshot(meta, backend);
      } finally {
        await meta.close();
        await store.drop();
      }
    });

    it(`upgrades a database made by release ${RELEASE_0_1_0.version} in place and serves its data`, async () => {
      const store = await restoreRelease(RELEASE_0_1_0.version, backend);
      let ts: Awaited<ReturnType<typeof startTestServer>> | undefined;
      const receiver = await startReceiver();
      try {
        const meta = await openStore(store.uri);
        try {
          const report = await migrateToLatest(meta, MIGRATIONS);
          assert.deepEqual(
            report.applied,
            NAMES.filter((n) => !RELEASE_0_1_0.migrations.includes(n)),
            'only the migrations added since the release run',
          );
          assert.deepEqual(report.current, NAMES);
          await assertSchemaIsSnapshot(meta, backend);
        } finally {
          await meta.close();
        }

        ts = await startTestServer({ store: backend, storeUri: store.uri, webhookAllowedHosts: '127.0.0.1' });
        const url = ts.url;
        const v1 = (method: string, path: string, body?: unknown, user = 'ana') => call(url, method, `/api/v1${path}`, body, { 'x-kiln-user': user });
        const ok = async (method: string, path: string, body?: unknown, user?: string) => {
          const r = await v1(method, path, body, user);
          assert.ok(r.status >= 200 && r.status < 300, `${method} ${path}: ${r.status} ${r.text}`);
          return r.body;
        };

        // Tracking: the experiment, its runs with params, tags, metric history and dataset input.
        const exp = (await ok('GET', '/experiments/by-name/weather-forecast')).experiment;
        assert.equal(exp.tags.team, 'forecasting');
        const runs = (await ok('POST', '/runs/search', { experiment_ids: [exp.experiment_id], order_by: ['attributes.run_name ASC'] })).runs;
        assert.deepEqual(
          runs.map((r: any) => r.run_name),
          ['baseline', 'candidate'],
        );
        const baseline = (await ok('GET', `/runs/${runs[0].run_id}`)).run;
        assert.equal(baseline.status, 'FINISHED');
        assert.deepEqual(baseline.params, { epochs: '3', lr: '0.01' });
        assert.equal(baseline.tags.model, 'linear');
        assert.equal(baseline.tags.stage, 'baseline');
        assert.equal(baseline.metrics.val_accuracy.value, 0.91);
        const history = await ok('GET', `/runs/${baseline.run_id}/metric-history?key=loss`);
        assert.deepEqual(history.steps, [0, 1, 2]);
        assert.deepEqual(history.values, [0.9, 0.5, 0.3]);
        assert.deepEqual(history.timestamps, [1_767_225_600_000, 1_767_225_601_000, 1_767_225_602_000]);
        assert.deepEqual(
          baseline.dataset_inputs.map((d: any) => [d.name, d.source, d.tags['mlflow.data.context']]),
          [['weather', 'kiln://datasets/weather/v1', 'training']],
        );

        // The logged model (MLflow 3 API) with its param, tag and metric.
        const models = (await call(url, 'POST', '/api/2.0/mlflow/logged-models/search', { experiment_ids: [exp.experiment_id] })).body.models;
        assert.equal(models.length, 1);
        assert.equal(models[0].info.name, 'weather-linear');
        assert.equal(models[0].info.status, 'LOGGED_MODEL_READY');
        assert.deepEqual(
          models[0].data.metrics.map((m: any) => [m.key, m.value]),
          [['holdout_rmse', 1.25]],
        );

        // Data: both versions, and the validation of v2.
        const versions = (await ok('GET', '/datasets/weather/versions')).versions;
        assert.deepEqual(versions.map((v: any) => v.version).sort(), [1, 2]);
        const d2 = (await ok('GET', '/datasets/weather/versions/2')).version;
        assert.equal(d2.rows, 40);
        const validations = (await ok('GET', '/datasets/weather/versions/2/validations')).validations;
        assert.equal(validations.length, 1);
        assert.equal(validations[0].schema_ref, 'weather@v1');

        // Registry: both versions READY from the runs' ONNX models, the alias, the pending promotion.
        const mv = (await ok('GET', '/models/forecaster/versions')).versions;
        assert.deepEqual(mv.map((v: any) => [v.version, v.status]).sort(), [
          [1, 'READY'],
          [2, 'READY'],
        ]);
        const champion = (await ok('GET', '/models/forecaster/aliases/champion')).version;
        assert.equal(champion.version, 1);
        assert.equal(champion.run_id, baseline.run_id);
        assert.equal(champion.package.onnx.inputs[0].name, 'x');
        const pending = (await ok('GET', '/models/forecaster/promotions')).requests;
        assert.deepEqual(
          pending.map((q: any) => [q.version, q.alias, q.status]),
          [[2, 'production', 'PENDING_APPROVAL']],
        );

        // Lineage across capabilities: model version ← run ← data version (by digest).
        const lineage = await ok('GET', `/lineage?node=${encodeURIComponent('models:/forecaster/1')}&direction=up&depth=3`);
        const ids = lineage.nodes.map((n: any) => n.id);
        assert.ok(ids.includes(`runs:/${baseline.run_id}`), JSON.stringify(ids));
        assert.ok(ids.includes('datasets:/weather/1'), JSON.stringify(ids));

        // Webhooks: the webhook and its delivery log.
        const hooks = (await ok('GET', '/webhooks')).webhooks;
        assert.deepEqual(
          hooks.map((h: any) => [h.name, h.status, h.has_secret]),
          [['audit', 'ACTIVE', true]],
        );
        const deliveries = (await ok('GET', `/webhooks/${hooks[0].id}/deliveries`)).deliveries;
        assert.ok(deliveries.length > 0);
        assert.ok(deliveries.every((d: any) => d.status === 'SUCCEEDED'));
        assert.ok(deliveries.some((d: any) => d.event_kind === 'promotion_requested'));

        // Writes continue where the release left off (ids from the restored sequences, the gate, the webhook).
        await ok('PATCH', `/webhooks/${hooks[0].id}`, { url: receiver.url });
        const approved = await ok('POST', `/models/forecaster/promotions/${pending[0].id}/approve`, { reason: 'checked after the upgrade' }, 'bo');
        assert.equal(approved.status, 'PROMOTED', JSON.stringify(approved));
        assert.equal((await ok('GET', '/models/forecaster/aliases/production')).version.version, 2);
        const run = (await ok('POST', '/runs', { experiment_id: exp.experiment_id, run_name: 'after-upgrade' })).run;
        await ok('POST', `/runs/${run.run_id}/log`, { metrics: [{ key: 'loss', value: 0.1, step: 0 }] });
        assert.equal((await ok('POST', '/runs/count', { experiment_ids: [exp.experiment_id] })).count, 3);
        await ok('POST', '/experiments', { name: 'after-upgrade' });
        await until('the approval to reach the webhook', () => {
          const got = receiver.kinds();
          return got.includes('promotion_approved') && got.includes('alias_set') ? got : undefined;
        });
      } finally {
        await ts?.stop();
        await receiver.stop();
        await store.drop();
      }
    });
  });
}

/** A webhook receiver on 127.0.0.1 that records the event kinds it is sent. */
async function startReceiver() {
  const kinds: string[] = [];
  const server = createHttpServer((req, res) => {
    req.resume();
    req.on('end', () => {
      kinds.push(String(req.headers['x-kiln-event']));
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    kinds: () => [...kinds],
    stop: () => new Promise<void>((r) => server.close(() => r())),
  };
}

async function until<T>(what: string, fn: () => T | undefined, timeoutMs = 15_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
