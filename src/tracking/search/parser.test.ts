import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { KilnError } from '../../platform/errors.js';
import { MAX_FILTER_COMPARISONS, MAX_FILTER_LENGTH, MAX_ORDER_TERMS, show, showOrder } from '../../platform/search/index.js';
import { parseExperimentFilter, parseExperimentOrderBy, parseRunFilter, parseRunOrderBy } from './grammars.js';

const p = (f: string): string | undefined => {
  const n = parseRunFilter(f);
  return n ? show(n) : undefined;
};

/** Asserts an INVALID_PARAMETER_VALUE whose message matches and whose details name the position. */
function rejects(fn: () => unknown, pos: number | undefined, message: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof KilnError, String(e));
    assert.equal(e.code, 'INVALID_PARAMETER_VALUE');
    assert.match(e.message, message);
    if (pos !== undefined) {
      assert.equal(e.details?.position, pos, e.message);
      assert.match(e.message, new RegExp(`at position ${pos}:`));
      assert.equal(typeof e.details?.expected, 'string');
    }
    return true;
  });
}

describe('run filter parser: valid filters', () => {
  const valid: [string, string][] = [
    ['metrics.acc > 0.9', 'metric.acc > 0.9'],
    ['metric.acc >= -1.5e-3', 'metric.acc >= -0.0015'],
    ['metrics.acc < 1E3', 'metric.acc < 1000'],
    ['metrics.loss = 0', 'metric.loss = 0'],
    ["params.lr = '0.01'", "param.lr = '0.01'"],
    ['params.lr = "0.01"', "param.lr = '0.01'"],
    ["param.optimizer != 'sgd'", "param.optimizer != 'sgd'"],
    ["parameters.a LIKE 'x%'", "param.a LIKE 'x%'"],
    ["parameter.a ILIKE 'X%'", "param.a ILIKE 'X%'"],
    ["tags.team ILIKE '%vision%'", "tag.team ILIKE '%vision%'"],
    ["tag.mlflow.parentRunId = 'abc'", "tag.mlflow.parentRunId = 'abc'"],
    ['metrics.a.b > 1', 'metric.a.b > 1'],
    ['metrics."model class" < 3', 'metric.model class < 3'],
    ['metrics.`val-loss` <= 0.2', 'metric.val-loss <= 0.2'],
    ["tags.`user-name` = 'x'", "tag.user-name = 'x'"],
    ['`metrics`.`val loss` = 1', 'metric.val loss = 1'],
    ['`metrics`.acc = 1', 'metric.acc = 1'],
    ['metrics.train/loss < 1', 'metric.train/loss < 1'],
    ['metrics.a:b-c = 2', 'metric.a:b-c = 2'],
    ['METRICS.acc > 1', 'metric.acc > 1'],
    ["attributes.status = 'FINISHED'", "attribute.status = 'FINISHED'"],
    ["status = 'RUNNING'", "attribute.status = 'RUNNING'"],
    ["run_name LIKE 'exp-%'", "attribute.run_name LIKE 'exp-%'"],
    ["attributes.run_name = 'x'", "attribute.run_name = 'x'"],
    ["\"run name\" = 'x'", "attribute.run_name = 'x'"],
    ["`Run Name` = 'x'", "attribute.run_name = 'x'"],
    ["\"Run name\" = 'x'", "attribute.run_name = 'x'"],
    ["user_id = 'ann'", "attribute.user_id = 'ann'"],
    ["artifact_uri LIKE 's3://%'", "attribute.artifact_uri LIKE 's3://%'"],
    ["lifecycle_stage = 'deleted'", "attribute.lifecycle_stage = 'deleted'"],
    ['created > 1700000000000', 'attribute.start_time > 1700000000000'],
    ['Created > 1', 'attribute.start_time > 1'],
    ['attr.end_time <= 5', 'attribute.end_time <= 5'],
    ['run.start_time != 3', 'attribute.start_time != 3'],
    ["attributes.run_id IN ('a', 'b')", "attribute.run_id IN ('a', 'b')"],
    ["run_id NOT IN ('a')", "attribute.run_id NOT IN ('a')"],
    ["status in ('RUNNING',\"FAILED\")", "attribute.status IN ('RUNNING', 'FAILED')"],
    ["params.opt not in ('sgd', 'adam')", "param.opt NOT IN ('sgd', 'adam')"],
    ["datasets.name = 'weather'", "dataset.name = 'weather'"],
    ["dataset.context IN ('training', 'eval')", "dataset.context IN ('training', 'eval')"],
    ["datasets.digest LIKE 'ab%'", "dataset.digest LIKE 'ab%'"],
    ['metrics.acc IS NULL', 'metric.acc IS NULL'],
    ['params.lr is not null', 'param.lr IS NOT NULL'],
    ['tags.note Is Null', 'tag.note IS NULL'],
    ['attributes.end_time IS NULL', 'attribute.end_time IS NULL'],
    ["metrics.a > 1 and params.b = 'x'", "(metric.a > 1 AND param.b = 'x')"],
    ["metrics.a > 1 AND params.b = 'x' AND tags.c = 'y'", "(metric.a > 1 AND param.b = 'x' AND tag.c = 'y')"],
    ['metrics.a > 1 OR metrics.b < 2', '(metric.a > 1 OR metric.b < 2)'],
    ['metrics.a > 1 or metrics.b < 2 AND metrics.c = 3', '(metric.a > 1 OR (metric.b < 2 AND metric.c = 3))'],
    ['metrics.a > 1 AND metrics.b < 2 OR metrics.c = 3', '((metric.a > 1 AND metric.b < 2) OR metric.c = 3)'],
    ['(metrics.a > 1 OR metrics.b < 2) AND metrics.c = 3', '((metric.a > 1 OR metric.b < 2) AND metric.c = 3)'],
    ['((metrics.a > 1))', 'metric.a > 1'],
    ["params.s = 'it''s'", "param.s = 'it''s'"],
    ['params.s = "say ""hi"""', `param.s = 'say "hi"'`],
    ["params.s = ''", "param.s = ''"],
    ["params.s = 'é中文📈'", "param.s = 'é中文📈'"],
    ['metrics.a <> 2', 'metric.a != 2'],
    ['metrics.a == 2', 'metric.a = 2'],
    ['metrics.a>-1', 'metric.a > -1'],
    ['  metrics.a   >   .5  ', 'metric.a > 0.5'],
    ["params.x='1'AND(params.y='2')", "(param.x = '1' AND param.y = '2')"],
  ];
  for (const [input, expected] of valid) {
    it(`parses ${input}`, () => assert.equal(p(input), expected));
  }

  it('treats an empty or blank filter as no filter', () => {
    assert.equal(parseRunFilter(''), undefined);
    assert.equal(parseRunFilter(' \t\n '), undefined);
    assert.equal(parseRunFilter(undefined), undefined);
  });

  it('records positions of identifiers, operators and groups', () => {
    const n = parseRunFilter("metrics.a > 1 OR (params.b = 'x' AND tags.c IS NULL)");
    assert.deepEqual(n, {
      kind: 'or',
      pos: 0,
      items: [
        { kind: 'cmp', entity: 'metric', key: 'a', op: '>', value: 1, pos: 0, opPos: 10 },
        {
          kind: 'and',
          pos: 18,
          items: [
            { kind: 'cmp', entity: 'param', key: 'b', op: '=', value: 'x', pos: 18, opPos: 27 },
            { kind: 'cmp', entity: 'tag', key: 'c', op: 'IS NULL', pos: 37, opPos: 44 },
          ],
        },
      ],
    });
  });
});

