import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { openStore, migrateToLatest, type MetadataStore } from '../../src/platform/db/index.js';
import { MIGRATIONS } from '../../src/migrations.js';
import type { TrackingTables } from '../../src/tracking/tables.js';
import { parseFilter, parseOrderBy } from '../../src/platform/search/index.js';
import { RUN_GRAMMAR, buildRunSearchQuery, searchRunRows } from '../../src/tracking/search/index.js';
import { seedSearchCorpus } from '../../bench/tracking/seed.js';
import { STORE_BACKENDS, freshStore, type TestStore } from '../support/backends.js';

/** The order-first plan must return exactly what the filter-first plan returns, page by page. */
for (const backend of STORE_BACKENDS) {
  describe(`run search plans agree on ${backend}`, () => {
    let test: TestStore;
    let store: MetadataStore;
    let exp = 0;
    before(async () => {
      test = await freshStore(backend);
      store = await openStore(test.uri);
      await migrateToLatest(store, MIGRATIONS);
      exp = Number((await seedSearchCorpus(store, 6000)).experimentId);
      // Ties and missing values around the candidate threshold.
      await store.db.withTables<TrackingTables>().updateTable('latest_metrics').set({ value: 0.5 }).where('key', '=', 'm1').where('value', '>', 0.49).where('value', '<', 0.51).execute();
      await store.db.withTables<TrackingTables>().deleteFrom('latest_metrics').where('key', '=', 'm2').where('value', '<', 0.05).execute();
      await store.db.withTables<TrackingTables>().updateTable('runs').set({ start_time: 1 }).where('name', 'like', 'run-1%').execute();
    });
    after(async () => {
      await store?.close();
      await test?.drop();
    });

    const cases: [string | undefined, string[], number, number][] = [
      ["metrics.m0 > 0.5 and params.lr = '0.01'", ['metrics.m1 DESC'], 0, 101],
      ["metrics.m0 > 0.5 and params.lr = '0.01'", ['metrics.m1 DESC'], 300, 51],
      ['metrics.m0 > 0.2', ['metrics.m1 ASC'], 0, 201],
      ['metrics.m0 > 0.2', ['metrics.m1 ASC', 'params.p1 DESC'], 1500, 101],
      ["tags.team = 'nlp'", ['metrics.m2 DESC'], 2800, 101],
      ["tags.team = 'nlp'", ['metrics.m2 ASC'], 2900, 101],
      [undefined, ['params.p2 DESC'], 0, 101],
      ["params.lr = '0.001' OR metrics.m3 < 0.1", [], 0, 101],
      ["params.lr = '0.001' OR metrics.m3 < 0.1", ['start_time ASC'], 0, 101],
      ["params.lr = '0.001'", [], 1000, 101],
      ['metrics.m4 > 0.9999', ['metrics.m1 DESC'], 0, 101],
      ['metrics.m2 IS NULL', ['tags.team ASC'], 0, 101],
      [undefined, [], 5950, 101],
    ];
    for (const [filter, orderBy, offset, limit] of cases) {
      it(`${filter ?? '(no filter)'} ORDER BY ${orderBy.join(', ') || 'default'} OFFSET ${offset}`, async () => {
        const opts = { experimentIds: [exp], filter, orderBy, viewType: 'ACTIVE_ONLY' as const, offset, limit };
        const got = (await searchRunRows(store.db.withTables<TrackingTables>(), opts)).map((r) => r.run_id);
        const want = (await buildRunSearchQuery(opts, parseFilter(filter, RUN_GRAMMAR), parseOrderBy(orderBy, RUN_GRAMMAR)).execute(store.db.withTables<TrackingTables>())).rows.map((r) => r.run_id);
        assert.ok(want.length > 0 || filter?.includes('0.9999'), 'the case selects something');
        assert.deepEqual(got, want);
      });
    }
  });
}
