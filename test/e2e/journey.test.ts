import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../support/backends.js';

const ROOT = process.cwd();
const BIN = join(ROOT, 'bin', 'kiln.js');

function run(cmd: string[], env: Record<string, string>, cwd = ROOT): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, cmd, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out, err }));
  });
}

/** A user's first hour: start the server on the embedded defaults, log from the SDK, find and fetch from the CLI. */
describe('journey: start, log a first run, find it, fetch its artifacts', () => {
  let server: ChildProcess;
  let url = '';
  const home = tempDir('kiln-home-');
  before(async () => {
    // `kiln server` with nothing but a data folder: SQLite and a local artifact folder under it.
    server = spawn(process.execPath, [BIN, 'server', '--port', '0', '--log-level', 'warn'], { cwd: ROOT, env: { ...process.env, KILN_HOME: home }, stdio: ['ignore', 'ignore', 'pipe'] });
    url = await new Promise<string>((resolve, reject) => {
      let err = '';
      server.stderr!.on('data', (d: Buffer) => {
        err += d.toString();
        const m = /listening on (http:\/\/\S+)/.exec(err);
        if (m) resolve(m[1]!);
      });
      server.on('exit', (c) => reject(new Error(`server exited ${c}: ${err}`)));
    });
  });
  after(async () => {
    server.kill('SIGTERM');
    await new Promise((r) => (server.exitCode !== null ? r(null) : server.once('exit', r)));
    rmSync(home, { recursive: true, force: true });
  });

  it('answers /health and keeps its data under KILN_HOME', async () => {
    assert.equal(await (await fetch(`${url}/health`)).text(), 'OK');
    assert.ok(existsSync(join(home, 'kiln.db')));
    assert.ok(existsSync(join(home, 'artifacts')));
  });

  it('logs the example run, finds it, and downloads its artifacts', async () => {
    const env = { KILN_TRACKING_URI: url };
    const logged = await run([join(ROOT, 'examples', 'first-run.mjs')], env);
    assert.equal(logged.code, 0, logged.err);
    const runId = /logged run ([0-9a-f]{32})/.exec(logged.out)?.[1];
    assert.ok(runId, logged.out);

    const found = await run([BIN, 'runs', 'search', '--experiment', 'quickstart', '--filter', 'metrics.accuracy > 0.9', '--json'], env);
    assert.equal(found.code, 0, found.err);
    const runs = JSON.parse(found.out).runs;
    assert.deepEqual(runs.map((r: { run_id: string }) => r.run_id), [runId]);
    assert.equal(runs[0].status, 'FINISHED');
    assert.equal(runs[0].metrics.loss.value, 0.05);
    assert.equal(runs[0].metrics.loss.step, 19);
    assert.deepEqual(runs[0].params, { epochs: '20', lr: '0.01' });

    const dest = tempDir('kiln-dl-');
    const dl = await run([BIN, 'runs', 'artifacts', 'download', runId, '--dest', dest], env);
    assert.equal(dl.code, 0, dl.err);
    assert.deepEqual(JSON.parse(readFileSync(join(dest, 'meta', 'classes.json'), 'utf8')), { classes: ['cat', 'dog'] });
    rmSync(dest, { recursive: true, force: true });

    const shown = await run([BIN, 'runs', 'get', runId], env);
    assert.match(shown.out, /first-run/);
    assert.match(shown.out, /accuracy/);
  });
});
