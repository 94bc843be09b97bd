import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { joinArtifactPath, normalizeArtifactPath } from './path.js';

describe('artifact paths', () => {
  const good: [string, string][] = [
    ['model.onnx', 'model.onnx'],
    ['a/b/c.txt', 'a/b/c.txt'],
    ['a//b', 'a/b'],
    ['a/./b', 'a/b'],
    ['./a', 'a'],
    ['a/.', 'a'],
    ['a/b/', 'a/b'],
    ['a///b//', 'a/b'],
    ['data set/file name.csv', 'data set/file name.csv'],
    [' leading and trailing spaces ', ' leading and trailing spaces '],
    ['résumé.txt', 'résumé.txt'],
    ['re\u0301sume\u0301.txt', 'résumé.txt'], // NFD → NFC
    ['中文/📈.png', '中文/📈.png'],
    ['a..b/c', 'a..b/c'],
    ['...', '...'],
    ['.hidden/.env', '.hidden/.env'],
    ['a%20b', 'a%20b'], // taken literally: decoding is the HTTP layer's job
    ['a%2Fb', 'a%2Fb'], // an encoded slash without traversal is just a name
    ['100%', '100%'],
    ['%zz/%', '%zz/%'],
    ['epoch:3/step:10', 'epoch:3/step:10'],
    ['x'.repeat(255), 'x'.repeat(255)],
    [Array.from({ length: 8 }, () => 'y'.repeat(127)).join('/'), Array.from({ length: 8 }, () => 'y'.repeat(127)).join('/')], // 1023 bytes
  ];
  for (const [input, out] of good) {
    it(`accepts ${JSON.stringify(input.length > 40 ? input.slice(0, 40) + '…' : input)}`, () => assert.equal(normalizeArtifactPath(input), out));
  }

  const bad: [string, RegExp][] = [
    ['../x', /'\.\.'/],
    ['a/../../x', /'\.\.'/],
    ['a/..', /'\.\.'/],
    ['a/../b', /'\.\.'/], // refused even where it would stay inside
    ['..', /'\.\.'/],
    ['./..', /'\.\.'/],
    ['%2e%2e/x', /'\.\.'/],
    ['a/%2E%2E/b', /'\.\.'/],
    ['.%2e/x', /'\.\.'/],
    ['a%2F..%2Fb', /'\.\.'/],
    ['%252e%252e/x', /'\.\.'/], // encoded twice
    ['a%5C..%5Cb', /'\.\.'/],
    ['/etc/passwd', /absolute/],
    ['/', /absolute/],
    ['//server/share', /absolute/],
    ['C:/Windows', /absolute/],
    ['C:\\Windows', /absolute/],
    ['c:evil', /absolute/], // drive-relative on Windows
    ['a:b', /absolute/],
    ['\\\\server\\share', /absolute/],
    ['\\x', /absolute/],
    ['a\\b', /backslash/],
    ['..\\..\\x', /backslash/],
    ['a\u0000b', /control/],
    ['a\nb', /control/],
    ['tab\there', /control/],
    ['a\u007fb', /control/],
    ['a\u0085b', /control/],
    ['bad\uD800surrogate', /Unicode/],
    ['', /empty/],
    ['.', /empty/],
    ['./', /empty/],
    [Array.from({ length: 9 }, () => 'z'.repeat(120)).join('/'), /longer than 1024 bytes/], // 1088 bytes
    ['é'.repeat(512) + '/x', /longer than 255 bytes/],
    ['x'.repeat(256), /longer than 255 bytes/],
    ['/'.repeat(5000), /longer than 1024 bytes/],
  ];
  for (const [input, msg] of bad) {
    it(`refuses ${JSON.stringify(input.length > 40 ? input.slice(0, 40) + '…' : input)}`, () => {
      assert.throws(
        () => normalizeArtifactPath(input),
        (e: Error & { code?: string }) => {
          assert.equal(e.code, 'INVALID_PARAMETER_VALUE');
          assert.match(e.message, msg);
          assert.doesNotMatch(e.message, /[\u0000-\u001f]/, 'control characters are not echoed'); // eslint-disable-line no-control-regex
          return true;
        },
      );
    });
  }

  it('is idempotent on its own output', () => {
    for (const [, out] of good) assert.equal(normalizeArtifactPath(out), out);
  });

  it('allows the root only when asked', () => {
    assert.equal(normalizeArtifactPath('', { allowEmpty: true }), '');
    assert.equal(normalizeArtifactPath('./', { allowEmpty: true }), '');
    assert.equal(normalizeArtifactPath('.//.', { allowEmpty: true }), '');
    assert.throws(() => normalizeArtifactPath('/', { allowEmpty: true }), /absolute/);
    assert.throws(() => normalizeArtifactPath('..', { allowEmpty: true }), /'\.\.'/);
  });

  it('refuses non-strings', () => {
    assert.throws(() => normalizeArtifactPath(undefined as unknown as string), /must be a string/);
  });

  it('joins relative parts into one canonical path', () => {
    assert.equal(joinArtifactPath('1', '', 'a/b'), '1/a/b');
    assert.equal(joinArtifactPath('1/abc/artifacts', 'model/'), '1/abc/artifacts/model');
    assert.equal(joinArtifactPath('a', 'cafe\u0301'), 'a/café');
    assert.equal(joinArtifactPath('', ''), '');
    assert.equal(joinArtifactPath(), '');
    assert.throws(() => joinArtifactPath('1', '../2'), /'\.\.'/);
    assert.throws(() => joinArtifactPath('/abs', 'x'), /absolute/);
  });
});
