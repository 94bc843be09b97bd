import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { arch, platform, release } from 'node:os';
import { VERSION } from './version.js';

/**
 * What a run records about where it came from, as MLflow's clients do (mlflow.source.*), plus the runtime
 * (kiln.runtime.*): enough for `kiln models reproduce` to say which commit, entry point, dependencies and runtime made
 * a model. Git is read from the .git folder (no git binary needed); a detached HEAD or packed refs are handled. Only
 * whether the working tree has uncommitted changes (kiln.source.git.dirty) asks the git binary, and is left out
 * when there is none. The package manifest is the nearest package.json above the entry script, the lockfile the
 * one beside it; each is recorded with its SHA-256.
 */
export function sourceTags(cwd = process.cwd(), entry = process.argv[1]): Record<string, string> {
  const tags: Record<string, string> = {
    'kiln.runtime.node': process.version,
    'kiln.runtime.platform': `${platform()}-${arch()} ${release()}`,
    'kiln.runtime.kiln': VERSION,
  };
  const git = findGit(cwd);
  if (entry) tags['mlflow.source.name'] = git ? relative(git.root, resolve(entry)).split('\\').join('/') : entry;
  if (git) {
    const head = readGitHead(git.dir);
    if (head.commit) tags['mlflow.source.git.commit'] = head.commit;
    if (head.branch) tags['mlflow.source.git.branch'] = head.branch;
    const remote = readRemote(git.dir);
    if (remote) tags['mlflow.source.git.repoURL'] = remote;
    const dirty = isDirty(git.root);
    if (dirty !== undefined) tags['kiln.source.git.dirty'] = String(dirty);
  }
  const manifest = findUp(entry ? dirname(resolve(entry)) : resolve(cwd), 'package.json');
  if (manifest) {
    const where = (file: string) => (git ? relative(git.root, file).split('\\').join('/') : file);
    const digest = sha256(manifest);
    if (digest) {
      tags['kiln.runtime.manifest'] = where(manifest);
      tags['kiln.runtime.manifest.sha256'] = digest;
    }
    for (const name of LOCKFILES) {
      const lock = join(dirname(manifest), name);
      const lockDigest = existsSync(lock) ? sha256(lock) : undefined;
      if (lockDigest) {
        tags['kiln.runtime.lockfile'] = where(lock);
        tags['kiln.runtime.lockfile.sha256'] = lockDigest;
        break;
      }
    }
  }
  return tags;
}

/** The lockfiles of npm, pnpm, yarn and bun, in the order they are looked for. */
const LOCKFILES = ['package-lock.json', 'npm-shrinkwrap.json', 'pnpm-lock.yaml', 'yarn.lock', 'bun.lockb'];

function findUp(start: string, name: string): string | undefined {
  let dir = start;
  for (;;) {
    const candidate = join(dir, name);
    if (existsSync(candidate)) return candidate;
    const up = dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}

function sha256(file: string): string | undefined {
  try {
    return createHash('sha256').update(readFileSync(file)).digest('hex');
  } catch {
    return undefined;
  }
}

/** Whether tracked files have uncommitted changes (untracked files do not count); undefined without a usable git. */
function isDirty(root: string): boolean | undefined {
  try {
    const out = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: root, encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'pipe', 'ignore'] });
    return out.trim() !== '';
  } catch {
    return undefined;
  }
}

function findGit(start: string): { root: string; dir: string } | undefined {
  let dir = resolve(start);
  for (;;) {
    const candidate = join(dir, '.git');
    if (existsSync(candidate)) {
      if (statSync(candidate).isDirectory()) return { root: dir, dir: candidate };
      // a worktree or submodule: ".git" is a file naming the real folder
      const m = /^gitdir:\s*(.+)$/m.exec(readFileSync(candidate, 'utf8'));
      if (m) return { root: dir, dir: resolve(dir, m[1]!.trim()) };
    }
    const up = dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}

function readGitHead(gitDir: string): { commit?: string; branch?: string } {
  try {
    const head = readFileSync(join(gitDir, 'HEAD'), 'utf8').trim();
    if (/^[0-9a-f]{40}$/.test(head)) return { commit: head };
    const ref = /^ref:\s*(.+)$/.exec(head)?.[1];
    if (!ref) return {};
    const branch = ref.replace(/^refs\/heads\//, '');
    for (const dir of [gitDir, commonDir(gitDir)]) {
      const loose = join(dir, ref);
      if (existsSync(loose)) return { commit: readFileSync(loose, 'utf8').trim(), branch };
      const packed = join(dir, 'packed-refs');
      if (existsSync(packed)) {
        const line = readFileSync(packed, 'utf8').split('\n').find((l) => l.endsWith(` ${ref}`));
        if (line) return { commit: line.split(' ')[0]!, branch };
      }
    }
    return { branch };
  } catch {
    return {};
  }
}

function commonDir(gitDir: string): string {
  const f = join(gitDir, 'commondir');
  return existsSync(f) ? resolve(gitDir, readFileSync(f, 'utf8').trim()) : gitDir;
}

function readRemote(gitDir: string): string | undefined {
  try {
    const config = readFileSync(join(commonDir(gitDir), 'config'), 'utf8');
    const m = /\[remote "origin"\][^[]*?url\s*=\s*(\S+)/.exec(config);
    // Credentials in a remote URL are not recorded.
    return m?.[1]?.replace(/\/\/[^/@]+@/, '//');
  } catch {
    return undefined;
  }
}
