import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { orderByDependencies } from './capability.js';

const cap = (name: string, dependsOn: string[] = []) => ({ name, dependsOn });
const names = (list: { name: string }[]) => list.map((c) => c.name);

describe('orderByDependencies', () => {
  it('puts every capability after what it depends on, keeping the listed order otherwise', () => {
    const list = [cap('mlflow', ['tracking', 'registry']), cap('tracking'), cap('lineage', ['registry', 'data']), cap('data'), cap('registry', ['tracking', 'data'])];
    assert.deepEqual(names(orderByDependencies(list)), ['tracking', 'data', 'registry', 'mlflow', 'lineage']);
    assert.deepEqual(names(orderByDependencies([cap('a'), cap('b'), cap('c')])), ['a', 'b', 'c']);
  });

  it('refuses a cycle, naming it', () => {
    assert.throws(() => orderByDependencies([cap('a', ['b']), cap('b', ['c']), cap('c', ['a'])]), /cycle: a → b → c → a/);
    assert.throws(() => orderByDependencies([cap('a', ['a'])]), /cycle: a → a/);
  });

  it('refuses an unknown dependency and a duplicate name', () => {
    assert.throws(() => orderByDependencies([cap('lineage', ['registry'])]), /'lineage' depends on 'registry', which is not in the module list/);
    assert.throws(() => orderByDependencies([cap('a'), cap('a')]), /'a' is listed twice/);
  });
});
