import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { isKilnError } from '../../platform/errors.js';
import { formatFromName, profileSources } from './index.js';
import { col, memSource } from './test-support.js';

const close = (a: number | null | undefined | string, b: number, eps = 1e-9) => assert.ok(typeof a === 'number' && Math.abs(a - b) <= eps, `${a} ≈ ${b}`);

test('formatFromName maps extensions case-insensitively', () => {
  assert.equal(formatFromName('a/b/Data.CSV'), 'csv');
  assert.equal(formatFromName('x.tsv'), 'csv');
  assert.equal(formatFromName('x.ndjson'), 'jsonl');
  assert.equal(formatFromName('x.JSONL'), 'jsonl');
  assert.equal(formatFromName('x.json'), 'json');
  assert.equal(formatFromName('part-0.parquet'), 'parquet');
  assert.equal(formatFromName('notes.txt'), undefined);
  assert.equal(formatFromName('csv'), undefined);
});

const CSV = [
  'id,price,flag,when,color,note,mixed',
  '1,1.5,true,2024-01-01,red,hello,1',
  '2,2.5,False,2024-01-02T10:00:00Z,red,"a, quoted",2',
  '3,,TRUE,2024-03-01 08:30:00,blue,NA,x',
  '4,4,false,,red,"multi',
  'line",3',
  '',
].join('\n');

test('CSV: exact statistics, type inference, missing values, quoted fields', async () => {
  const p = await profileSources([memSource('t.csv', 'csv', CSV)], { categoricalRatio: 1 });
  assert.equal(p.format, 'csv');
  assert.equal(p.rows, 4);
  assert.deepEqual(p.columns.map((c) => [c.name, c.type]), [
    ['id', 'integer'],
    ['price', 'float'],
    ['flag', 'boolean'],
    ['when', 'datetime'],
    ['color', 'categorical'],
    ['note', 'string'],
    ['mixed', 'string'],
  ]);
  const id = col(p, 'id');
  assert.equal(id.count, 4);
  assert.equal(id.missing, 0);
  assert.equal(id.min, 1);
  assert.equal(id.max, 4);
  close(id.mean, 2.5);
  close(id.std, Math.sqrt(1.25));
  assert.equal(id.distinct, 4);
  assert.equal(id.distinct_exact, true);
  assert.equal(id.quantiles!['0.5'], 2);
  assert.equal(id.quantiles!['0.99'], 4);
  assert.equal(id.cdf!.length, 101);
  assert.deepEqual(id.histogram!.counts.reduce((a, b) => a + b, 0), 4);
  const price = col(p, 'price');
  assert.equal(price.missing, 1);
  close(price.mean, 8 / 3);
  close(price.std, Math.sqrt(((1.5 - 8 / 3) ** 2 + (2.5 - 8 / 3) ** 2 + (4 - 8 / 3) ** 2) / 3));
  assert.equal(price.nan_count, 0);
  const flag = col(p, 'flag');
  assert.equal(flag.true_count, 2);
  assert.equal(flag.false_count, 2);
  const when = col(p, 'when');
  assert.equal(when.missing, 1);
  assert.equal(when.min, '2024-01-01T00:00:00.000Z');
  assert.equal(when.max, '2024-03-01T08:30:00.000Z');
  const color = col(p, 'color');
  assert.deepEqual(color.top, [
    { value: 'red', count: 3 },
    { value: 'blue', count: 1 },
  ]);
  assert.deepEqual(color.categories, [
    { value: 'blue', count: 1 },
    { value: 'red', count: 3 },
  ]);
  const note = col(p, 'note');
  assert.equal(note.missing, 1, 'NA is missing');
  assert.equal(note.count, 3);
  assert.equal(note.max_length, 'multi\nline'.length);
  assert.equal(note.min_length, 5);
  assert.ok(note.top!.some((t) => t.value === 'multi\nline'));
  const mixed = col(p, 'mixed');
  assert.equal(mixed.type, 'string', 'a non-numeric value turns an integer column into string');
  assert.equal(mixed.count, 4);
  assert.equal(mixed.distinct, 4);
  assert.equal(p.sources[0]!.bytes, Buffer.byteLength(CSV));
});

