import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { ARTIFACT_BACKENDS, STORE_BACKENDS } from '../support/backends.js';
import { call, startTestServer, type TestServer } from '../support/server.js';
import { KilnClient } from '@kiln-mlops/sdk';
import { diffJson, validationJson, versionDetailJson } from '../../src/data/json.js';
import { ColumnDiff, ColumnProfile, DatasetVersionDetail } from '../../src/data/schemas.js';
import { ActiveRun } from '@kiln-mlops/sdk';

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
type File = { path: string; content: Buffer | string };

function csv(header: string[], rows: unknown[][]): string {
  return [header.join(','), ...rows.map((r) => r.map((v) => (v === null ? '' : String(v))).join(','))].join('\n') + '\n';
}

/** The baseline table: every kind of column the anomaly checks look at. */
function baseline(): string {
  const rows = Array.from({ length: 200 }, (_, i) => [i, (i % 50) + 0.5, ['north', 'south', 'east'][i % 3], i % 2 === 0, i, i % 10 === 0 ? null : 'x']);
  return csv(['id', 'temp', 'city', 'flag', 'score', 'note'], rows);
}
/** Every anomaly at once: id has a null, temp is text, city has an unseen value, score is out of range and drifted, note is mostly missing, flag is gone, extra is new. */
function anomalous(): string {
  const rows = Array.from({ length: 200 }, (_, i) => [i === 5 ? null : i, i % 7 === 0 ? 'hot' : (i % 50) + 0.5, ['north', 'south', 'east', 'west'][i % 4], 1000 + i, i % 10 < 8 ? null : 'x', 'new']);
  return csv(['id', 'temp', 'city', 'score', 'note', 'extra'], rows);
}

