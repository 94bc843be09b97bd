import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { findIllFormedText } from './text-guard.js';
import { checkName, nameProblem, textProblem } from '../validation.js';

describe('the text rule', () => {
  it('names the path of the first bad string or key', () => {
    assert.deepEqual(findIllFormedText({ run_id: 'x', tags: [{ key: 'k', value: 'ok' }, { key: 'k2', value: 'a\u0000b' }] })?.field, 'tags[1].value');
    assert.equal(findIllFormedText({ params: { 'a\uD800': '1' } })?.field, 'params.a\\ud800');
    assert.match(findIllFormedText({ params: { 'a\uD800': '1' } })!.problem, /key .*surrogate/);
    assert.equal(findIllFormedText(['a', ['b', 'c\uDC00']])?.field, '[1][1]');
    assert.equal(findIllFormedText({ a: 1, b: null, c: true, d: 'fine 🔥 שלום\t\n' }), undefined);
  });

  it('walks deeply nested JSON without overflowing the stack', () => {
    const deep = JSON.parse('['.repeat(200_000) + '"\\u0000"' + ']'.repeat(200_000)) as unknown;
    assert.ok(findIllFormedText(deep));
  });

  it('leaves raw bodies alone', () => {
    assert.equal(findIllFormedText(Readable.from([Buffer.from([0, 0xed, 0xa0, 0x80])])), undefined);
    assert.equal(findIllFormedText(Buffer.from([0])), undefined);
  });

  it('refuses NUL and lone surrogates in text; control and bidirectional characters only in names', () => {
    assert.match(textProblem('a\u0000')!, /NUL/);
    assert.match(textProblem('\uD83D')!, /surrogate/);
    assert.equal(textProblem('\uD83D\uDD25'), undefined);
    assert.equal(textProblem('a\u202Eb'), undefined);
    assert.match(nameProblem('a\u202Eb')!, /bidirectional/);
    assert.match(nameProblem('a\u2066b')!, /bidirectional/);
    assert.match(nameProblem('a\u0085b')!, /control/);
    assert.equal(nameProblem('Ünïcødé 名前 🔥'), undefined);
    assert.throws(() => checkName('run name', 'run_name', 'x\u202Ey'), (e: Error & { details?: { field?: string } }) => e.details?.field === 'run_name' && /\\u202e/.test(e.message));
  });
});