test('CSV: integer+float → float; NaN/inf counted apart; 0/1 is not boolean; header-only file is 0 rows', async () => {
  const p = await profileSources([memSource('n.csv', 'csv', 'a,b,c\n1,0,x\n2.5,1,y\nNaN,1,z\ninf,0,w\n')]);
  const a = col(p, 'a');
  assert.equal(a.type, 'float');
  assert.equal(a.nan_count, 1);
  assert.equal(a.inf_count, 1);
  assert.equal(a.count, 4);
  close(a.mean, 1.75);
  assert.equal(col(p, 'b').type, 'integer');
  const empty = await profileSources([memSource('h.csv', 'csv', 'x,y\n')]);
  assert.equal(empty.rows, 0);
  assert.deepEqual(empty.columns.map((c) => [c.name, c.count]), [
    ['x', 0],
    ['y', 0],
  ]);
});

test('TSV and unicode column names and values', async () => {
  const p = await profileSources([memSource('u.tsv', 'csv', '名前\tprix €\n日本語\t1\nnaïve 🍰\t2\n日本語\t3\n', 3)]);
  assert.deepEqual(p.columns.map((c) => c.name), ['名前', 'prix €']);
  const n = col(p, '名前');
  assert.equal(n.top![0]!.value, '日本語');
  assert.equal(n.top![0]!.count, 2);
  assert.equal(n.top![1]!.value, 'naïve 🍰');
  assert.equal(col(p, 'prix €').type, 'integer');
});

test('JSONL: missing keys are missing values, new keys become columns, nested values are JSON text', async () => {
  const text = ['{"a":1,"b":"x"}', '{"a":2.5,"c":true}', '', '{"b":"y","c":false,"d":{"k":[1,2]}}', '{"a":null,"b":"x"}'].join('\n');
  const p = await profileSources([memSource('r.jsonl', 'jsonl', text)]);
  assert.equal(p.rows, 4);
  assert.deepEqual(p.columns.map((c) => [c.name, c.type, c.count, c.missing]), [
    ['a', 'float', 2, 2],
    ['b', 'string', 3, 1],
    ['c', 'boolean', 2, 2],
    ['d', 'string', 1, 3],
  ]);
  assert.equal(col(p, 'd').top![0]!.value, '{"k":[1,2]}');
});

test('JSON array: same rules as JSONL; string numbers stay strings', async () => {
  const text = '[\n {"id": 1, "code": "007", "t": "2024-05-01"},\n {"id": 2, "code": "008", "t": "2024-05-02T00:00:00Z", "x": [1]}\n]\n';
  const p = await profileSources([memSource('r.json', 'json', text, 5)]);
  assert.equal(p.rows, 2);
  assert.equal(col(p, 'id').type, 'integer');
  assert.equal(col(p, 'code').type, 'string');
  assert.equal(col(p, 't').type, 'datetime');
  assert.equal(col(p, 'x').missing, 1);
});

test('parquet via hyparquet: typed columns and nulls', async () => {
  const buf = parquetWriteBuffer({
    columnData: [
      { name: 'id', data: [1, 2, 3, 4], type: 'INT32' },
      { name: 'score', data: [1, 2, null, 4.5], type: 'DOUBLE' },
      { name: 'ok', data: [true, false, true, true], type: 'BOOLEAN' },
      { name: 'label', data: ['a', 'b', 'a', 'ü'], type: 'STRING' },
    ],
    rowGroupSize: 2,
  });
  const p = await profileSources([memSource('d.parquet', 'parquet', new Uint8Array(buf), 1000)]);
  assert.equal(p.rows, 4);
  assert.deepEqual(p.columns.map((c) => c.type), ['integer', 'float', 'boolean', 'string']);
  const score = col(p, 'score');
  assert.equal(score.missing, 1);
  close(score.mean, 7.5 / 3);
  assert.equal(col(p, 'ok').true_count, 3);
});

