import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_BATCHING, followedAlias, mergeConfig, modelNameOfUri, validateDeploymentName } from './config.js';

test('a create fills the defaults; `model` is one target with all the traffic', () => {
  const c = mergeConfig(undefined, { model: 'models:/rain@production' });
  assert.deepEqual(c.targets, [{ model: 'models:/rain@production', weight: 1 }]);
  assert.deepEqual(c.batching, DEFAULT_BATCHING);
  assert.equal(c.shadow, null);
  assert.equal(c.guard, null);
  assert.equal(c.payload_log.sample_rate, 1);
});

test('an update keeps what it does not name and merges partial sections', () => {
  const base = mergeConfig(undefined, { targets: [{ model: 'models:/m/1', weight: 9 }, { model: 'models:/m/2', weight: 1 }], shadow: { model: 'models:/m/3', fraction: 0.5 } });
  const next = mergeConfig(base, { batching: { max_batch_size: 8 }, sticky_header: 'X-User' });
  assert.deepEqual(next.targets, base.targets);
  assert.deepEqual(next.shadow, base.shadow);
  assert.equal(next.batching.max_batch_size, 8);
  assert.equal(next.batching.enabled, true);
  assert.equal(next.sticky_header, 'x-user');
  assert.equal(mergeConfig(next, { shadow: null }).shadow, null);
});

test('refuses configurations that could not route or never trip', () => {
  assert.throws(() => mergeConfig(undefined, {}), /Missing value for required parameter 'model'/);
  assert.throws(() => mergeConfig(undefined, { model: 'models:/m/1', targets: [{ model: 'models:/m/2' }] }), /either 'model'/);
  assert.throws(() => mergeConfig(undefined, { targets: [{ model: 'models:/m/1', weight: 0 }] }), /weight above 0/);
  assert.throws(() => mergeConfig(undefined, { targets: [{ model: 'models:/m/1' }, { model: 'models:/m/1' }] }), /listed twice/);
  assert.throws(() => mergeConfig(undefined, { model: 'models:/m/1', guard: { window_seconds: 10, min_requests: 5 } }), /never trips/);
});

test('model URIs: the model they name, and the alias they follow', () => {
  assert.equal(modelNameOfUri('models:/rain@production'), 'rain');
  assert.equal(modelNameOfUri('models:/rain/3'), 'rain');
  assert.equal(modelNameOfUri('models:/r%20a/3'), 'r a');
  assert.equal(modelNameOfUri('runs:/abc/model'), undefined);
  assert.equal(modelNameOfUri(42), undefined);
  assert.deepEqual(followedAlias('models:/rain@production'), { name: 'rain', alias: 'production' });
  assert.deepEqual(followedAlias('models:/rain/latest'), { name: 'rain', alias: 'latest' });
  assert.equal(followedAlias('models:/rain/3'), undefined);
});

test('deployment names are safe in URLs and OIP paths', () => {
  assert.equal(validateDeploymentName('rain-v2.prod_1'), 'rain-v2.prod_1');
  for (const bad of ['', 'a b', '../x', '-x', 'x/y', 'é', 'a'.repeat(129)]) assert.throws(() => validateDeploymentName(bad), /Invalid deployment name/);
});
