import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { defaultColumns, groupFilter, orderBy, readView, writeView, type RunsView } from './runs-view.js';

describe('runs view in the URL', () => {
  it('round-trips filter, sort, columns, group and selection', () => {
    const v: RunsView = {
      filter: "params.lr = '0.1'",
      sort: { field: 'metrics.val loss', asc: false },
      columns: [{ entity: 'metrics', key: 'val loss' }, { entity: 'params', key: 'a,b' }],
      groupBy: { entity: 'tags', key: 'team' },
      selected: ['r1', 'r2'],
    };
    const q = writeView(v);
    assert.deepEqual(readView(new URLSearchParams(q.toString())), v);
  });

  it('tells an explicitly empty column choice from none', () => {
    assert.equal(readView(new URLSearchParams('')).columns, undefined);
    assert.deepEqual(readView(writeView({ filter: '', columns: [], selected: [] })).columns, []);
  });

  it('builds order_by and per-group filters with quoting', () => {
    assert.deepEqual(orderBy({ field: 'metrics.val loss', asc: true }), ['metrics.`val loss` ASC']);
    assert.deepEqual(orderBy({ field: 'start_time', asc: false }), ['start_time DESC']);
    assert.equal(orderBy(undefined), undefined);
    assert.equal(groupFilter('', { entity: 'params', key: 'lr' }, "it's"), "params.lr = 'it''s'");
    assert.equal(groupFilter('metrics.a > 1 OR metrics.b > 1', { entity: 'params', key: 'lr' }, null), '(metrics.a > 1 OR metrics.b > 1) AND params.lr IS NULL');
  });

  it('defaults to every metric when there are few, else a few metrics; then a few params', () => {
    const ids = (k: { metrics: string[]; params: string[] }) => defaultColumns(k).map((c) => `${c.entity}.${c.key}`);
    assert.deepEqual(ids({ metrics: ['a', 'b', 'c', 'd', 'e'], params: ['p'] }), ['metrics.a', 'metrics.b', 'metrics.c', 'metrics.d', 'metrics.e', 'params.p']);
    assert.deepEqual(ids({ metrics: ['a', 'b', 'c', 'd', 'e', 'f', 'g'], params: ['p', 'q', 'r', 's'] }), ['metrics.a', 'metrics.b', 'metrics.c', 'metrics.d', 'params.p', 'params.q', 'params.r']);
  });
});
