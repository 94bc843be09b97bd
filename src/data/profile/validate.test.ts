import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isKilnError } from '../../platform/errors.js';
import { diffProfiles, inferSchema, parseSchema, profileSources, validateProfile, type AnomalyType, type DatasetProfile } from './index.js';
import { memSource } from './test-support.js';
import { mulberry32 } from './sketch.js';

/** A 400-row table: integer age, float score, categorical color, boolean flag, datetime day, string name. */
function table(opts: { shift?: number; colors?: string[]; missingScore?: number; seed?: number; rows?: number } = {}): string {
  const rnd = mulberry32(opts.seed ?? 1);
  const colors = opts.colors ?? ['red', 'green', 'blue'];
  const lines = ['age,score,color,flag,day,name'];
  for (let i = 0; i < (opts.rows ?? 400); i++) {
    const score = rnd() < (opts.missingScore ?? 0) ? '' : (rnd() * 10 + (opts.shift ?? 0)).toFixed(3);
    lines.push([20 + (i % 50), score, colors[i % colors.length], i % 2 ? 'true' : 'false', `2024-01-${String(1 + (i % 28)).padStart(2, '0')}`, `n${i}`].join(','));
  }
  return lines.join('\n') + '\n';
}

const profile = (text: string): Promise<DatasetProfile> => profileSources([memSource('t.csv', 'csv', text, 4096)]);
const types = (r: { anomalies: { type: AnomalyType; column: string | null }[] }) => r.anomalies.map((a) => `${a.type}:${a.column}`).sort();

test('inferSchema and parseSchema round-trip; a clean dataset validates with no anomalies', async () => {
  const base = await profile(table());
  const schema = inferSchema(base);
  assert.deepEqual(schema.columns.map((c) => [c.name, c.type]), [
    ['age', 'integer'],
    ['score', 'float'],
    ['color', 'categorical'],
    ['flag', 'boolean'],
    ['day', 'datetime'],
    ['name', 'string'],
  ]);
  assert.deepEqual(schema.columns[2]!.categories, ['blue', 'green', 'red']);
  // observed 20..69, widened by 10% of the range on each side
  assert.equal(schema.columns[0]!.min, 15);
  assert.equal(schema.columns[0]!.max, 74);
  assert.equal(schema.columns[4]!.min, undefined);
  assert.deepEqual(parseSchema(JSON.parse(JSON.stringify(schema))), schema);
  const same = await profileSources([memSource('t.csv', 'csv', table(), 97)]);
  const report = validateProfile(same, schema, { baseline: base });
  assert.deepEqual(report.anomalies, []);
  assert.equal(report.ok, true);
  assert.equal(report.statistics.columns_checked, 6);
  // Another sample of the same distribution passes the inferred schema: no drift, no missing-rate jump, in range.
  const again = await profile(table({ seed: 2 }));
  assert.deepEqual(validateProfile(again, schema, { baseline: base }).anomalies, []);
});

test('each anomaly type comes from a crafted case', async () => {
  const base = await profile(table());
  const schema = inferSchema(base);
  // shifted scores, a new color, missing scores, ages outside the range
  const text = table({ shift: 30, colors: ['red', 'green', 'blue', 'purple'], missingScore: 0.3 }).replace(/\n20,/g, '\n5,');
  const cur = await profile(text);
  const r = validateProfile(cur, { ...schema, columns: schema.columns.map((c) => (c.name === 'score' ? { ...c, nullable: false } : c)) }, { baseline: base });
  assert.equal(r.ok, false);
  assert.deepEqual(types(r), [
    'DISTRIBUTION_DRIFT:color',
    'DISTRIBUTION_DRIFT:score',
    'MISSING_RATE_JUMP:score',
    'OUT_OF_RANGE:age',
    'OUT_OF_RANGE:score',
    'UNEXPECTED_NULLS:score',
    'UNSEEN_CATEGORIES:color',
  ]);
  const unseen = r.anomalies.find((a) => a.type === 'UNSEEN_CATEGORIES')!;
  assert.match(unseen.message, /"purple" \(100\)/);
  assert.equal(unseen.severity, 'ERROR');
  const age = r.anomalies.find((a) => a.type === 'OUT_OF_RANGE' && a.column === 'age')!;
  assert.match(age.message, /minimum 5 is below 15/);
  const drift = r.anomalies.find((a) => a.type === 'DISTRIBUTION_DRIFT' && a.column === 'score')!;
  assert.ok((drift.details.js_divergence as number) > 0.9);
  assert.equal(drift.severity, 'WARNING');

  // columns missing, new, retyped; no rows
  const other = await profile('age,score,extra\nold,1.5,1\n');
  const r2 = validateProfile(other, schema);
  assert.deepEqual(types(r2).filter((t) => !t.startsWith('MISSING_COLUMN')), ['NEW_COLUMN:extra', 'TYPE_MISMATCH:age']);
  assert.equal(r2.anomalies.filter((a) => a.type === 'MISSING_COLUMN').length, 4);
  const empty = await profile('age,score,color,flag,day,name\n');
  assert.deepEqual(types(validateProfile(empty, schema)), ['NO_ROWS:null']);
});

