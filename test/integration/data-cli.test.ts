import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { kiln } from '../support/cli.js';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../support/backends.js';
import { startTestServer, type TestServer } from '../support/server.js';



describe('kiln data CLI', () => {
  let ts: TestServer;
  let dir: string;
  const env = () => ({ KILN_TRACKING_URI: ts.url });
  const run = (...args: string[]) => kiln(args, env());
  before(async () => {
    ts = await startTestServer({ store: 'sqlite' });
    dir = tempDir('kiln-data-cli-');
    const rows = (n: number, f: (i: number) => string) => Array.from({ length: n }, (_, i) => f(i)).join('\n') + '\n';
    writeFileSync(join(dir, 'v1.csv'), 'station,temp,kind\n' + rows(100, (i) => `s${i % 4},${(i % 30) + 0.5},${['rain', 'sun'][i % 2]}`));
    writeFileSync(join(dir, 'v2.csv'), 'station,temp,kind\n' + rows(100, (i) => `s${i % 4},${(i % 30) + 50.5},${['rain', 'sun', 'snow'][i % 3]}`));
    mkdirSync(join(dir, 'parts'));
    writeFileSync(join(dir, 'parts', 'a.jsonl'), '{"x":1}\n{"x":2}\n');
    writeFileSync(join(dir, 'parts', 'b.jsonl'), '{"x":3}\n');
    writeFileSync(join(dir, 'parts', '_SUCCESS'), '');
  });
  after(async () => {
    await ts?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('prints help for every data command and exits 0', async () => {
    for (const c of [[], ['add'], ['list'], ['versions'], ['get'], ['download'], ['diff'], ['schema'], ['validate'], ['delete']]) {
      const r = await kiln(['data', ...c, '--help']);
      assert.equal(r.code, 0, c.join(' '));
      assert.match(r.out, /Usage: kiln data/);
    }
    assert.match((await kiln(['data', 'validate', '--help'])).out, /--baseline <ref>/);
  });

  it('adds versions (identical content once), lists, gets, diffs, downloads', async () => {
    let r = await run('data', 'add', join(dir, 'v1.csv'), '--name', 'weather', '--description', 'March');
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /Created weather@v1: 100 rows × 3 columns/);
    r = await run('data', 'add', join(dir, 'v1.csv'), '--name', 'weather', '--json');
    assert.equal(r.code, 0, r.err);
    const again = JSON.parse(r.out);
    assert.equal(again.created, false);
    assert.equal(again.uploaded_blobs, 0);
    assert.equal(again.version.version, 1);
    r = await run('data', 'add', join(dir, 'v2.csv'), '--name', 'weather');
    assert.match(r.out, /Created weather@v2/);
    r = await run('data', 'add', join(dir, 'parts'), '--name', 'events', '--json');
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(JSON.parse(r.out).version.files.map((f: { path: string }) => f.path), ['a.jsonl', 'b.jsonl']);

    r = await run('data', 'list');
    assert.match(r.out, /NAME\s+LATEST\s+VERSIONS/);
    assert.match(r.out, /weather\s+v2\s+2/);
    r = await run('data', 'versions', 'weather', '--json');
    assert.deepEqual(JSON.parse(r.out).versions.map((v: { version: number }) => v.version), [2, 1]);
    r = await run('data', 'get', 'weather@v1');
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /COLUMN\s+TYPE\s+MISSING\s+DISTINCT\s+MIN\s+MAX\s+MEAN\s+TOP/);
    assert.match(r.out, /temp\s+float\s+0\.0%/);
    r = await run('data', 'get', 'weather', '--json');
    assert.equal(JSON.parse(r.out).version, 2);
    r = await run('data', 'diff', 'weather@v1', 'weather@v2');
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /weather@v1 → weather@v2: rows 100 → 100/);
    assert.match(r.out, /temp\s+changed/);
    const out = join(dir, 'dl');
    r = await run('data', 'download', 'weather@v1', '--output', out);
    assert.equal(r.code, 0, r.err);
    assert.equal(readFileSync(join(out, 'v1.csv'), 'utf8'), readFileSync(join(dir, 'v1.csv'), 'utf8'));
  });

  it('validate exits 1 on errors, 0 when clean, 2 on usage errors', async () => {
    let r = await run('data', 'validate', 'weather@v2', '--schema', 'weather@v1');
    assert.equal(r.code, 1, r.out + r.err);
    assert.match(r.out, /ERROR\s+OUT_OF_RANGE\s+temp/);
    assert.match(r.out, /ERROR\s+UNSEEN_CATEGORIES\s+kind/);
    assert.match(r.out, /WARNING\s+DISTRIBUTION_DRIFT\s+temp/);
    assert.match(r.out, /FAILED, 2 errors/);
    assert.match(r.err, /failed validation/);
    r = await run('data', 'validate', 'weather@v1', '--schema', 'weather@v1', '--json');
    assert.equal(r.code, 0, r.err);
    assert.equal(JSON.parse(r.out).ok, true);

    // The schema as a file, edited: widen the range and allow snow → clean apart from drift warnings.
    const file = join(dir, 'weather.schema.json');
    r = await run('data', 'schema', 'weather@v1', '--output', file);
    assert.equal(r.code, 0, r.err);
    const schema = JSON.parse(readFileSync(file, 'utf8'));
    for (const c of schema.columns) {
      if (c.name === 'temp') c.max = 100;
      if (c.name === 'kind') c.categories.push('snow');
    }
    writeFileSync(file, JSON.stringify(schema));
    r = await run('data', 'validate', 'weather@v2', '--schema', file, '--baseline', 'weather@v1', '--threshold', '0.2');
    assert.equal(r.code, 0, r.out + r.err);
    assert.match(r.out, /PASSED, 0 errors/);
    r = await run('data', 'validate', 'weather@v2', '--schema', file, '--json');
    assert.equal(JSON.parse(r.out).schema_ref, file);

    writeFileSync(join(dir, 'broken.json'), '{"columns": [');
    assert.equal((await run('data', 'validate', 'weather@v2', '--schema', join(dir, 'broken.json'))).code, 2);
    assert.equal((await run('data', 'validate', 'weather@v2')).code, 2, 'missing --schema');
    assert.equal((await run('data', 'validate', 'weather@vx', '--schema', 'weather@v1')).code, 2);
    assert.equal((await run('data', 'validate', 'weather@v2', '--schema', 'weather@v1', '--threshold', '3')).code, 2);
    writeFileSync(join(dir, 'wrong.json'), '{"columns": [{"name": "temp", "type": "number"}]}');
    r = await run('data', 'validate', 'weather@v2', '--schema', join(dir, 'wrong.json'));
    assert.equal(r.code, 1);
    assert.match(r.err, /columns\[0\]\.type/);

    const hist = JSON.parse((await kiln(['data', 'get', 'weather@v2', '--json'], env())).out);
    assert.equal(hist.version, 2);
    const res = await fetch(`${ts.url}/api/v1/datasets/weather/versions/v2/validations`);
    assert.equal(((await res.json()) as { validations: unknown[] }).validations.length, 3, 'every report is stored with the version');
  });

  it('prints every validation message whole', async () => {
    const json = await run('data', 'validate', 'weather@v2', '--schema', 'weather@v1', '--json');
    const messages = (JSON.parse(json.out) as { anomalies: { message: string }[] }).anomalies.map((a) => a.message);
    assert.ok(messages.some((m) => m.length > 60), 'a message longer than a narrow column');
    const r = await run('data', 'validate', 'weather@v2', '--schema', 'weather@v1');
    for (const m of messages) assert.ok(r.out.includes(m.replace(/\s+/g, ' ')), `${m} in\n${r.out}`);
    assert.doesNotMatch(r.out, /…/);
  });

  it('reports unknown datasets and bad input with exit 1 and a message', async () => {
    let r = await run('data', 'get', 'nope@v1');
    assert.equal(r.code, 1);
    assert.match(r.err, /Dataset 'nope' does not exist/);
    writeFileSync(join(dir, 'ragged.csv'), 'a,b\n1,2\n3\n');
    r = await run('data', 'add', join(dir, 'ragged.csv'), '--name', 'ragged');
    assert.equal(r.code, 1);
    assert.match(r.err, /ragged\.csv: line 3 has 1 field/);
    assert.equal((await run('data', 'add', join(dir, 'absent.csv'), '--name', 'x')).code, 2);
    assert.equal((await run('data', 'add', join(dir, 'v1.csv'))).code, 2, 'missing --name');
    r = await run('data', 'delete', 'events');
    assert.equal(r.code, 0, r.err);
    assert.equal((await run('data', 'get', 'events')).code, 1);
  });
});