for (const backend of STORE_BACKENDS) {
  for (const artifacts of ARTIFACT_BACKENDS) {
    describe(`datasets on ${backend} + ${artifacts}`, () => {
      let ts: TestServer;
      const v1 = (method: string, path: string, body?: unknown) => call(ts.url, method, `/api/v1${path}`, body);
      const put = async (content: Buffer | string, digest = sha(content)) => {
        const r = await fetch(`${ts.url}/api/v1/data/blobs/${digest}`, { method: 'PUT', body: content, headers: { 'content-type': 'application/octet-stream' } });
        return { status: r.status, body: (await r.json()) as Record<string, unknown> };
      };
      const blobCount = async () => {
        let n = 0;
        for (const dir of await ts.server.artifacts.list('datasets/blobs/sha256')) n += (await ts.server.artifacts.list(dir.path)).length;
        return n;
      };
      /** The client protocol: ask which blobs are missing, upload those, create the version. */
      const add = async (name: string, files: File[], extra: Record<string, unknown> = {}) => {
        const manifest = files.map((f) => ({ path: f.path, sha256: sha(f.content), bytes: Buffer.byteLength(f.content) }));
        const missing = (await v1('POST', '/data/blobs/missing', { sha256: manifest.map((m) => m.sha256) })).body.missing as string[];
        for (const f of files) if (missing.includes(sha(f.content))) assert.equal((await put(f.content)).status, 201);
        return v1('POST', `/datasets/${name}/versions`, { files: manifest, ...extra });
      };
      before(async () => {
        ts = await startTestServer({ store: backend, artifacts });
      });
      after(async () => {
        await ts?.stop();
      });

      it('adds a CSV as v1; identical content is stored once and gives back v1', async () => {
        const content = baseline();
        let r = await add('weather', [{ path: 'weather.csv', content }], { description: 'first', source: 's3://raw/weather.csv' });
        assert.equal(r.status, 201, r.text);
        assert.equal(r.body.created, true);
        const v = r.body.version;
        assert.equal(v.version, 1);
        assert.equal(v.ref, 'weather@v1');
        assert.equal(v.digest, sha(content));
        assert.equal(v.mlflow_digest, sha(content).slice(0, 36));
        assert.equal(v.rows, 200);
        assert.equal(v.format, 'csv');
        assert.deepEqual(v.files, [{ path: 'weather.csv', sha256: sha(content), bytes: content.length }]);
        assert.deepEqual(v.profile.columns.map((c: { type: string }) => c.type), ['integer', 'float', 'categorical', 'boolean', 'integer', 'categorical']);
        assert.equal(v.schema.columns[0].nullable, false);
        const blobs = await blobCount();

        assert.deepEqual((await v1('POST', '/data/blobs/missing', { sha256: [sha(content)] })).body.missing, []);
        r = await v1('POST', '/datasets/weather/versions', { files: [{ path: 'renamed.csv', sha256: sha(content), bytes: content.length }] });
        assert.equal(r.status, 200);
        assert.equal(r.body.created, false);
        assert.equal(r.body.version.version, 1);
        assert.equal(await blobCount(), blobs, 'nothing new stored');
        assert.equal((await v1('GET', '/datasets/weather/versions')).body.versions.length, 1);
        // Uploading a blob that is already there stores nothing either.
        assert.equal((await put(content)).status, 200);
      });

      it('concurrent adds of the same new content create one version', async () => {
        const content = csv(['a'], [[1], [2]]);
        const manifest = [{ path: 'c.csv', sha256: sha(content), bytes: content.length }];
        await put(content);
        const rs = await Promise.all([0, 1, 2].map(() => v1('POST', '/datasets/race/versions', { files: manifest })));
        assert.deepEqual(rs.map((r) => r.body.created).sort(), [false, false, true]);
        assert.deepEqual(new Set(rs.map((r) => r.body.version.version)), new Set([1]));
        // One version, so one event in the log, written with it.
        const events = (await ts.server.events.read(0, 10_000)).filter((e) => e.type === 'data.version_created' && e.subject === 'race');
        assert.deepEqual(
          events.map((e) => e.data),
          [{ name: 'race', version: 1, ref: 'race@v1', digest: sha(content), rows: 2, bytes: content.length }],
        );
      });

      it('adds JSON lines, JSON arrays, parquet and folders of parts', async () => {
        let r = await add('events', [{ path: 'e.jsonl', content: '{"a":1,"b":"x"}\n{"a":2}\n' }]);
        assert.equal(r.status, 201, r.text);
        assert.equal(r.body.version.format, 'jsonl');
        assert.equal(r.body.version.rows, 2);
        r = await add('events', [{ path: 'e.json', content: '[{"a":1},{"a":2},{"a":3}]' }]);
        assert.equal(r.status, 201, r.text);
        assert.equal(r.body.version.version, 2);
        assert.equal(r.body.version.format, 'json');
        const pq = Buffer.from(parquetWriteBuffer({ columnData: [{ name: 'id', data: [1, 2, 3], type: 'INT32' }, { name: 'x', data: [0.5, null, 2], type: 'DOUBLE' }] }));
        r = await add('pq', [{ path: 'data.parquet', content: pq }]);
        assert.equal(r.status, 201, r.text);
        assert.equal(r.body.version.rows, 3);
        assert.deepEqual(r.body.version.profile.columns.map((c: { type: string }) => c.type), ['integer', 'float']);

        const parts = [
          { path: 'part-1.csv', content: csv(['k', 'v'], [[3, 'c']]) },
          { path: 'part-0.csv', content: csv(['k', 'v'], [[1, 'a'], [2, 'b']]) },
          { path: 'sub/part-2.csv', content: csv(['v', 'k'], [['d', 4]]) },
        ];
        r = await add('parts', parts);
        assert.equal(r.status, 201, r.text);
        const v = r.body.version;
        assert.equal(v.rows, 4);
        assert.deepEqual(v.files.map((f: { path: string }) => f.path), ['part-0.csv', 'part-1.csv', 'sub/part-2.csv']);
        const canonical = JSON.stringify(v.files.map((f: { path: string; sha256: string; bytes: number }) => ({ path: f.path, sha256: f.sha256, bytes: f.bytes })));
        assert.equal(v.digest, sha(canonical));
        // Same parts in another order: the same version.
        r = await add('parts', [...parts].reverse());
        assert.equal(r.body.created, false);
        const dl = await fetch(`${ts.url}/api/v1/datasets/parts/versions/v1/files/sub/part-2.csv`);
        assert.equal(dl.status, 200);
        assert.equal(dl.headers.get('content-type'), 'text/csv; charset=utf-8');
        assert.equal(await dl.text(), parts[2]!.content);
        assert.deepEqual((await v1('GET', '/datasets/parts/versions/latest/files')).body.files.length, 3);
      });

      it('lists, gets, diffs and pages', async () => {
        let r = await v1('GET', '/datasets?name_like=weath%25');
        assert.deepEqual(r.body.datasets.map((d: { name: string }) => d.name), ['weather']);
        assert.equal(r.body.datasets[0].latest_version, 1);
        r = await v1('GET', '/datasets?max_results=1');
        assert.equal(r.body.datasets.length, 1);
        assert.ok(r.body.next_page_token);
        const next = await v1('GET', `/datasets?max_results=1&page_token=${r.body.next_page_token}`);
        assert.notEqual(next.body.datasets[0].name, r.body.datasets[0].name);
        assert.equal((await v1('GET', '/datasets/weather')).body.dataset.version_count, 1);
        for (const sel of ['1', 'v1', 'latest']) assert.equal((await v1('GET', `/datasets/weather/versions/${sel}`)).body.version.version, 1, sel);
        assert.equal((await v1('GET', '/datasets/weather/versions/v1/schema')).body.columns.length, 6);

        r = await add('weather', [{ path: 'weather.csv', content: anomalous() }]);
        assert.equal(r.status, 201, r.text);
        assert.equal(r.body.version.version, 2);
        r = await v1('GET', '/datasets/diff?a=weather@v1&b=weather@v2');
        assert.equal(r.status, 200, r.text);
        assert.equal(r.body.a.ref, 'weather@v1');
        assert.deepEqual(r.body.added_columns, ['extra']);
        assert.deepEqual(r.body.removed_columns, ['flag']);
        const temp = r.body.columns.find((c: { name: string }) => c.name === 'temp');
        assert.equal(temp.type_changed, true);
        const score = r.body.columns.find((c: { name: string }) => c.name === 'score');
        assert.ok(score.js_divergence > 0.5);
        assert.equal(score.mean.delta, 1000);
      });

      it("describes a dataset by its newest version's description in the list and the dataset", async () => {
        let r = await add('rainfall', [{ path: 'r.csv', content: baseline() }], { description: 'March' });
        assert.equal(r.status, 201, r.text);
        r = await add('rainfall', [{ path: 'r.csv', content: anomalous() }], { description: 'April' });
        assert.equal(r.status, 201, r.text);
        const listed = (await v1('GET', '/datasets?name_like=rainfall')).body.datasets;
        assert.deepEqual(listed.map((d: { name: string; description: string | null; latest_version: number }) => [d.name, d.latest_version, d.description]), [['rainfall', 2, 'April']]);
        assert.equal((await v1('GET', '/datasets/rainfall')).body.dataset.description, 'April');
        // a newest version without a description describes the dataset as undescribed, not by an older one
        r = await add('rainfall', [{ path: 'r.csv', content: baseline() + '1,2.5,north,true,3,x\n' }]);
        assert.equal(r.status, 201, r.text);
        assert.equal((await v1('GET', '/datasets/rainfall')).body.dataset.description, null);
      });

      it('validates against a version schema: every kind of anomaly, stored with the version', async () => {
        let r = await v1('POST', '/datasets/weather/versions/v2/validations', { schema_ref: 'weather@v1' });
        assert.equal(r.status, 201, r.text);
        const val = r.body.validation;
        assert.equal(val.ok, false);
        assert.equal(val.schema_ref, 'weather@v1');
        assert.equal(val.baseline, 'weather@v1');
        const kinds = new Map(val.anomalies.map((a: { type: string; column: string }) => [`${a.type}:${a.column}`, a]));
        for (const k of ['MISSING_COLUMN:flag', 'NEW_COLUMN:extra', 'TYPE_MISMATCH:temp', 'UNEXPECTED_NULLS:id', 'OUT_OF_RANGE:score', 'UNSEEN_CATEGORIES:city', 'MISSING_RATE_JUMP:note', 'DISTRIBUTION_DRIFT:score']) {
          assert.ok(kinds.has(k), `${k} in ${[...kinds.keys()].join(' ')}`);
        }
        assert.equal(val.errors, val.anomalies.filter((a: { severity: string }) => a.severity === 'ERROR').length);

        // A lenient inline schema (edited from the inferred one) passes; a high threshold hides the drift.
        const schema = (await v1('GET', '/datasets/weather/versions/v1/schema')).body;
        r = await v1('POST', '/datasets/weather/versions/v1/validations', { schema, schema_label: 'weather.schema.json', baseline: 'weather@v1', js_threshold: 0.5 });
        assert.equal(r.status, 201, r.text);
        assert.equal(r.body.validation.ok, true);
        assert.equal(r.body.validation.schema_ref, 'weather.schema.json');
        assert.deepEqual(r.body.validation.anomalies, []);

        r = await v1('GET', '/datasets/weather/versions/v2/validations');
        assert.equal(r.body.validations.length, 1);
        assert.equal(r.body.validations[0].id, val.id);
        await v1('POST', '/datasets/weather/versions/v2/validations', { schema: { columns: [{ name: 'id', type: 'integer' }], allow_extra_columns: true } });
        r = await v1('GET', '/datasets/weather/versions/v2/validations');
        assert.equal(r.body.validations.length, 2);
        assert.equal(r.body.validations[0].ok, true, 'latest first');
        assert.equal(ts.server.services.data ? (await ts.server.services.data.validationsOf('weather', 2))?.ok : undefined, true);
        const recorded = (await ts.server.events.read(0, 10_000)).filter((e) => e.type === 'data.validation_recorded' && e.subject === 'weather');
        assert.deepEqual(
          recorded.map((e) => [e.data.ref, e.data.schema_ref, e.data.ok]),
          [
            ['weather@v2', 'weather@v1', false],
            ['weather@v1', 'weather.schema.json', true],
            ['weather@v2', 'inline', true],
          ],
        );
        assert.equal(recorded[0]!.data.id, val.id);
      });

      it('sends every field the service returns: a version with its profile and schema, validations, a diff', async () => {
        /** What a value holds once it went through JSON (undefined fields gone), to compare with what the server sent. */
        const asJson = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;
        // Every kind of column: the union of the profiles' fields is every field a column profile can have.
        const rows = Array.from({ length: 60 }, (_, i) => [i, `2024-03-${String((i % 28) + 1).padStart(2, '0')}T08:00:00Z`, `text ${i} ${'x'.repeat(i % 5)}`, i % 9 === 0 ? 'NaN' : i % 17 === 0 ? 'inf' : i / 4, i % 3 === 0, ['a', 'b'][i % 2]]);
        const r = await add('kinds', [{ path: 'kinds.csv', content: csv(['id', 'when', 'text', 'x', 'flag', 'cat'], rows) }]);
        assert.equal(r.status, 201, r.text);
        const detail = (await v1('GET', '/datasets/kinds/versions/v1')).body.version;
        assert.deepEqual(detail, asJson(versionDetailJson(await ts.server.services.data.getVersion('kinds', 1))));
        assert.deepEqual(r.body.version, detail);
        assert.deepEqual(Object.keys(detail), Object.keys(DatasetVersionDetail.properties));
        const profileFields = new Set(detail.profile.columns.flatMap((c: object) => Object.keys(c)));
        assert.deepEqual([...profileFields].sort(), Object.keys(ColumnProfile.properties).sort());
        assert.deepEqual(detail.profile.columns.map((c: { type: string }) => c.type), ['integer', 'datetime', 'string', 'float', 'boolean', 'categorical']);
        assert.deepEqual((await v1('GET', '/datasets/kinds/versions/v1/schema')).body, asJson(await ts.server.services.data.schemaOf('kinds', 1)));

        const validations = (await v1('GET', '/datasets/weather/versions/v2/validations')).body.validations;
        assert.deepEqual(validations, asJson((await ts.server.services.data.validations('weather', 2)).map(validationJson)));
        assert.ok(validations.some((v: { anomalies: unknown[] }) => v.anomalies.length >= 8), 'a validation with every kind of anomaly');

        const diff = (await v1('GET', '/datasets/diff?a=weather@v1&b=weather@v2')).body;
        assert.deepEqual(diff, asJson(diffJson(await ts.server.services.data.diff('weather@v1', 'weather@v2'))));
        const diffFields = new Set(diff.columns.flatMap((c: object) => Object.keys(c)));
        assert.deepEqual([...diffFields].sort(), Object.keys(ColumnDiff.properties).sort());

        // Doubles so large that their mean and range overflow: those numbers are null, as the store keeps them.
        const huge = csv(['x', 'n'], [[1e308, 1], [-1e308, 2], [1.7e308, 3], [-1.7e308, 4]]);
        const h = await add('huge', [{ path: 'h.csv', content: huge }]);
        assert.equal(h.status, 201, h.text);
        const x = h.body.version.profile.columns[0];
        assert.deepEqual([x.min, x.max, x.mean, x.std], [-1.7e308, 1.7e308, null, null]);
        assert.deepEqual((await v1('GET', '/datasets/huge/versions/v1')).body.version, h.body.version);
        const hv = await v1('POST', '/datasets/huge/versions/v1/validations', { schema_ref: 'huge@v1' });
        assert.equal(hv.status, 201, hv.text);
        assert.deepEqual(hv.body.validation, asJson(validationJson((await ts.server.services.data.validations('huge', 1))[0]!)));
        const hd = await v1('GET', '/datasets/diff?a=huge@v1&b=weather@v1');
        assert.equal(hd.status, 200, hd.text);
        assert.deepEqual(hd.body, asJson(diffJson(await ts.server.services.data.diff('huge@v1', 'weather@v1'))));
      });

      it('finds a version by digest or MLflow digest, and links MLflow dataset inputs to it', async () => {
        const v = (await v1('GET', '/datasets/weather/versions/v1')).body.version;
        assert.equal((await v1('GET', `/datasets/by-digest/${v.digest}`)).body.version.ref, 'weather@v1');
        assert.equal((await v1('GET', `/datasets/by-digest/${v.mlflow_digest}`)).body.version.ref, 'weather@v1');
        assert.equal((await v1('GET', `/datasets/by-digest/${'0'.repeat(64)}`)).status, 404);
        assert.equal((await v1('GET', '/datasets/by-digest/not-hex')).status, 400);

        const client = new KilnClient({ trackingUri: ts.url });
        const run = new ActiveRun(client, await client.createRun({ experimentId: '0' }));
        await run.logDatasetInput('weather@v1', 'training');
        const input = (await client.getRun(run.id)).inputs.datasetInputs[0]!;
        assert.equal(input.dataset.digest, v.mlflow_digest);
        assert.equal(input.dataset.sourceType, 'kiln');
        assert.equal(input.dataset.source, 'kiln://datasets/weather/v1');
        assert.deepEqual(JSON.parse(input.dataset.profile!), { num_rows: 200 });
        assert.deepEqual(JSON.parse(input.dataset.schema!).mlflow_colspec[0], { type: 'long', name: 'id', required: true });
        assert.deepEqual(input.tags, [{ key: 'mlflow.data.context', value: 'training' }]);
        assert.equal((await client.data.byDigest(input.dataset.digest)).version, 1);
      });

      it('refuses bad input with a clear 4xx and writes nothing', async () => {
        const blobsBefore = await blobCount();
        const failing: [string, File[], RegExp][] = [
          ['truncated CSV', [{ path: 't.csv', content: 'a,b\n1,"unterminated\n2,3\n' }], /t\.csv: unterminated quoted field starting on line 2/],
          ['ragged rows', [{ path: 'r.csv', content: 'a,b\n1,2\n3\n' }], /r\.csv: line 3 has 1 field, the header has 2/],
          ['empty file', [{ path: 'e.csv', content: '\n\n' }], /e\.csv: empty file/],
          ['0-byte file', [{ path: 'z.csv', content: '' }], /z\.csv: empty file/],
          ['truncated JSON', [{ path: 'j.json', content: '[{"a":1},' }], /j\.json: line 1: truncated JSON/],
          ['not parquet', [{ path: 'p.parquet', content: 'nope' }], /not a readable parquet file/],
          ['a bad part in a folder', [{ path: 'a.csv', content: 'x\n1\n' }, { path: 'b.csv', content: 'y\n2\n' }], /b\.csv/],
        ];
        for (const [what, files, re] of failing) {
          const r = await add('broken', files);
          assert.equal(r.status, 400, `${what}: ${r.text}`);
          assert.equal(r.body.error_code, 'INVALID_PARAMETER_VALUE', what);
          assert.match(r.body.message, re, what);
          assert.equal((await v1('GET', '/datasets/broken')).status, 404, `${what}: no dataset left behind`);
          assert.equal(await blobCount(), blobsBefore, `${what}: no blob left behind`);
        }
        // A failed version of an existing dataset leaves its versions as they were.
        assert.equal((await add('weather', [{ path: 'x.csv', content: 'a,b\n1\n' }])).status, 400);
        assert.equal((await v1('GET', '/datasets/weather')).body.dataset.version_count, 2);

        const ok = { sha256: sha('a\n1\n'), bytes: 4 };
        const refused: [string, unknown, RegExp][] = [
          ['parent path', { files: [{ path: '../x.csv', ...ok }] }, /files\[0\]\.path: .*'\.\.'/],
          ['absolute path', { files: [{ path: '/etc/x.csv', ...ok }] }, /files\[0\]\.path: .*absolute/],
          ['not a data file', { files: [{ path: 'x.exe', ...ok }] }, /not a data file/],
          ['blob not uploaded', { files: [{ path: 'x.csv', sha256: '1'.repeat(64), bytes: 1 }] }, /not uploaded/],
          ['bad digest', { files: [{ path: 'x.csv', sha256: 'abc', bytes: 1 }] }, /sha256/],
          ['no files', { files: [] }, /files/],
        ];
        for (const [what, body, re] of refused) {
          const r = await v1('POST', '/datasets/broken/versions', body);
          assert.equal(r.status, 400, `${what}: ${r.text}`);
          assert.match(r.body.message, re, what);
        }
        assert.equal((await v1('POST', '/datasets/bad%20name/versions', { files: [{ path: 'x.csv', ...ok }] })).status, 400);
        assert.equal((await v1('GET', '/datasets/broken')).status, 404);

        // Blob uploads whose bytes do not match their digest keep nothing.
        let p = await put('a\n1\n', sha('something else'));
        assert.equal(p.status, 400);
        assert.match(String(p.body.message), /does not match its digest/);
        assert.deepEqual((await v1('POST', '/data/blobs/missing', { sha256: [sha('something else')] })).body.missing, [sha('something else')]);
        p = await put('a\n1\n', 'not-a-digest');
        assert.equal(p.status, 400);
        const short = await fetch(`${ts.url}/api/v1/data/blobs/${sha('abc')}`, { method: 'PUT', body: 'abc', headers: { 'content-length': '3' } });
        assert.equal(short.status, 201);
        assert.equal(await blobCount(), blobsBefore + 1);
        await ts.server.artifacts.delete(`datasets/blobs/sha256/${sha('abc').slice(0, 2)}/${sha('abc')}`);

        // Unknown datasets, versions, files; malformed references and schemas.
        const notFound = ['/datasets/nope', '/datasets/nope/versions', '/datasets/nope/versions/v1', '/datasets/weather/versions/v9', '/datasets/weather/versions/v1/files/nope.csv', '/datasets/diff?a=weather@v1&b=weather@v9'];
        for (const path of notFound) assert.equal((await v1('GET', path)).status, 404, path);
        assert.equal((await v1('DELETE', '/datasets/nope')).status, 404);
        for (const path of ['/datasets/weather/versions/x1', '/datasets/weather/versions/0', '/datasets/diff?a=weather@vv&b=weather@v1', '/datasets/weather/versions/v1/files/..%2F..%2Fetc%2Fpasswd']) {
          const r = await v1('GET', path);
          assert.ok(r.status === 400 || r.status === 404, `${path}: ${r.status}`);
          assert.notEqual(r.status, 500);
        }
        const bad: [unknown, RegExp][] = [
          [{ schema: { columns: [{ name: 'id', type: 'int' }] } }, /schema columns\[0\]\.type: expected one of/],
          [{ schema: { cols: [] } }, /schema cols: unknown field/],
          [{ schema: 'not an object' }, /schema \(root\)/],
          [{ schema_ref: 'weather' + '@vx' }, /Invalid dataset reference/],
          [{ schema_ref: 'nope@v1' }, /does not exist/],
          [{}, /exactly one of schema/],
          [{ schema_ref: 'weather@v1', schema: { columns: [] } }, /exactly one of schema/],
          [{ schema_ref: 'weather@v1', js_threshold: 2 }, /js_threshold/],
        ];
        for (const [body, re] of bad) {
          const r = await v1('POST', '/datasets/weather/versions/v2/validations', body);
          assert.ok(r.status === 400 || r.status === 404, `${JSON.stringify(body)}: ${r.status} ${r.text}`);
          assert.match(r.body.message, re, JSON.stringify(body));
        }
        const malformed = await call(ts.url, 'POST', '/api/v1/datasets/weather/versions/v2/validations', '{"schema": {"columns": [', { 'content-type': 'application/json' });
        assert.equal(malformed.status, 400);
        assert.equal((await v1('GET', '/datasets/weather/versions/v2/validations')).body.validations.length, 2, 'refused validations are not stored');
      });

      it('deletes a dataset with its versions, reports and unshared blobs', async () => {
        const shared = csv(['s'], [[1], [2]]);
        await add('keep', [{ path: 's.csv', content: shared }]);
        await add('drop', [{ path: 's.csv', content: shared }]);
        const own = csv(['o'], [[1], [3]]);
        await add('drop', [{ path: 'o.csv', content: own }]);
        await v1('POST', '/datasets/drop/versions/v1/validations', { schema_ref: 'drop@v1' });
        assert.equal((await v1('DELETE', '/datasets/drop')).status, 204);
        assert.equal((await v1('GET', '/datasets/drop')).status, 404);
        assert.deepEqual((await v1('POST', '/data/blobs/missing', { sha256: [sha(shared), sha(own)] })).body.missing, [sha(own)]);
        assert.equal((await v1('GET', '/datasets/keep/versions/v1/files/s.csv')).text, shared);
        const audit = await ts.server.events.audit.list({ resourceType: 'dataset', resourceId: 'drop' }, { limit: 10 });
        assert.equal(audit.entries[0]?.action, 'data.dataset_deleted', 'the deletion committed with its audit entry');
        assert.deepEqual(JSON.parse(audit.entries[0]!.details), { versions: 2 });
      });
    });
  }
}