test('type compatibility: integer data fits a float schema, float data does not fit integer', async () => {
  const p = await profile('a,b\n1,1.5\n2,2.5\n');
  const r = validateProfile(p, parseSchema({ columns: [{ name: 'a', type: 'float' }, { name: 'b', type: 'integer' }] }));
  assert.deepEqual(types(r), ['TYPE_MISMATCH:b']);
  assert.match(r.anomalies[0]!.message, /expected integer, the data is float/);
});

test('parseSchema rejects malformed schemas naming the path', () => {
  const bad: [unknown, RegExp][] = [
    [42, /schema \(root\): expected an object/],
    [{ columns: {} }, /schema columns: expected an array/],
    [{ columns: [{ name: 'a', type: 'integer' }, { name: 'b', type: 'int' }] }, /schema columns\[1\]\.type: expected one of integer, float, boolean, datetime, categorical, string, got "int"/],
    [{ columns: [{ name: '', type: 'string' }] }, /columns\[0\]\.name: expected a non-empty string/],
    [{ columns: [{ name: 'a', type: 'string' }, { name: 'a', type: 'string' }] }, /columns\[1\]\.name: duplicate column name "a"/],
    [{ columns: [{ name: 'a', type: 'integer', min: 'x' }] }, /columns\[0\]\.min: expected a finite number/],
    [{ columns: [{ name: 'a', type: 'integer', min: 5, max: 1 }] }, /columns\[0\]\.min: min 5 is greater than max 1/],
    [{ columns: [{ name: 'a', type: 'categorical', categories: ['x', 3] }] }, /columns\[0\]\.categories\[1\]: expected a string/],
    [{ columns: [{ name: 'a', type: 'string', nullable: 'no' }] }, /columns\[0\]\.nullable: expected true or false/],
    [{ columns: [{ name: 'a', type: 'string', colour: 1 }] }, /columns\[0\]\.colour: unknown field/],
    [{ columns: [{ name: 'a', type: 'datetime', max: 'soon' }] }, /columns\[0\]\.max: expected an ISO 8601/],
  ];
  for (const [json, re] of bad) {
    assert.throws(() => parseSchema(json), (e: unknown) => isKilnError(e) && e.code === 'INVALID_PARAMETER_VALUE' && re.test(e.message), String(re));
  }
});

test('diffProfiles reports rows, added/removed/retyped columns, numeric deltas and JS divergence', async () => {
  const a = await profile(table());
  const b = await profile(table({ shift: 5, rows: 500 }).replace('age,score,color,flag,day,name', 'age,score,color,flag,day,nick'));
  const d = diffProfiles(a, b);
  assert.deepEqual(d.rows, { a: 400, b: 500, delta: 100 });
  assert.deepEqual(d.added_columns, ['nick']);
  assert.deepEqual(d.removed_columns, ['name']);
  const score = d.columns.find((c) => c.name === 'score')!;
  assert.equal(score.status, 'changed');
  assert.ok(Math.abs(score.mean!.delta! - 5) < 0.5, `mean delta ${score.mean!.delta}`);
  assert.ok(score.js_divergence! > 0.2);
  assert.ok(Math.abs(score.quantiles!['0.5']!.delta! - 5) < 0.6);
  const same = diffProfiles(a, a);
  assert.ok(same.columns.every((c) => c.status === 'unchanged' && (c.js_divergence ?? 0) === 0));
  const typed = diffProfiles(await profile('x\n1\n2\n'), await profile('x\n1.5\n2\n'));
  assert.equal(typed.columns[0]!.type_changed, true);
  assert.deepEqual(JSON.parse(JSON.stringify(d)), d, 'plain JSON');
});
