import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { applyCandidate, quoteKey, suggest } from './filter-suggest.js';

const keys = { metrics: ['loss', 'val loss', 'accuracy', 'train/loss'], params: ['lr', 'layers', 'model class'], tags: ['team', 'mlflow.runName'] };
const labels = (text: string, caret = text.length) => suggest(text, caret, keys).candidates.map((c) => c.label);

describe('filter suggestions', () => {
  it('offers entity prefixes and attributes at the start and after AND / OR / (', () => {
    assert.deepEqual(labels('').slice(0, 5), ['metrics.', 'params.', 'tags.', 'attributes.', 'datasets.']);
    assert.deepEqual(labels('me'), ['metrics.']);
    assert.ok(labels('st').includes('status'));
    assert.ok(labels('metrics.loss < 1 AND pa').includes('params.'));
    assert.ok(labels('(ta').includes('tags.'));
  });

  it('offers the keys of the entity being typed, prefix matches first, quoting keys that need it', () => {
    assert.deepEqual(labels('metrics.'), ['metrics.loss', 'metrics.val loss', 'metrics.accuracy', 'metrics.train/loss']);
    assert.deepEqual(labels('metrics.lo'), ['metrics.loss', 'metrics.val loss', 'metrics.train/loss']);
    assert.deepEqual(labels('param.l'), ['param.lr', 'param.layers']);
    const s = suggest('metrics.val', 11, keys);
    assert.equal(s.token, 'metrics.val');
    assert.equal(s.candidates[0]!.insert, 'metrics.`val loss` ');
    assert.deepEqual(labels('tags.mlflow.r'), ['tags.mlflow.runName']);
    assert.deepEqual(labels('attributes.run_'), ['attributes.run_id', 'attributes.run_name']);
    assert.deepEqual(labels('nope.x'), []);
  });

  it('reads an opened quoted key', () => {
    const s = suggest('params.`mod', 11, keys);
    assert.equal(s.from, 0);
    assert.deepEqual(s.candidates.map((c) => c.insert), ['params.`model class` ']);
  });

  it('offers operators after a field, AND / OR after a value, nothing inside values', () => {
    assert.ok(labels('metrics.loss ').includes('>='));
    assert.ok(!labels('metrics.loss ').includes('LIKE'));
    assert.ok(labels('params.lr ').includes('LIKE'));
    assert.deepEqual(labels('params.lr I'), ['ILIKE', 'IN', 'IS NULL', 'IS NOT NULL']);
    assert.deepEqual(labels('metrics.loss < 0.5 '), ['AND', 'OR']);
    assert.deepEqual(labels("params.lr = '0.1' o"), ['OR']);
    assert.deepEqual(labels('metrics.loss < '), []);
    assert.deepEqual(labels("params.lr IN ('a', "), []);
  });

  it('completes the token in the middle of the text', () => {
    const text = 'metrics.lo < 1';
    const s = suggest(text, 10, keys);
    assert.equal(s.token, 'metrics.lo');
    assert.deepEqual(applyCandidate(text, s, s.candidates[0]!), { text: 'metrics.loss < 1', caret: 13 });
    const end = suggest('pa', 2, keys);
    assert.deepEqual(applyCandidate('pa', end, end.candidates[0]!), { text: 'params.', caret: 7 });
  });

  it('quotes keys that are not plain identifiers', () => {
    assert.equal(quoteKey('loss'), 'loss');
    assert.equal(quoteKey('train/loss'), 'train/loss');
    assert.equal(quoteKey('val loss'), '`val loss`');
    assert.equal(quoteKey('a`b'), '`a``b`');
  });
});
