import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseCsv } from './csv.js';

describe('csv preview', () => {
  it('reads quoted fields, doubled quotes and CRLF', () => {
    const r = parseCsv('a,b\r\n"x, y","say ""hi"""\n1,\n');
    assert.deepEqual(r.rows, [
      ['a', 'b'],
      ['x, y', 'say "hi"'],
      ['1', ''],
    ]);
    assert.equal(r.truncated, false);
  });
  it('keeps a newline inside quotes and stops after maxRows', () => {
    assert.deepEqual(parseCsv('"a\nb",c').rows, [['a\nb', 'c']]);
    const r = parseCsv('h\n1\n2\n3\n4\n', 3);
    assert.deepEqual(r.rows, [['h'], ['1'], ['2']]);
    assert.equal(r.truncated, true);
  });
});
