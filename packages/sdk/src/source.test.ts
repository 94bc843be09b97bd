import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sourceTags } from './source.js';

describe('run source tags', () => {
  const sha = 'a'.repeat(40);
  it('reads the commit, branch and remote of the enclosing repository', () => {
    const root = mkdtempSync(join(tmpdir(), 'kiln-git-'));
    mkdirSync(join(root, '.git', 'refs', 'heads'), { recursive: true });
    mkdirSync(join(root, 'src'));
    writeFileSync(join(root, '.git', 'HEAD'), 'ref: refs/heads/main\n');
    writeFileSync(join(root, '.git', 'refs', 'heads', 'main'), `${sha}\n`);
    writeFileSync(join(root, '.git', 'config'), '[core]\n\tbare = false\n[remote "origin"]\n\turl = https://user:secret@example.com/team/repo.git\n');
    const tags = sourceTags(join(root, 'src'), join(root, 'src', 'train.ts'));
    assert.equal(tags['mlflow.source.git.commit'], sha);
    assert.equal(tags['mlflow.source.git.branch'], 'main');
    assert.equal(tags['mlflow.source.git.repoURL'], 'https://example.com/team/repo.git');
    assert.equal(tags['mlflow.source.name'], 'src/train.ts');
    assert.equal(tags['kiln.runtime.node'], process.version);
  });

  it('follows packed refs and detached heads, and works outside a repository', () => {
    const root = mkdtempSync(join(tmpdir(), 'kiln-git-'));
    mkdirSync(join(root, '.git'));
    writeFileSync(join(root, '.git', 'HEAD'), 'ref: refs/heads/dev\n');
    writeFileSync(join(root, '.git', 'packed-refs'), `# pack-refs with: peeled\n${'b'.repeat(40)} refs/heads/dev\n`);
    assert.equal(sourceTags(root, join(root, 'x.js'))['mlflow.source.git.commit'], 'b'.repeat(40));
    writeFileSync(join(root, '.git', 'HEAD'), `${'c'.repeat(40)}\n`);
    assert.equal(sourceTags(root, join(root, 'x.js'))['mlflow.source.git.commit'], 'c'.repeat(40));
    const none = mkdtempSync(join(tmpdir(), 'kiln-nogit-'));
    const tags = sourceTags(none, '/abs/script.js');
    assert.equal(tags['mlflow.source.git.commit'], undefined);
    assert.equal(tags['mlflow.source.name'], '/abs/script.js');
  });
});