describe('run filter parser: invalid filters', () => {
  const invalid: [string, number, RegExp][] = [
    ['metrics.acc >', 13, /expected a number to compare metrics\.acc with but found the end of the input/],
    ['metrics.acc > > 1', 14, /expected a number/],
    ["metrics.acc > 'high'", 14, /expected a number .* but found the string 'high'/],
    ['metrics.acc > 1e999', 14, /a finite number/],
    ['params.lr = 0.01', 12, /expected a quoted string \(params and tags compare as strings/],
    ['params.lr > 1', 10, /expected an operator for params \(=, !=, LIKE, ILIKE, IN, NOT IN, IS NULL, IS NOT NULL; params and tags compare as strings\) but found '>'/],
    ["tags.a < 'x'", 7, /operator for tags .*compare as strings/],
    ["metrics.a LIKE 'x'", 10, /expected an operator for metrics \(=, !=, >, >=, <, <=, IS NULL, IS NOT NULL\) but found 'LIKE'/],
    ["metrics.a IN ('1')", 10, /operator for metrics/],
    ['metrics.a foo 1', 10, /expected a comparison operator \(=, !=, >, >=, <, <=, LIKE, ILIKE, IN, NOT IN, IS\) but found 'foo'/],
    ["attributes.status LIKE 'x' AND metrics.acc foo 1", 43, /^Invalid filter at position 43: expected a comparison operator .* but found 'foo'$/],
    ["foo.bar = 'x'", 0, /expected an entity \(metrics, params, tags, attributes or datasets\) before the dot but found 'foo'/],
    ["`foo`.bar = 'x'", 0, /entity .* but found 'foo'/],
    ["nosuch = 'x'", 0, /expected an attribute \(run_id, .*\) .* but found 'nosuch'/],
    ["attributes.nosuch = 'x'", 0, /expected an attribute .* but found 'nosuch'/],
    ["datasets.size = 'x'", 0, /expected a datasets key \(name, digest, context\) but found 'size'/],
    ["datasets.name IS NULL", 14, /operator for datasets/],
    ["status > 'x'", 7, /operator for attribute 'status'/],
    ["start_time > '2020'", 13, /expected a number to compare attribute 'start_time' with/],
    ['status = 1', 9, /quoted string to compare attribute 'status'/],
    ["status IS NULL", 7, /operator for attribute 'status'/],
    ["params.a = 'x' AND", 18, /expected an identifier/],
    ["params.a = 'x' params.b = 'y'", 15, /expected AND, OR or the end of the filter but found 'params\.b'/],
    ["(params.a = 'x'", 15, /expected AND, OR or '\)' to close the '\(' at position 0 but found the end/],
    ["((params.a = 'x')", 17, /close the '\(' at position 0/],
    ["params.a = 'x')", 14, /has no matching '\('/],
    ['()', 1, /expected an identifier/],
    ["params.a = 'x", 11, /unterminated string/],
    ['metrics."a = 1', 8, /unterminated string/],
    ['run_id IN ()', 11, /at least one value/],
    ["run_id IN 'a'", 10, /'\(' to start the list/],
    ["run_id IN ('a' 'b')", 15, /',' or '\)' in the list/],
    ["run_id IN ('a',)", 15, /quoted string .* in the list/],
    ['run_id IN (1, 2)', 11, /quoted string .* in the list/],
    ["run_id IN ('a'", 14, /',' or '\)'/],
    ["run_id NOT 'a'", 11, /IN after NOT/],
    ['metrics.a IS 1', 13, /NULL or NOT NULL after IS/],
    ['metrics.a IS NOT 1', 17, /NULL after IS NOT/],
    ['metrics. = 1', 9, /a key after the dot/],
    ['metrics."" = 1', 0, /a key after the dot but found an empty key/],
    ['= 1', 0, /expected an identifier/],
    ['metrics.a > 1 # comment', 14, /found '#'/],
    ['AND metrics.a > 1', 0, /attribute .* but found 'AND'/],
    ["metrics.a > 1 OR", 16, /expected an identifier: .* but found the end of the input/],
    ['metrics.a > 1abc', 12, /found '1'/],
  ];
  for (const [input, pos, message] of invalid) {
    it(`rejects ${JSON.stringify(input)} at position ${pos}`, () => rejects(() => parseRunFilter(input), pos, message));
  }

  it('limits the filter length', () => {
    const long = 'metrics.a > 1 AND '.repeat(4000) + 'metrics.a > 1';
    assert.ok(long.length > MAX_FILTER_LENGTH);
    rejects(() => parseRunFilter(long), MAX_FILTER_LENGTH, /expected at most 65536 characters but found \d+ characters/);
  });

  it('limits the nesting depth', () => {
    const ok = '('.repeat(100) + 'metrics.a > 1' + ')'.repeat(100);
    assert.equal(p(ok), 'metric.a > 1');
    rejects(() => parseRunFilter('('.repeat(101) + 'metrics.a > 1' + ')'.repeat(101)), 100, /expected at most 100 nested parentheses/);
  });

  it('limits the number of comparisons, and parses a chain of that many flat', () => {
    const chain = (n: number) => Array.from({ length: n }, (_, i) => `metrics.m${i}>1`).join(' AND ');
    const n = parseRunFilter(chain(MAX_FILTER_COMPARISONS));
    assert.ok(n && n.kind === 'and' && n.items.length === MAX_FILTER_COMPARISONS);
    const over = chain(MAX_FILTER_COMPARISONS + 1);
    rejects(() => parseRunFilter(over), over.lastIndexOf('metrics.'), /expected at most 100 comparisons in one filter but found comparison number 101/);
    // Also when they hide in parentheses and OR.
    rejects(() => parseRunFilter(Array.from({ length: 101 }, (_, i) => `(params.p${i} = 'a' OR tags.t = 'b')`).join(' AND ')), undefined, /at most 100 comparisons/);
    // 3,000 clauses in 64 KiB, the shape that held the server for seconds.
    const big = Array.from({ length: 3000 }, (_, i) => `metrics.m${i % 5} >= 0`).join(' AND ').slice(0, MAX_FILTER_LENGTH);
    rejects(() => parseRunFilter(big.slice(0, big.lastIndexOf(' AND '))), undefined, /at most 100 comparisons/);
  });
});

describe('run order_by parser', () => {
  it('parses entities, quoted keys, aliases and directions', () => {
    const terms = parseRunOrderBy(['metrics.acc DESC', 'params.lr', 'tags.`a b` asc', 'start_time desc', 'created', '`Run Name` DESC', 'metrics."x y" Desc', 'attributes.experiment_id', 'run_id ASC', 'attr.end_time']);
    assert.deepEqual(terms.map(showOrder), [
      'metric.acc DESC',
      'param.lr ASC',
      'tag.a b ASC',
      'attribute.start_time DESC',
      'attribute.start_time ASC',
      'attribute.run_name DESC',
      'metric.x y DESC',
      'attribute.experiment_id ASC',
      'attribute.run_id ASC',
      'attribute.end_time ASC',
    ]);
    assert.deepEqual(parseRunOrderBy([]), []);
    assert.deepEqual(parseRunOrderBy(undefined), []);
  });

  const bad: [string, RegExp][] = [
    ['metrics.acc SIDEWAYS', /order_by clause 'metrics\.acc SIDEWAYS' at position 12: expected ASC, DESC or the end of the clause but found 'SIDEWAYS'/],
    ['metrics.acc DESC extra', /position 17: expected ASC, DESC or the end/],
    ['', /order_by clause "": expected '<field> \[ASC\|DESC\]'/],
    ['   ', /order_by clause/],
    ['datasets.name', /order_by clause 'datasets\.name' at position 0: expected an orderable field.* but found 'datasets\.name'/],
    ['nosuch', /order_by clause 'nosuch' at position 0: expected an attribute/],
    ['lifecycle', /order_by clause 'lifecycle'/],
    ['metrics.acc > 1', /order_by clause 'metrics\.acc > 1' at position 12/],
    ["metrics.'acc'", /order_by clause 'metrics\.'acc'' at position 8: expected a key after the dot/],
    ['foo.bar DESC', /order_by clause 'foo\.bar DESC' at position 0: expected an entity/],
  ];
  for (const [item, message] of bad) {
    it(`rejects ${JSON.stringify(item)}`, () => rejects(() => parseRunOrderBy(['start_time', item]), undefined, message));
  }

  it('rejects too many items and non-strings', () => {
    rejects(() => parseRunOrderBy(Array.from({ length: MAX_ORDER_TERMS + 1 }, () => 'run_id')), undefined, /at most 20 items/);
    rejects(() => parseRunOrderBy([42 as unknown as string]), undefined, /order_by clause 42/);
  });
});

describe('experiment filter and order_by parser', () => {
  const valid: [string, string][] = [
    ["name = 'x'", "attribute.name = 'x'"],
    ["attributes.name LIKE 'search-%'", "attribute.name LIKE 'search-%'"],
    ["name ILIKE '%X%'", "attribute.name ILIKE '%X%'"],
    ['creation_time > 5', 'attribute.creation_time > 5'],
    ['last_update_time <= 7.5', 'attribute.last_update_time <= 7.5'],
    ["tags.owner = 'ann' OR tags.team IS NULL", "(tag.owner = 'ann' OR tag.team IS NULL)"],
    ["tags.`a b` NOT IN ('x')", "tag.a b NOT IN ('x')"],
  ];
  for (const [input, expected] of valid) {
    it(`parses ${input}`, () => {
      const n = parseExperimentFilter(input);
      assert.equal(n && show(n), expected);
    });
  }
  const invalid: [string, number, RegExp][] = [
    ['metrics.a > 1', 0, /entity \(tags or attributes\) .* but found 'metrics'/],
    ["status = 'x'", 0, /attribute \(name, creation_time, last_update_time, experiment_id\)/],
    ["creation_time = 'x'", 16, /a number/],
    ["name > 'x'", 5, /operator for attribute 'name'/],
    ['name IS NULL', 5, /operator for attribute 'name'/],
  ];
  for (const [input, pos, message] of invalid) {
    it(`rejects ${JSON.stringify(input)}`, () => rejects(() => parseExperimentFilter(input), pos, message));
  }

  it('parses experiment ordering', () => {
    assert.deepEqual(parseExperimentOrderBy(['name DESC', 'last_update_time', 'experiment_id desc', 'attributes.creation_time ASC']).map(showOrder), [
      'attribute.name DESC',
      'attribute.last_update_time ASC',
      'attribute.experiment_id DESC',
      'attribute.creation_time ASC',
    ]);
    rejects(() => parseExperimentOrderBy(['metrics.a']), undefined, /order_by clause 'metrics\.a'/);
    rejects(() => parseExperimentOrderBy(['tags.a']), undefined, /expected an orderable field: an attribute \(name, experiment_id, creation_time, last_update_time\) but found 'tags\.a'/);
    rejects(() => parseExperimentOrderBy(['artifact_location']), undefined, /order_by clause 'artifact_location'/);
  });
});
