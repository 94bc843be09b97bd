import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { numberArrayLiteral, textArrayLiteral } from './array-literal.js';
import { PG_ADMIN_URI, STORE_BACKENDS } from '../../../test/support/backends.js';

describe('array literals', () => {
  it('spell numbers, nulls and quoted text', () => {
    assert.equal(numberArrayLiteral([]), '{}');
    assert.equal(numberArrayLiteral([1.5, -2, null, Infinity, -Infinity, 1e-7]), '{1.5,-2,NULL,Infinity,-Infinity,1e-7}');
    assert.equal(textArrayLiteral(['a', 'b c', 'q"\\']), '{"a","b c","q\\"\\\\"}');
  });
});

describe('array literals read back by PostgreSQL', { skip: !STORE_BACKENDS.includes('postgres') && 'KILN_TEST_BACKENDS excludes postgres' }, () => {
  const client = new pg.Client({ connectionString: PG_ADMIN_URI });
  before(() => client.connect());
  after(() => client.end());

  it('text comes back exactly, whatever it holds', async () => {
    const texts = ['', 'NULL', 'null', ' lead', 'trail ', '{a,b}', 'x,y', '"', '\\', '\\"', 'a\\\\b', "it's", 'tab\there', 'line\nbreak', 'ünïcødé 名前 🚀', '\u200f', 'a'.repeat(5000)];
    const r = await client.query<{ t: string[] }>('SELECT $1::text[] AS t', [textArrayLiteral(texts)]);
    assert.deepEqual(r.rows[0]!.t, texts);
  });

  it('float8 and int8 come back exactly, with nulls and infinities', async () => {
    const floats = [0, -0, 1.5, 0.1 + 0.2, Number.MAX_VALUE, Number.MIN_VALUE, -1e-300, 123456789.12345679, Infinity, -Infinity, null];
    const r = await client.query<{ f: string | null }>('SELECT f::text AS f FROM unnest($1::float8[]) WITH ORDINALITY AS u(f, i) ORDER BY i', [numberArrayLiteral(floats)]);
    assert.deepEqual(
      r.rows.map((x) => (x.f === null ? null : Number(x.f))),
      floats.map((f) => (f === null ? null : f === 0 ? 0 : f)),
    );
    const ints = [0, 1, -1, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, 1_700_000_000_000];
    const ri = await client.query<{ i: string }>('SELECT i::text AS i FROM unnest($1::int8[]) WITH ORDINALITY AS u(i, o) ORDER BY o', [numberArrayLiteral(ints)]);
    assert.deepEqual(ri.rows.map((x) => Number(x.i)), ints);
  });
});
