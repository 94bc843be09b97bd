import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { KilnError } from '../../platform/errors.js';
import { show } from './ast.js';
import { EXPERIMENT_GRAMMAR, RUN_GRAMMAR } from './grammars.js';
import { parseFilter, parseOrderBy } from './parser.js';

const p = (f: string) => {
  const n = parseFilter(f, RUN_GRAMMAR);
  return n ? show(n) : undefined;
};

describe('run filter parser', () => {
  const valid: [string, string][] = [
    ['metrics.acc > 0.9', 'metric.acc > 0.9'],
    ['metric.acc >= -1.5e-3', 'metric.acc >= -0.0015'],
    ["params.lr = '0.01'", "param.lr = '0.01'"],
    ['params.lr = "0.01"', "param.lr = '0.01'"],
    ["param.optimizer != 'sgd'", "param.optimizer != 'sgd'"],
    ["parameters.a LIKE 'x%'", "param.a LIKE 'x%'"],
    ["tags.team ILIKE '%vision%'", "tag.team ILIKE '%vision%'"],
    ["tag.mlflow.parentRunId = 'abc'", "tag.mlflow.parentRunId = 'abc'"],
    ['metrics."model class" < 3', 'metric.model class < 3'],
    ['metrics.`val-loss` <= 0.2', 'metric.val-loss <= 0.2'],
    ['`metrics`.`val loss` = 1', 'metric.val loss = 1'],
    ['metrics.train/loss < 1', 'metric.train/loss < 1'],
    ['metrics.a:b:c = 2', 'metric.a:b:c = 2'],
    ["attributes.status = 'FINISHED'", "attribute.status = 'FINISHED'"],
    ["status = 'RUNNING'", "attribute.status = 'RUNNING'"],
    ["run_name LIKE 'exp-%'", "attribute.run_name LIKE 'exp-%'"],
    ["attributes.run_name = 'x'", "attribute.run_name = 'x'"],
    ["\"run name\" = 'x'", "attribute.run_name = 'x'"],
    ["`Run Name` = 'x'", "attribute.run_name = 'x'"],
    ['created > 1700000000000', 'attribute.start_time > 1700000000000'],
    ['attr.end_time <= 5', 'attribute.end_time <= 5'],
    ['run.start_time != 3', 'attribute.start_time != 3'],
    ["attributes.run_id IN ('a', 'b')", "attribute.run_id IN ('a', 'b')"],
    ["run_id NOT IN ('a')", "attribute.run_id NOT IN ('a')"],
    ["datasets.name = 'weather'", "dataset.name = 'weather'"],
    ["dataset.context IN ('training', 'eval')", "dataset.context IN ('training', 'eval')"],
    ["datasets.digest LIKE 'ab%'", "dataset.digest LIKE 'ab%'"],
    ['metrics.acc IS NULL', 'metric.acc IS NULL'],
    ['params.lr is not null', 'param.lr IS NOT NULL'],
    ['attributes.end_time IS NULL', 'attribute.end_time IS NULL'],
    ["metrics.a > 1 and params.b = 'x'", "(metric.a > 1 AND param.b = 'x')"],
    ["metrics.a > 1 AND params.b = 'x' AND tags.c = 'y'", "(metric.a > 1 AND param.b = 'x' AND tag.c = 'y')"],
    ['metrics.a > 1 OR metrics.b < 2', '(metric.a > 1 OR metric.b < 2)'],
    ['metrics.a > 1 OR metrics.b < 2 AND metrics.c = 3', '(metric.a > 1 OR (metric.b < 2 AND metric.c = 3))'],
    ['(metrics.a > 1 OR metrics.b < 2) AND metrics.c = 3', '((metric.a > 1 OR metric.b < 2) AND metric.c = 3)'],
    ['((metrics.a > 1))', 'metric.a > 1'],
    ["params.s = 'it''s'", "param.s = 'it's'"],
    ["params.s = 'é中文📈'", "param.s = 'é中文📈'"],
    ['metrics.a <> 2', 'metric.a != 2'],
    ['metrics.a == 2', 'metric.a = 2'],
    ['metrics.a>-1', 'metric.a > -1'],
    ['  metrics.a   >   .5  ', 'metric.a > 0.5'],
  ];
  for (const [input, expected] of valid) {
    it(`parses ${input}`, () => assert.equal(p(input), expected));
  }

  it('treats an empty filter as no filter', () => {
    assert.equal(p(''), undefined);
    assert.equal(p('   '), undefined);
  });

  const invalid: [string, number, RegExp][] = [
    ['metrics.acc >', 13, /expected a number/],
    ['metrics.acc > > 1', 14, /expected a number/],
    ["metrics.acc > 'high'", 14, /expected a number/],
    ['params.lr = 0.01', 12, /quoted string/],
    ['params.lr > 1', 10, /not allowed for params/],
    ["tags.a < 'x'", 7, /not allowed for tags/],
    ["metrics.a LIKE 'x'", 10, /not allowed for metrics/],
    ['metrics.a foo 1', 10, /comparison operator/],
    ["foo.bar = 'x'", 0, /entity/],
    ["nosuch = 'x'", 0, /known attribute/],
    ["attributes.nosuch = 'x'", 0, /known attribute/],
    ["datasets.size = 'x'", 0, /not searchable/],
    ["params.a = 'x' AND", 18, /identifier/],
    ["params.a = 'x' params.b = 'y'", 15, /AND, OR or the end/],
    ["(params.a = 'x'", 15, /'\)'/],
    ["params.a = 'x')", 14, /without a matching/],
    ["params.a = 'x", 11, /unterminated/],
    ['metrics."a = 1', 8, /unterminated/],
    ["run_id IN ()", 11, /at least one value/],
    ["run_id IN 'a'", 10, /'\('/],
    ["run_id IN ('a' 'b')", 15, /',' or '\)'/],
    ["run_id NOT 'a'", 11, /IN after NOT/],
    ['metrics.a IS 1', 13, /NULL/],
    ['metrics.a IS NOT 1', 17, /NULL after IS NOT/],
    ["status IS NULL", 7, /not allowed/],
    ['metrics. = 1', 9, /key after the dot/],
    ['= 1', 0, /identifier/],
    ['metrics.a > 1 # comment', 14, /'#'/],
    ["start_time > '2020'", 13, /expected a number/],
    ['AND metrics.a > 1', 0, /known attribute|identifier/],
  ];
  for (const [input, pos, message] of invalid) {
    it(`rejects ${JSON.stringify(input)} at position ${pos}`, () => {
      assert.throws(
        () => parseFilter(input, RUN_GRAMMAR),
        (e: unknown) => {
          assert.ok(e instanceof KilnError);
          assert.equal(e.code, 'INVALID_PARAMETER_VALUE');
          assert.match(e.message, message);
          assert.equal(e.details?.position, pos, e.message);
          return true;
        },
      );
    });
  }

  it('limits length and nesting', () => {
    assert.throws(() => parseFilter('metrics.a > 1 AND '.repeat(5000) + 'metrics.a > 1', RUN_GRAMMAR), /longer than/);
    assert.throws(() => parseFilter('('.repeat(200) + 'metrics.a > 1' + ')'.repeat(200), RUN_GRAMMAR), /nested deeper/);
  });
});

