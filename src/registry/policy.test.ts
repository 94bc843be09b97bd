import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { evaluateRule, parsePolicy, parseRule, type RuleContext } from './policy.js';

const ctx = (metrics: Record<string, number>, champion?: Record<string, number>, params: Record<string, string> = {}): RuleContext => ({
  candidate: { metrics: new Map(Object.entries(metrics)), params: new Map(Object.entries(params)) },
  ...(champion ? { champion: { version: '3', metrics: new Map(Object.entries(champion)), params: new Map() } } : {}),
});

describe('promotion rules', () => {
  it('compares candidate metrics with constants and with the champion', () => {
    assert.equal(evaluateRule(parseRule('metrics.val_accuracy >= 0.85'), ctx({ val_accuracy: 0.9 })).passed, true);
    assert.equal(evaluateRule(parseRule('metrics.val_accuracy >= 0.85'), ctx({ val_accuracy: 0.8 })).passed, false);
    const r = parseRule('metrics.val_accuracy >= champion - 0.005');
    assert.equal(evaluateRule(r, ctx({ val_accuracy: 0.896 }, { val_accuracy: 0.9 })).passed, true);
    const failed = evaluateRule(r, ctx({ val_accuracy: 0.89 }, { val_accuracy: 0.9 }));
    assert.equal(failed.passed, false);
    assert.equal(failed.message, 'failed: 0.89 >= 0.895');
    assert.equal(evaluateRule(parseRule('metrics.latency <= champion * 1.1'), ctx({ latency: 10.5 }, { latency: 10 })).passed, true);
    assert.equal(evaluateRule(parseRule('metrics.a - champion.metrics.a > -(1 + 1) / 4'), ctx({ a: 1 }, { a: 1.4 })).passed, true);
    assert.equal(evaluateRule(parseRule('metrics.lat <= champion-0.5'), ctx({ lat: 1 }, { lat: 2 })).passed, true);
  });

  it('passes champion rules on a first promotion and fails on missing values with a reason', () => {
    assert.match(evaluateRule(parseRule('metrics.acc >= champion'), ctx({ acc: 0.1 })).message, /no version holds the alias/);
    assert.match(evaluateRule(parseRule('metrics.acc >= 0.5'), ctx({})).message, /candidate has no metric 'acc'/);
    assert.match(evaluateRule(parseRule('metrics.acc >= champion'), ctx({ acc: 1 }, {})).message, /champion \(version 3\) has no metric 'acc'/);
    assert.equal(evaluateRule(parseRule('params.depth <= 8'), ctx({}, undefined, { depth: '6' })).passed, true);
    assert.match(evaluateRule(parseRule('params.depth <= 8'), ctx({}, undefined, { depth: 'deep' })).message, /not a number/);
    assert.equal(evaluateRule(parseRule('metrics.acc >= 0'), ctx({ acc: NaN })).passed, false);
  });

  it('accepts metric. and param. as the run search grammar does', () => {
    assert.equal(evaluateRule(parseRule('metric.acc >= 0.85'), ctx({ acc: 0.9 })).passed, true);
    assert.equal(evaluateRule(parseRule('metric.acc >= 0.85'), ctx({ acc: 0.8 })).passed, false);
    assert.equal(evaluateRule(parseRule('param.depth <= 8'), ctx({}, undefined, { depth: '6' })).passed, true);
    assert.equal(evaluateRule(parseRule('metric.acc >= champion.metric.acc - 0.01'), ctx({ acc: 0.895 }, { acc: 0.9 })).passed, true);
    assert.equal(evaluateRule(parseRule('metric.acc >= champion'), ctx({ acc: 0.8 }, { acc: 0.9 })).message, 'failed: 0.8 >= 0.9');
  });

  it('reads keys with dashes, slashes, dots and backticks', () => {
    assert.equal(evaluateRule(parseRule('metrics.val-loss < 1'), ctx({ 'val-loss': 0.5 })).passed, true);
    assert.equal(evaluateRule(parseRule('metrics.eval/f1 > 0.5'), ctx({ 'eval/f1': 0.6 })).passed, true);
    assert.equal(evaluateRule(parseRule('metrics.train.loss < 1'), ctx({ 'train.loss': 0.5 })).passed, true);
    assert.equal(evaluateRule(parseRule('metrics.`val acc (%)` >= 90'), ctx({ 'val acc (%)': 91 })).passed, true);
  });

  it('refuses malformed rules with the position and what was expected', () => {
    const cases: [string, RegExp][] = [
      ['metrics.acc >=', /position 15, expected a number/],
      ['metrics.acc 0.9', /position 13, expected a comparison/],
      ['metrics.acc >= 0.9 0.1', /position 20, expected the end of the rule/],
      ['accuracy >= 0.9', /expected a reference/],
      ['champion >= 0.9', /left-hand side/],
      ['metrics.acc >= (0.9', /expected '\)'/],
      ['metrics.`acc >= 1', /closing backtick/],
      ['metrics.acc >= 0.9 ; drop', /position 20/],
      ['', /non-empty/],
    ];
    for (const [text, re] of cases) assert.throws(() => parseRule(text), re, text);
  });

  it('validates policy documents', () => {
    assert.deepEqual(parsePolicy({ rules: ['metrics.a > 1'], require_approval: true }), { rules: ['metrics.a > 1'], require_data_validation: false, require_approval: true });
    assert.throws(() => parsePolicy([]), /JSON object/);
    assert.throws(() => parsePolicy({ rules: 'metrics.a > 1' }), /list of strings/);
    assert.throws(() => parsePolicy({ rules: ['metrics.a >'] }), /policy.rules\[0\]: .*position/);
    assert.throws(() => parsePolicy({ rulez: [] }), /Unknown promotion policy field 'rulez'/);
    assert.throws(() => parsePolicy({ require_approval: 'yes' }), /true or false/);
  });
});
