import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const KILN_BIN = join(process.cwd(), 'bin', 'kiln.js');

export interface CliResult {
  readonly code: number | null;
  readonly out: string;
  readonly err: string;
}

/** Runs the built `kiln` CLI as a separate process (asynchronously: a test server may live in this process). */
export function kiln(args: string[], env: Record<string, string> = {}, timeoutMs = 60_000): Promise<CliResult> {
  return run(process.execPath, [KILN_BIN, ...args], env, timeoutMs);
}

function run(command: string, args: string[], env: Record<string, string>, timeoutMs: number): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    });
  });
}

/** Runs a bash command line (e.g. `kiln … | head -1`) asynchronously; `kiln` in it is the built CLI. */
export function shell(command: string, env: Record<string, string> = {}, timeoutMs = 60_000): Promise<CliResult> {
  return run('bash', ['-c', `kiln() { "$KILN_TEST_NODE" "$KILN_TEST_BIN" "$@"; }\n${command}`], { ...env, KILN_TEST_NODE: process.execPath, KILN_TEST_BIN: KILN_BIN }, timeoutMs);
}

// A module resolve hook that appends every resolved URL to $KILN_TEST_LOAD_LOG (hooks run in their own thread).
const LOAD_HOOKS = `import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  appendFileSync(process.env.KILN_TEST_LOAD_LOG, r.url + '\\n');
  return r;
}`;
// Registers it, and writes Node's own list of the built-in modules it loaded (process.moduleLoadList, which names the
// internal ones such as undici behind fetch) to $KILN_TEST_BUILTIN_LOG as the process exits.
const REGISTER_LOAD_HOOKS = `import { register } from 'node:module'; import { writeFileSync } from 'node:fs';
register(${JSON.stringify('data:text/javascript,' + encodeURIComponent(LOAD_HOOKS))});
process.on('exit', () => writeFileSync(process.env.KILN_TEST_BUILTIN_LOG, process.moduleLoadList.join('\\n')));`;

const lines = (file: string) => {
  try {
    return readFileSync(file, 'utf8').split('\n').filter(Boolean);
  } catch {
    return []; // nothing was loaded
  }
};

/**
 * Runs the CLI and returns, with its result, the URL of every module it imported and the built-in modules Node
 * loaded (`NativeModule http`, `NativeModule internal/deps/undici/undici`, …).
 */
export async function kilnModules(args: string[], env: Record<string, string> = {}): Promise<CliResult & { readonly modules: string[]; readonly builtins: string[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-loads-'));
  const log = join(dir, 'modules.txt');
  const builtinLog = join(dir, 'builtins.txt');
  try {
    const r = await run(process.execPath, ['--import', 'data:text/javascript,' + encodeURIComponent(REGISTER_LOAD_HOOKS), KILN_BIN, ...args], { ...env, KILN_TEST_LOAD_LOG: log, KILN_TEST_BUILTIN_LOG: builtinLog }, 60_000);
    return { ...r, modules: lines(log), builtins: lines(builtinLog) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
