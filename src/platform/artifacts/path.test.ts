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
    ['a/b/', 'a/b'],
    ['data set/file name.csv', 'data set/file name.csv'],
    ['résumé.txt', 'résumé.txt'],
    ['re\u0301sume\u0301.txt', 'résumé.txt'],
    ['中文/📈.png', '中文/📈.png'],
    ['a..b/c', 'a..b/c'],
    ['...', '...'],
    ['.hidden', '.hidden'],
    ['a%20b', 'a%20b'],
  ];
  for (const [input, out] of good) it(`accepts ${JSON.stringify(input)}`, () => assert.equal(normalizeArtifactPath(input), out));

  const bad: [string, RegExp][] = [
    ['../x', /'\.\.'/],
    ['a/../../x', /'\.\.'/],
    ['a/..', /'\.\.'/],
    ['..', /'\.\.'/],
    ['%2e%2e/x', /'\.\.'/],
    ['a/%2E%2E/b', /'\.\.'/],
    ['a%2F..%2Fb', /'\.\.'/],
    ['/etc/passwd', /absolute/],
    ['C:/Windows', /absolute/],
    ['c:evil', /absolute/],
    ['a\\b', /backslash/],
    ['..\\..\\x', /backslash/],
    ['a\u0000b', /control/],
    ['a\nb', /control/],
    ['a\u007fb', /control/],
    ['', /empty/],
    ['/', /absolute/],
    ['./', /empty/],
    ['x'.repeat(1025), /longer than 1024/],
    ['é'.repeat(128) + '/x', /longer than 255 bytes/],
  ];
  for (const [input, msg] of bad) {
    it(`refuses ${JSON.stringify(input.slice(0, 30))}`, () => {
      assert.throws(() => normalizeArtifactPath(input), (e: Error & { code?: string }) => e.code === 'INVALID_PARAMETER_VALUE' && msg.test(e.message));
    });
  }

  it('allows the root only when asked', () => {
    assert.equal(normalizeArtifactPath('', { allowEmpty: true }), '');
    assert.equal(normalizeArtifactPath('./', { allowEmpty: true }), '');
  });

  it('joins relative parts', () => {
    assert.equal(joinArtifactPath('1', '', 'a/b'), '1/a/b');
    assert.equal(joinArtifactPath('', ''), '');
  });
});
