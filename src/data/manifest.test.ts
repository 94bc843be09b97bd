import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { blobPath, canonicalManifest, manifestDigest, mlflowDigest, validateManifest } from './manifest.js';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

test('a single file: the digest is the SHA-256 of its bytes', () => {
  const files = [{ path: 'weather.csv', sha256: sha('a,b\n1,2\n'), bytes: 8 }];
  assert.equal(manifestDigest(files), sha('a,b\n1,2\n'));
  assert.equal(mlflowDigest(manifestDigest(files)).length, 36);
});

test('a folder: the digest is the SHA-256 of the canonical manifest, whatever the order given', () => {
  const a = { path: 'part-0.csv', sha256: sha('x'), bytes: 1 };
  const b = { path: 'sub/part-1.csv', sha256: sha('y'), bytes: 1 };
  const canonical = `[{"path":"part-0.csv","sha256":"${sha('x')}","bytes":1},{"path":"sub/part-1.csv","sha256":"${sha('y')}","bytes":1}]`;
  assert.equal(canonicalManifest([b, a]), canonical);
  assert.equal(manifestDigest([b, a]), sha(canonical));
  assert.equal(manifestDigest([a, b]), manifestDigest([b, a]));
  assert.notEqual(manifestDigest([a, { ...b, path: 'sub/part-2.csv' }]), manifestDigest([a, b]), 'a renamed file is other content');
});

test('blobs are spread over 256 folders', () => {
  const s = sha('x');
  assert.equal(blobPath(s), `datasets/blobs/sha256/${s.slice(0, 2)}/${s}`);
});

test('manifests are checked: paths, digests, sizes, one format', () => {
  const ok = { sha256: sha('x'), bytes: 1 };
  assert.deepEqual(validateManifest([{ path: 'b.csv', ...ok }, { path: './a.csv', ...ok }]).files.map((f) => f.path), ['a.csv', 'b.csv']);
  assert.equal(validateManifest([{ path: 'a.parquet', ...ok }]).format, 'parquet');
  const cases: [unknown, RegExp][] = [
    [[], /non-empty/],
    [[{ path: '../etc/passwd.csv', ...ok }], /files\[0\]\.path: .*'\.\.'/],
    [[{ path: '/etc/x.csv', ...ok }], /files\[0\]\.path: .*absolute/],
    [[{ path: 'a.csv', ...ok }, { path: 'a.csv', ...ok }], /duplicate path/],
    [[{ path: 'a.txt', ...ok }], /not a data file/],
    [[{ path: 'a.csv', sha256: 'XYZ', bytes: 1 }], /files\[0\]\.sha256/],
    [[{ path: 'a.csv', sha256: sha('x'), bytes: -1 }], /files\[0\]\.bytes/],
    [[{ path: 'a.csv', ...ok }, { path: 'b.jsonl', ...ok }], /one format/],
  ];
  for (const [files, re] of cases) assert.throws(() => validateManifest(files), (e: Error & { code?: string }) => e.code === 'INVALID_PARAMETER_VALUE' && re.test(e.message), JSON.stringify(files));
});
