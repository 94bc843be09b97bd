import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { diffRows, makeAxis, rampColor } from './compare.js';

const run = (id: string, params: Record<string, string>, metrics: Record<string, unknown>, tags: Record<string, string> = {}) => ({
  run_id: id,
  params,
  tags,
  metrics: Object.fromEntries(Object.entries(metrics).map(([k, v]) => [k, { value: v }])),
});

describe('compare', () => {
  it('lines runs up and marks rows that differ', () => {
    const rows = diffRows([run('a', { lr: '0.1', opt: 'adam' }, { loss: 0.5, acc: 'NaN' }, { team: 'x', 'mlflow.user': 'u' }), run('b', { lr: '0.2', opt: 'adam' }, { loss: 0.5, acc: 'NaN' }, { team: 'x' })]);
    const byKey = Object.fromEntries(rows.map((r) => [`${r.section}:${r.key}`, r]));
    assert.equal(byKey['param:lr']!.differs, true);
    assert.equal(byKey['param:opt']!.differs, false);
    assert.equal(byKey['metric:loss']!.differs, false);
    assert.equal(byKey['metric:acc']!.differs, false, 'NaN equals NaN here');
    assert.equal(byKey['tag:team']!.differs, false);
    assert.equal(byKey['tag:mlflow.user'], undefined, 'system tags hidden unless asked');
    const withSys = diffRows([run('a', {}, {}, { 'mlflow.user': 'u' }), run('b', {}, {})], { systemTags: true });
    assert.deepEqual(withSys[0]!.values, ['u', undefined]);
    assert.equal(withSys[0]!.differs, true);
  });

  it('builds numeric and categorical axes', () => {
    const n = makeAxis('lr', ['0.1', '0.3', undefined]);
    assert.equal(n.kind, 'numeric');
    assert.equal(n.pos('0.1'), 0);
    assert.equal(n.pos('0.3'), 1);
    assert.equal(n.pos(undefined), null);
    const c = makeAxis('opt', ['sgd', 'adam', 'sgd']);
    assert.equal(c.kind, 'categorical');
    assert.deepEqual(c.categories, ['adam', 'sgd']);
    assert.equal(c.pos('sgd'), 1);
    assert.equal(makeAxis('k', ['5', '5']).pos('5'), 0.5);
  });

  it('colours along a ramp', () => {
    assert.equal(rampColor(0), 'rgb(37, 99, 235)');
    assert.equal(rampColor(1), 'rgb(220, 38, 38)');
    assert.equal(rampColor(null), '#888888');
  });
});