describe('order_by parser', () => {
  it('parses entities, quoted keys and directions', () => {
    assert.deepEqual(parseOrderBy(['metrics.acc DESC', 'params.lr', 'tags.`a b` asc', 'start_time desc', 'created', '`Run Name` DESC'], RUN_GRAMMAR), [
      { entity: 'metric', key: 'acc', ascending: false },
      { entity: 'param', key: 'lr', ascending: true },
      { entity: 'tag', key: 'a b', ascending: true },
      { entity: 'attribute', key: 'start_time', ascending: false },
      { entity: 'attribute', key: 'start_time', ascending: true },
      { entity: 'attribute', key: 'run_name', ascending: false },
    ]);
  });
  for (const bad of ['metrics.acc SIDEWAYS', 'metrics.acc DESC extra', '', 'datasets.name', 'nosuch', 'metrics.acc > 1']) {
    it(`rejects ${JSON.stringify(bad)}`, () => assert.throws(() => parseOrderBy([bad], RUN_GRAMMAR), /order_by/));
  }
  it('parses experiment ordering', () => {
    assert.deepEqual(parseOrderBy(['name DESC', 'last_update_time'], EXPERIMENT_GRAMMAR), [
      { entity: 'attribute', key: 'name', ascending: false },
      { entity: 'attribute', key: 'last_update_time', ascending: true },
    ]);
    assert.throws(() => parseOrderBy(['metrics.a'], EXPERIMENT_GRAMMAR), /order_by/);
  });
});
