import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { pathForHash } from './hash-links.js';

describe('links printed by MLflow clients', () => {
  it('maps run, experiment, model and compare hashes to pages', () => {
    assert.equal(pathForHash('#/experiments/3/runs/0a1b2c'), '/runs/0a1b2c');
    assert.equal(pathForHash('#/experiments/3/runs/0a1b2c/artifacts/model'), '/runs/0a1b2c');
    assert.equal(pathForHash('#/experiments/3'), '/experiments/3');
    assert.equal(pathForHash('#/experiments'), '/experiments');
    assert.equal(pathForHash('#/models/rain/versions/4'), '/models/rain/versions/4');
    assert.equal(pathForHash('#/models/my%20model'), '/models/my%20model');
    assert.equal(pathForHash('#/models/a b'), '/models/a%20b');
    assert.equal(pathForHash('#/models'), '/models');
    assert.equal(pathForHash(`#/compare-runs?runs=${encodeURIComponent('["a","b"]')}&experiments=${encodeURIComponent('["1"]')}`), '/compare?runs=a,b');
  });

  it('leaves other hashes alone', () => {
    assert.equal(pathForHash(''), undefined);
    assert.equal(pathForHash('#section'), undefined);
    assert.equal(pathForHash('#/somewhere-else'), undefined);
  });
});