describe('profiling keeps the server responsive', () => {
  let ts: TestServer;
  before(async () => {
    ts = await startTestServer({ store: 'sqlite' });
  });
  after(async () => {
    await ts?.stop();
  });

  it('answers /health within 200 ms while a large file is profiled', async () => {
    const header = Array.from({ length: 10 }, (_, i) => `c${i}`);
    const rows: string[] = [header.join(',')];
    for (let i = 0; i < 250_000; i++) rows.push(`${i},${i * 0.5},a${i % 7},${i % 2 === 0},x${i},${i % 13},2020-01-0${(i % 9) + 1},${-i},y,${i % 3}`);
    const content = Buffer.from(rows.join('\n') + '\n');
    const digest = sha(content);
    assert.equal((await fetch(`${ts.url}/api/v1/data/blobs/${digest}`, { method: 'PUT', body: content })).status, 201);
    let done = false;
    const t0 = performance.now();
    const adding = call(ts.url, 'POST', '/api/v1/datasets/big/versions', { files: [{ path: 'big.csv', sha256: digest, bytes: content.length }] }).finally(() => (done = true));
    const latencies: number[] = [];
    while (!done) {
      const s = performance.now();
      assert.equal((await fetch(`${ts.url}/health`)).status, 200);
      latencies.push(performance.now() - s);
      await new Promise((r) => setTimeout(r, 20));
    }
    const r = await adding;
    const seconds = (performance.now() - t0) / 1000;
    assert.equal(r.status, 201, r.text);
    assert.equal(r.body.version.rows, 250_000);
    const worst = Math.max(...latencies);
    console.log(`# profile of ${content.length} bytes: ${seconds.toFixed(2)} s; ${latencies.length} health checks meanwhile, worst ${worst.toFixed(1)} ms`);
    assert.ok(latencies.length >= 5, 'health was polled during the profile');
    assert.ok(worst < 200, `worst /health latency ${worst} ms`);
  });
});
