import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
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

  it('records whether tracked files changed, and the package manifest and lockfile with their digests', () => {
    const root = mkdtempSync(join(tmpdir(), 'kiln-git-'));
    const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd: root, stdio: 'ignore' });
    mkdirSync(join(root, 'train'));
    const manifest = '{"name":"train","version":"1.0.0"}\n';
    const lock = '{"lockfileVersion":3}\n';
    writeFileSync(join(root, 'train', 'package.json'), manifest);
    writeFileSync(join(root, 'train', 'package-lock.json'), lock);
    writeFileSync(join(root, 'train', 'train.mjs'), 'console.log(1);\n');
    git('init', '-q');
    git('add', '.');
    git('commit', '-qm', 'first');
    const entry = join(root, 'train', 'train.mjs');
    const sha = (text: string) => createHash('sha256').update(text).digest('hex');
    let tags = sourceTags(root, entry);
    assert.equal(tags['kiln.source.git.dirty'], 'false');
    assert.equal(tags['kiln.runtime.manifest'], 'train/package.json');
    assert.equal(tags['kiln.runtime.manifest.sha256'], sha(manifest));
    assert.equal(tags['kiln.runtime.lockfile'], 'train/package-lock.json');
    assert.equal(tags['kiln.runtime.lockfile.sha256'], sha(lock));
    writeFileSync(join(root, 'untracked.txt'), 'x');
    assert.equal(sourceTags(root, entry)['kiln.source.git.dirty'], 'false', 'untracked files do not count');
    writeFileSync(entry, 'console.log(2);\n');
    tags = sourceTags(root, entry);
    assert.equal(tags['kiln.source.git.dirty'], 'true');

    // Outside a repository: no dirty flag, the manifest by its absolute path, no lockfile when there is none.
    const plain = mkdtempSync(join(tmpdir(), 'kiln-nogit-'));
    writeFileSync(join(plain, 'package.json'), manifest);
    tags = sourceTags(plain, join(plain, 'train.mjs'));
    assert.equal(tags['kiln.source.git.dirty'], undefined);
    assert.equal(tags['kiln.runtime.manifest'], join(plain, 'package.json'));
    assert.equal(tags['kiln.runtime.lockfile'], undefined);
    assert.equal(tags['kiln.runtime.lockfile.sha256'], undefined);
  });
});
