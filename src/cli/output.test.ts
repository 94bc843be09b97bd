import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { formatNumber, formatTable } from './output.js';

describe('CLI output', () => {
  it('prints floats at their shortest form with a display precision, integers exactly', () => {
    assert.equal(formatNumber(0.9490000000000001), '0.949');
    assert.equal(formatNumber(0.1 + 0.2), '0.3');
    assert.equal(formatNumber(0.949), '0.949');
    assert.equal(formatNumber(1 / 3), '0.333333333333');
    assert.equal(formatNumber(1.5e-10), '1.5e-10');
    assert.equal(formatNumber(1700000000123), '1700000000123');
    assert.equal(formatNumber(-0.25), '-0.25');
    assert.equal(formatNumber(NaN), 'NaN');
    assert.equal(formatNumber(-Infinity), '-Infinity');
    assert.match(formatTable(['KEY', 'VALUE'], [['acc', 0.9490000000000001]]), /acc\s+0\.949\n$/);
  });

  it('prints every value whole without a width (not a terminal)', () => {
    const uri = 's3://bucket/a/very/long/prefix/that/goes/on/and/on/1/0123456789abcdef0123456789abcdef/artifacts';
    const message = 'column "temperature": 12 values are below the minimum of the schema (-40) in 1000 rows, the lowest being -273.15';
    const out = formatTable(['FIELD', 'VALUE'], [['artifact_uri', uri], ['message', message]]);
    assert.ok(out.includes(uri));
    assert.ok(out.includes(message));
    assert.doesNotMatch(out, /…/);
  });

  it('fits a terminal by wrapping, keeping whole columns on one line, never cutting', () => {
    const id = '0123456789abcdef0123456789abcdef';
    const message = 'column "temperature": 12 values are below the minimum of the schema (-40) in 1000 rows';
    const out = formatTable(['ID', 'SEVERITY', 'MESSAGE'], [[id, 'ERROR', message]], { width: 60, whole: [0] });
    const lines = out.trimEnd().split('\n');
    for (const l of lines) assert.ok(l.length <= 60, `${l.length}: ${l}`);
    assert.ok(lines[2]!.startsWith(id + '  ERROR'), lines[2]);
    assert.ok(lines.length > 3, 'the message wraps onto more lines');
    const shown = lines.slice(2).map((l) => l.slice(id.length + 2 + 'SEVERITY'.length + 2)).join(' ');
    assert.equal(shown, message);
    assert.doesNotMatch(out, /…/);
  });

  it('wraps at spaces, and inside a word only when it is longer than the column', () => {
    const out = formatTable(['ID', 'NAME'], [['7', 'an experiment with a rather long name'], ['8', 'abcdefghijklmnopqrstuvwxyz']], { width: 18, whole: [0] });
    assert.deepEqual(out.trimEnd().split('\n').slice(2), ['7   an experiment', '    with a rather', '    long name', '8   abcdefghijklmn', '    opqrstuvwxyz']);
  });

  it('lets a row overflow rather than cut a whole column that cannot fit', () => {
    const id = 'x'.repeat(80);
    const out = formatTable(['ID', 'NAME'], [[id, 'n']], { width: 40, whole: [0] });
    assert.ok(out.includes(id));
  });
});