test('several parts are one table; a part with different columns is rejected naming file and columns', async () => {
  const ok = await profileSources([memSource('p1.csv', 'csv', 'a,b\n1,2\n'), memSource('p2.csv', 'csv', 'b,a\n3,4\n5,6\n')]);
  assert.equal(ok.rows, 3);
  assert.equal(col(ok, 'a').max, 6);
  assert.equal(col(ok, 'b').max, 5);
  await assert.rejects(
    profileSources([memSource('p1.csv', 'csv', 'a,b\n1,2\n'), memSource('p2.csv', 'csv', 'a,c\n1,2\n')]),
    (e: unknown) => isKilnError(e) && e.code === 'INVALID_PARAMETER_VALUE' && /p2\.csv/.test(e.message) && /"b"/.test(e.message) && /"c"/.test(e.message),
  );
});

const rejects = (p: Promise<unknown>, re: RegExp) =>
  assert.rejects(p, (e: unknown) => {
    assert.ok(isKilnError(e), `KilnError expected, got ${String(e)}`);
    assert.equal(e.code, 'INVALID_PARAMETER_VALUE');
    assert.match(e.message, re);
    return true;
  });

test('malformed inputs are clear errors naming the file and the line', async () => {
  await rejects(profileSources([memSource('r.csv', 'csv', 'a,b\n1,2\n"x\ny",2\n3\n4,5\n')]), /r\.csv: line 5 has 1 field, the header has 2/);
  await rejects(profileSources([memSource('q.csv', 'csv', 'a,b\n1,2\n3,"open\n4,5\n')]), /q\.csv: unterminated quoted field starting on line 3/);
  await rejects(profileSources([memSource('e.csv', 'csv', '')]), /e\.csv: empty file/);
  await rejects(profileSources([memSource('e.jsonl', 'jsonl', '')]), /e\.jsonl: empty file/);
  await rejects(profileSources([memSource('b.jsonl', 'jsonl', '{"a":1}\n{"a":2}\n{"a":\n')]), /b\.jsonl: line 3: invalid JSON/);
  await rejects(profileSources([memSource('s.jsonl', 'jsonl', '{"a":1}\n[1,2]\n')]), /s\.jsonl: line 2: expected a JSON object, got an array/);
  await rejects(profileSources([memSource('t.json', 'json', '[{"a":1},\n{"a":2}')]), /t\.json: line 2: truncated JSON/);
  await rejects(profileSources([memSource('o.json', 'json', '{"a":1}')]), /o\.json: line 1: expected a top-level JSON array/);
  await rejects(profileSources([memSource('v.json', 'json', '[{"a":1},\n{"a":tru}]')]), /v\.json: line 2: invalid JSON in element 2/);
  await rejects(profileSources([memSource('x.parquet', 'parquet', 'definitely not parquet, just text')]), /x\.parquet: not a readable parquet file/);
  await rejects(profileSources([memSource('d.csv', 'csv', 'a,a\n1,2\n')]), /duplicate column name "a"/);
  await rejects(profileSources([]), /no files/);
});

test('high-cardinality columns switch to estimates with flags, and profiles are deterministic', async () => {
  const lines = ['k,v'];
  for (let i = 0; i < 30_000; i++) lines.push(`${i % 3 === 0 ? 'hot' : `k${i}`},${i}`);
  const src = memSource('big.csv', 'csv', lines.join('\n') + '\n', 65536);
  const p = await profileSources([src], { exactDistinctCap: 1000 });
  const k = col(p, 'k');
  assert.equal(k.distinct_exact, false);
  assert.ok(Math.abs(k.distinct - 20_001) / 20_001 < 0.03, `distinct ${k.distinct}`);
  assert.equal(k.top_exact, false);
  assert.equal(k.top![0]!.value, 'hot');
  assert.ok(k.top![0]!.count <= 10_000);
  const v = col(p, 'v');
  assert.equal(v.type, 'integer');
  assert.equal(v.min, 0);
  assert.equal(v.max, 29_999);
  const again = await profileSources([src], { exactDistinctCap: 1000 });
  assert.deepEqual(again, p);
});
