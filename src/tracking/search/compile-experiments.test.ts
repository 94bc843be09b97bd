import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { KilnError } from '../../platform/errors.js';
import { buildExperimentSearchQuery, searchExperimentRows, type ExperimentSearchOptions } from './compile-experiments.js';
import { TEST_BACKENDS, openTestDb, type TestDb } from './search-test-db.js';

// id, name, lifecycle stage, creation time, last update time
const EXPERIMENTS: [number, string, string, number, number][] = [
  [1, 'search-a', 'active', 100, 500],
  [2, 'search-B', 'active', 200, 400],
  [3, 'other', 'active', 300, 300],
  [4, 'search-c', 'deleted', 200, 600],
  [5, "it's", 'active', 50, 50],
];
const TAGS: [number, string, string][] = [
  [1, 'owner', 'ann'],
  [2, 'owner', 'bob'],
  [2, 'team', 'nlp'],
  [4, 'owner', 'ann'],
];

const BASE: ExperimentSearchOptions = { viewType: 'ACTIVE_ONLY', offset: 0, limit: 100 };

/** [filter, order_by, other options, experiment ids expected in order]. */
const CASES: [string | undefined, string[], Partial<ExperimentSearchOptions>, number[]][] = [
  [undefined, [], {}, [3, 2, 1, 5]],
  [undefined, [], { viewType: 'ALL' }, [3, 2, 4, 1, 5]],
  [undefined, [], { viewType: 'DELETED_ONLY' }, [4]],
  ["name LIKE 'search-%'", [], {}, [2, 1]],
  ["name LIKE 'search-b'", [], {}, []],
  ["name ILIKE 'SEARCH-b'", [], {}, [2]],
  ["attributes.name = 'it''s'", [], {}, [5]],
  ["name != 'other'", [], {}, [2, 1, 5]],
  ["name IN ('other', 'search-a', 'nope')", [], {}, [3, 1]],
  ['creation_time >= 200', [], {}, [3, 2]],
  ['creation_time > 150.5', [], {}, [3, 2]],
  ['creation_time = 100.5', [], {}, []],
  ['last_update_time < 450', [], {}, [3, 2, 5]],
  ["tags.owner = 'ann'", [], {}, [1]],
  ["tags.owner = 'ann'", [], { viewType: 'ALL' }, [4, 1]],
  ["tags.owner != 'ann'", [], {}, [2]],
  ["tags.owner IN ('ann', 'bob')", [], {}, [2, 1]],
  ["tags.owner ILIKE 'A%'", [], {}, [1]],
  ['tags.team IS NULL', [], {}, [3, 1, 5]],
  ['tags.team IS NOT NULL', [], {}, [2]],
  ["name = 'other' OR tags.owner = 'bob'", [], {}, [3, 2]],
  ["(name = 'other' OR tags.owner = 'bob') AND creation_time < 250", [], {}, [2]],
  // The filter's OR must not escape the view type condition.
  ["name = 'other' OR tags.owner = 'ann'", [], { viewType: 'DELETED_ONLY' }, [4]],
  ["experiment_id = '2'", [], {}, [2]],
  [undefined, ['name'], {}, [5, 3, 2, 1]],
  [undefined, ['name DESC'], {}, [1, 2, 3, 5]],
  [undefined, ['creation_time ASC'], { viewType: 'ALL' }, [5, 1, 2, 4, 3]],
  [undefined, ['creation_time DESC'], { viewType: 'ALL' }, [3, 2, 4, 1, 5]],
  [undefined, ['last_update_time DESC'], {}, [1, 2, 3, 5]],
  [undefined, ['experiment_id DESC'], {}, [5, 3, 2, 1]],
  [undefined, ['attributes.experiment_id'], {}, [1, 2, 3, 5]],
  [undefined, [], { offset: 1, limit: 2 }, [2, 1]],
  [undefined, ['name'], { offset: 3, limit: 2 }, [1]],
  // One project's (every experiment here is in the default project, 0).
  [undefined, [], { projectId: 0 }, [3, 2, 1, 5]],
  ["name LIKE 'search-%'", [], { projectId: 0 }, [2, 1]],
  [undefined, [], { projectId: 7 }, []],
];

for (const backend of TEST_BACKENDS) {
  describe(`experiment search on ${backend}`, () => {
    let t: TestDb;
    before(async () => {
      t = await openTestDb(backend);
      await t.db
        .insertInto('experiments')
        .values(EXPERIMENTS.map(([experiment_id, name, lifecycle_stage, creation_time, last_update_time]) => ({ experiment_id, name, artifact_location: `a/${experiment_id}`, lifecycle_stage, creation_time, last_update_time })))
        .execute();
      await t.db.insertInto('experiment_tags').values(TAGS.map(([experiment_id, key, value]) => ({ experiment_id, key, value }))).execute();
    });
    after(async () => {
      await t?.close();
    });

    for (const [filter, orderBy, extra, want] of CASES) {
      const label = `${filter ?? '(no filter)'} ORDER BY ${orderBy.join(', ') || 'default'}${Object.keys(extra).length ? ' ' + JSON.stringify(extra) : ''}`;
      it(label, async () => {
        const rows = await searchExperimentRows(t.db, { ...BASE, filter, orderBy, ...extra });
        assert.deepEqual(
          rows.map((r) => r.experiment_id),
          want,
        );
      });
    }

    it('selects every experiments column', async () => {
      const rows = await buildExperimentSearchQuery(t.db, { ...BASE, filter: "name = 'other'" }).execute();
      assert.deepEqual(rows, [{ experiment_id: 3, name: 'other', artifact_location: 'a/3', lifecycle_stage: 'active', creation_time: 300, last_update_time: 300, project_id: 0 }]);
    });

    it('rejects a bad filter or order_by before building any SQL', () => {
      for (const opts of [{ filter: "name = 'x' AND" }, { filter: 'metrics.a > 1' }, { orderBy: ['tags.owner'] }, { orderBy: ['name SIDEWAYS'] }]) {
        assert.throws(
          () => buildExperimentSearchQuery(t.db, { ...BASE, ...opts }),
          (e: unknown) => e instanceof KilnError && e.code === 'INVALID_PARAMETER_VALUE',
        );
      }
    });
  });
}
