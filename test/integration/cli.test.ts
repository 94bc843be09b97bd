import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { kiln, kilnModules, shell } from '../support/cli.js';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../support/backends.js';
import { call, startTestServer, type TestServer } from '../support/server.js';

/** A loopback port nothing listens on (it was free a moment ago). */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

describe('kiln CLI', () => {
  let ts: TestServer;
  let runId = '';
  before(async () => {
    ts = await startTestServer({ store: 'sqlite' });
    const exp = (await call(ts.url, 'POST', '/api/2.0/mlflow/experiments/create', { name: 'cli-exp' })).body.experiment_id;
    for (const [name, acc, lr] of [['a', 0.7, '0.1'], ['b', 0.9, '0.01'], ['c', 0.8, '0.01']] as const) {
      const id = (await call(ts.url, 'POST', '/api/2.0/mlflow/runs/create', { experiment_id: exp, run_name: name })).body.run.info.run_id;
      await call(ts.url, 'POST', '/api/2.0/mlflow/runs/log-batch', { run_id: id, metrics: [{ key: 'acc', value: acc, timestamp: 1 }], params: [{ key: 'lr', value: lr }] });
      if (name === 'b') runId = id;
    }
    await fetch(`${ts.url}/api/v1/runs/${runId}/artifacts/model/weights.bin`, { method: 'PUT', body: 'abc' });
    await fetch(`${ts.url}/api/v1/runs/${runId}/artifacts/notes.txt`, { method: 'PUT', body: 'hello' });
  });
  after(async () => {
    await ts?.stop();
  });
  const env = () => ({ KILN_TRACKING_URI: ts.url });

  it('prints help everywhere and exits 0', async () => {
    for (const args of [['--help'], ['server', '--help'], ['runs', 'search', '--help'], ['experiments', '--help'], ['db', 'upgrade', '--help'], ['runs', 'artifacts', 'download', '--help']]) {
      const r = await kiln(args);
      assert.equal(r.code, 0, args.join(' '));
      assert.match(r.out, /Usage: kiln/);
    }
    assert.match((await kiln(['server', '--help'])).out, /--store <uri>/);
  });

  it('exits 2 on usage errors and 1 on errors', async () => {
    assert.equal((await kiln(['runs', 'search'])).code, 2, 'missing required --experiment');
    assert.equal((await kiln(['no-such-command'])).code, 2);
    const r = await kiln(['experiments', 'get', 'does-not-exist'], env());
    assert.equal(r.code, 1);
    assert.match(r.err, /does-not-exist/);
    const down = await kiln(['experiments', 'list'], { KILN_TRACKING_URI: 'http://127.0.0.1:1' });
    assert.equal(down.code, 1);
    assert.match(down.err, /cannot reach/);
  });

  it('manages experiments', async () => {
    let r = await kiln(['experiments', 'create', 'cli-made', '--tag', 'team=ml', '--json'], env());
    assert.equal(r.code, 0, r.err);
    const id = JSON.parse(r.out).experiment_id as string;
    r = await kiln(['experiments', 'list'], env());
    assert.match(r.out, /ID\s+NAME/);
    assert.match(r.out, /cli-made/);
    assert.equal((await kiln(['experiments', 'rename', 'cli-made', 'cli-renamed'], env())).code, 0);
    r = await kiln(['experiments', 'get', id, '--json'], env());
    assert.equal(JSON.parse(r.out).name, 'cli-renamed');
    assert.deepEqual(JSON.parse(r.out).tags, { team: 'ml' });
    assert.equal((await kiln(['experiments', 'delete', 'cli-renamed'], env())).code, 0);
    r = await kiln(['experiments', 'list', '--view', 'deleted', '--json'], env());
    assert.deepEqual(JSON.parse(r.out).experiments.map((e: { name: string }) => e.name), ['cli-renamed']);
    assert.equal((await kiln(['experiments', 'restore', id], env())).code, 0);
  });

  it('searches runs with filter and order, as a table and as JSON', async () => {
    let r = await kiln(['runs', 'search', '--experiment', 'cli-exp', '--filter', "params.lr = '0.01'", '--order-by', 'metrics.acc DESC', '--json'], env());
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(JSON.parse(r.out).runs.map((x: { run_name: string }) => x.run_name), ['b', 'c']);
    r = await kiln(['runs', 'search', '--experiment', 'cli-exp', '--max-results', '2', '--order-by', 'metrics.acc ASC'], env());
    assert.match(r.out, /RUN ID\s+NAME\s+STATUS/);
    assert.match(r.out, /--page-token/);
    r = await kiln(['runs', 'search', '--experiment', 'cli-exp', '--filter', 'metrics.acc >'], env());
    assert.equal(r.code, 1);
    assert.match(r.err, /position/);
  });

  it('gets, deletes and restores runs', async () => {
    let r = await kiln(['runs', 'get', runId], env());
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /Params/);
    r = await kiln(['runs', 'get', runId, '--json'], env());
    assert.deepEqual(JSON.parse(r.out).metrics.acc, { value: 0.9, step: 0, timestamp: 1 });
    assert.equal((await kiln(['runs', 'delete', runId], env())).code, 0);
    assert.equal(JSON.parse((await kiln(['runs', 'get', runId, '--json'], env())).out).lifecycle_stage, 'deleted');
    assert.equal((await kiln(['runs', 'restore', runId], env())).code, 0);
  });

  it('lists and downloads artifacts', async () => {
    let r = await kiln(['runs', 'artifacts', 'list', runId], env());
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /model\//);
    assert.match(r.out, /notes\.txt/);
    const dest = tempDir();
    r = await kiln(['runs', 'artifacts', 'download', runId, '--dest', dest], env());
    assert.equal(r.code, 0, r.err);
    assert.equal(readFileSync(join(dest, 'model', 'weights.bin'), 'utf8'), 'abc');
    assert.equal(readFileSync(join(dest, 'notes.txt'), 'utf8'), 'hello');
    const one = tempDir();
    r = await kiln(['runs', 'artifacts', 'download', runId, '--path', 'model', '--dest', one], env());
    assert.equal(r.code, 0, r.err);
    assert.ok(existsSync(join(one, 'model', 'weights.bin')));
    assert.ok(!existsSync(join(one, 'notes.txt')));
    rmSync(dest, { recursive: true, force: true });
    rmSync(one, { recursive: true, force: true });
  });

  it('loads no server code for help and client commands', async () => {
    const server = /\/node_modules\/(fastify|@fastify\/[^/]+|kysely|better-sqlite3|pg|prom-client|pino|ajv|@aws-sdk\/[^/]+)\/|\/dist\/src\/(server|platform\/http\/[^/]+|platform\/db\/index)\.js$/;
    for (const args of [['--help'], ['runs', '--help'], ['experiments', 'list']]) {
      const r = await kilnModules(args, env());
      assert.equal(r.code, 0, r.err);
      assert.ok(r.modules.some((m) => m.endsWith('/dist/src/cli/main.js')), 'the hook saw the CLI load');
      assert.deepEqual(r.modules.filter((m) => server.test(m)), [], args.join(' '));
    }
  });

  it("loads, for a client command, its own capability's commands only, no migrations, and not fetch's undici", async () => {
    const commandsOf = (modules: string[]) => [...new Set(modules.map((m) => /\/dist\/src\/(\w+)\/cli(-[\w-]+)?\.js$/.exec(m)?.[1]).filter((c) => c !== undefined))].sort();
    for (const [args, own] of [
      [['experiments', 'list'], ['tracking']],
      [['runs', 'search', '--experiment', '0', '--json'], ['tracking']],
      [['models', 'list'], ['registry']],
      [['data', 'list'], ['data']],
      [['lineage', `runs:/${runId}`], ['lineage']],
      [['whoami'], ['governance']],
    ] as const) {
      const r = await kilnModules([...args], env());
      assert.equal(r.code, 0, r.err);
      assert.deepEqual(commandsOf(r.modules), own, args.join(' '));
      assert.deepEqual(r.modules.filter((m) => /\/migrations(\/|\.js$)|\/migration-helpers\.js$/.test(m)), [], args.join(' '));
      assert.ok(r.builtins.includes('NativeModule http'), 'the list of built-in modules was recorded');
      assert.ok(!r.builtins.some((b) => b.includes('undici')), `${args.join(' ')} loaded undici`);
    }
    // The whole tree, for help, has every capability's commands; help needs no client.
    const help = await kilnModules(['--help']);
    assert.deepEqual(commandsOf(help.modules), ['data', 'governance', 'lineage', 'monitoring', 'registry', 'serving', 'tracking']);
    for (const r of [help, await kilnModules(['runs', 'search', '--help'])]) {
      assert.deepEqual(r.modules.filter((m) => /\/sdk\/dist\/(client|data|registry)\.js$/.test(m)), [], 'help loads the SDK client');
      assert.ok(!r.builtins.includes('NativeModule http'), 'help loads node:http');
    }
  });

  it('ends quietly when the reader of its output goes away', async () => {
    // `true` exits without reading, long before kiln has its answer from the server: every write finds the pipe closed.
    const r = await shell(`kiln runs get ${runId} | true; exit \${PIPESTATUS[0]}`, env());
    assert.equal(r.err, '');
    assert.equal(r.code, 0);
    const head = await shell(`kiln runs get ${runId} | head -1`, env());
    assert.equal(head.err, '');
    assert.match(head.out, /^FIELD\s+VALUE\n$/);
  });

  it('prints floats at a display precision in tables and exactly in JSON', async () => {
    const id = (await call(ts.url, 'POST', '/api/2.0/mlflow/runs/create', { experiment_id: '0', run_name: 'noisy' })).body.run.info.run_id;
    await call(ts.url, 'POST', '/api/2.0/mlflow/runs/log-batch', { run_id: id, metrics: [{ key: 'acc', value: 0.9490000000000001, timestamp: 1 }] });
    let r = await kiln(['runs', 'get', id], env());
    assert.match(r.out, /\nacc\s+0\.949\s+0\n/);
    assert.doesNotMatch(r.out, /0\.949000/);
    r = await kiln(['runs', 'search', '--experiment', '0', '--filter', "attributes.run_name = 'noisy'"], env());
    assert.match(r.out, /noisy.*\s0\.949\n/);
    r = await kiln(['runs', 'get', id, '--json'], env());
    assert.equal(JSON.parse(r.out).metrics.acc.value, 0.9490000000000001);
  });

  it('prints ids and URIs whole when the output is not a terminal', async () => {
    const location = `file:///tmp/kiln-cli-test/a/folder/deep/enough/to/be/longer/than/any/column/was/${'x'.repeat(40)}`;
    const exp = (await kiln(['experiments', 'create', 'long-location', '--artifact-location', location, '--json'], env())).out;
    const expId = JSON.parse(exp).experiment_id as string;
    const id = (await call(ts.url, 'POST', '/api/2.0/mlflow/runs/create', { experiment_id: expId, run_name: 'deep' })).body.run.info.run_id;
    const uri = `${location}/${id}/artifacts`;
    let r = await kiln(['runs', 'get', id], env());
    assert.match(r.out, new RegExp(`artifact_uri\\s+${uri.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}\n`));
    r = await kiln(['experiments', 'list'], env());
    assert.ok(r.out.includes(location), r.out);
    assert.doesNotMatch(r.out, /…/);
  });

  it('names an unknown option instead of reporting a required one missing', async () => {
    const r = await kiln(['runs', 'search', '--experiments', 'x'], env());
    assert.equal(r.code, 2);
    assert.match(r.err, /unknown option '--experiments'/);
    assert.match(r.err, /Did you mean --experiment\?/);
    const missing = await kiln(['runs', 'search'], env());
    assert.equal(missing.code, 2);
    assert.match(missing.err, /required option '--experiment <id-or-name\.\.\.>' not specified/);
  });

  it('names the URL it could not reach', async () => {
    const port = await closedPort();
    const r = await kiln(['experiments', 'list', '--tracking-uri', `http://127.0.0.1:${port}`]);
    assert.equal(r.code, 1);
    assert.match(r.err, new RegExp(`cannot reach the Kiln server at http://127\\.0\\.0\\.1:${port} \\(ECONNREFUSED\\)`));
  });

  it('takes a tracking URI without a scheme as http and refuses other schemes with the form expected', async () => {
    const hostPort = ts.url.replace(/^http:\/\//, '');
    let r = await kiln(['experiments', 'list', '--tracking-uri', hostPort, '--json']);
    assert.equal(r.code, 0, r.err);
    assert.ok(JSON.parse(r.out).experiments.length > 0);
    r = await kiln(['experiments', 'list', '--json'], { KILN_TRACKING_URI: hostPort });
    assert.equal(r.code, 0, r.err);
    r = await kiln(['experiments', 'list'], { KILN_TRACKING_URI: 'file:///tmp/mlruns' });
    assert.equal(r.code, 2);
    assert.match(r.err, /KILN_TRACKING_URI 'file:\/\/\/tmp\/mlruns' uses the scheme file:\/\/: expected .*http:\/\/127\.0\.0\.1:5000/);
    r = await kiln(['experiments', 'list', '--tracking-uri', 'http://']);
    assert.equal(r.code, 2);
    assert.match(r.err, /--tracking-uri 'http:\/\/'/);
  });

  it('upgrades a database explicitly', async () => {
    const dir = tempDir();
    const store = `sqlite://${join(dir, 'x.db')}`;
    let r = await kiln(['db', 'upgrade', '--store', store]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /Applied 0001_tracking/);
    r = await kiln(['db', 'upgrade', '--store', store]);
    assert.match(r.out, /up to date/);
    rmSync(dir, { recursive: true, force: true });
  });
});
