import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatDatasetRef, parseDatasetRef, parseVersionSelector, validateDatasetName } from './refs.js';

test('dataset references: name@vN, name@N, name@latest, bare name', () => {
  assert.deepEqual(parseDatasetRef('weather@v3'), { name: 'weather', version: 3 });
  assert.deepEqual(parseDatasetRef('weather@3'), { name: 'weather', version: 3 });
  assert.deepEqual(parseDatasetRef('weather@V12'), { name: 'weather', version: 12 });
  assert.deepEqual(parseDatasetRef('weather@latest'), { name: 'weather', version: 'latest' });
  assert.deepEqual(parseDatasetRef('weather'), { name: 'weather', version: 'latest' });
  assert.deepEqual(parseDatasetRef('my.data_set-2@v1'), { name: 'my.data_set-2', version: 1 });
  assert.equal(formatDatasetRef('weather', 4), 'weather@v4');
});

test('bad references are INVALID_PARAMETER_VALUE with the reference in the message', () => {
  for (const bad of ['', '@v1', 'weather@', 'weather@v0', 'weather@v-1', 'weather@x', 'weather@1.5', '../x@v1', 'a/b@v1', 'we ather@v1', 'weather@v1@v2']) {
    assert.throws(() => parseDatasetRef(bad), (e: { code?: string }) => e.code === 'INVALID_PARAMETER_VALUE', bad);
  }
  assert.throws(() => parseDatasetRef('weather', { requireVersion: true }), /names no version/);
  assert.throws(() => parseDatasetRef(42), /required/);
});

test('version selectors and names', () => {
  assert.equal(parseVersionSelector('v7'), 7);
  assert.equal(parseVersionSelector(7), 7);
  assert.equal(parseVersionSelector('LATEST'), 'latest');
  assert.throws(() => parseVersionSelector(0));
  assert.throws(() => parseVersionSelector('v01'));
  assert.equal(validateDatasetName('a'), 'a');
  assert.throws(() => validateDatasetName('-a'));
  assert.throws(() => validateDatasetName('a'.repeat(201)));
  assert.throws(() => validateDatasetName('.hidden'));
});
