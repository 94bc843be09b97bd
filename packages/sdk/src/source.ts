import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { arch, platform, release } from 'node:os';
import { VERSION } from './version.js';

/**
 * What a run records about where it came from, as MLflow's clients do (mlflow.source.*), plus the runtime
 * (kiln.runtime.*): enough for `kiln models reproduce` to say which commit, entry point and runtime made a model.
 * Git is read from the .git folder (no git binary needed); a detached HEAD or packed refs are handled.
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
  }
  return tags;
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
