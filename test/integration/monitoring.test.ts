import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer as createHttpServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { STORE_BACKENDS, tempDir } from '../support/backends.js';
import { call, startTestServer, type TestServer } from '../support/server.js';
import { kiln } from '../support/cli.js';
import { registerOnnx } from '../support/models.js';
import { linearModel } from '../../src/registry/packaging/test-models.js';

/**
 * Monitoring on every backend, on real data: data/weather.csv (daily weather, Seattle and New York, 2012-2015). The
 * reference is Seattle 2012-2013; Seattle 2014 shows little drift, New York 2015 clear drift on temperature and
 * precipitation; delayed labels give a simple model's realized accuracy. Then the API's edges: JSON records, bad
 * input, row-count windows, alerts as events and webhooks, and a Kiln deployment whose every request is counted.
 */
interface Day {
  location: string;
  date: string;
  precipitation: string;
  temp_max: string;
  temp_min: string;
  wind: string;
  weather: string;
}

const WEATHER: Day[] = (() => {
  const [head, ...lines] = readFileSync(join(process.cwd(), 'data', 'weather.csv'), 'utf8').trim().split('\n');
  const cols = head!.split(',');
  return lines.map((l) => Object.fromEntries(l.split(',').map((v, i) => [cols[i], v])) as unknown as Day);
})();
const FEATURES = ['location', 'date', 'precipitation', 'temp_max', 'temp_min', 'wind'] as const;
/** The "simple model": rain when it rained, sun otherwise. */
const predict = (d: Day) => (Number(d.precipitation) > 0 ? 'rain' : 'sun');
const requestId = (d: Day) => `${d.location === 'Seattle' ? 'sea' : 'nyc'}-${d.date}`;
const csv = (rows: Day[], cols: readonly string[]) =>
  [cols.join(','), ...rows.map((d) => cols.map((c) => (c === 'request_id' ? requestId(d) : c === 'prediction' ? predict(d) : d[c as keyof Day])).join(','))].join('\n') + '\n';

async function receiver() {
  const got: { headers: IncomingHttpHeaders; body: string; json: any }[] = [];
  const server = createHttpServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      got.push({ headers: req.headers, body, json: JSON.parse(body) });
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, got, stop: () => new Promise<void>((r) => server.close(() => r())) };
}

async function until<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 15_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

for (const backend of STORE_BACKENDS) {
  describe(`monitoring on ${backend}`, () => {
    let ts: TestServer;
    let dir: string;
    let rx: Awaited<ReturnType<typeof receiver>>;
    const api = (method: string, path: string, body?: unknown) => call(ts.url, method, `/api/v1${path}`, body);
    const run = (...args: string[]) => kiln(args, { KILN_TRACKING_URI: ts.url });
    const runJson = async (...args: string[]) => {
      const r = await run(...args, '--json');
      assert.equal(r.code, 0, r.err + r.out);
      return JSON.parse(r.out);
    };

    before(async () => {
      rx = await receiver();
      ts = await startTestServer({ store: backend, capabilities: { monitoring: { flushMs: 50 }, webhooks: { pollIntervalMs: 50, allowedHosts: ['127.0.0.1'] }, serving: { payloadFlushMs: 20 } } });
      dir = tempDir('kiln-monitoring-');
      const seattle = WEATHER.filter((d) => d.location === 'Seattle');
      writeFileSync(join(dir, 'reference.csv'), csv(seattle.filter((d) => d.date < '2014'), [...FEATURES, 'weather']));
      writeFileSync(join(dir, 'seattle-2014.csv'), csv(seattle.filter((d) => d.date.startsWith('2014')), ['request_id', ...FEATURES, 'prediction']));
      writeFileSync(join(dir, 'new-york-2015.csv'), csv(WEATHER.filter((d) => d.location === 'New York' && d.date.startsWith('2015')), ['request_id', ...FEATURES, 'prediction']));
      const labeled = WEATHER.filter((d) => (d.location === 'Seattle' && d.date.startsWith('2014')) || (d.location === 'New York' && d.date.startsWith('2015')));
      writeFileSync(join(dir, 'labels.csv'), ['request_id,label', ...labeled.map((d) => `${requestId(d)},${d.weather}`), 'nobody-knows,rain'].join('\n') + '\n');
      const r = await run('data', 'add', join(dir, 'reference.csv'), '--name', 'weather-reference');
      assert.equal(r.code, 0, r.err);
    });
    after(async () => {
      await ts?.stop();
      await rx?.stop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('kiln monitors create/log/report: Seattle 2014 shows little drift, New York 2015 clear drift; labels give realized accuracy', async () => {
      const created = await runJson('monitors', 'create', 'weather', '--reference', 'weather-reference@v1', '--window', '1d', '--time-column', 'date', '--prediction', 'prediction', '--label', 'weather');
      assert.deepEqual(
        created.monitor.features.map((f: any) => `${f.name}:${f.kind}`),
        ['location:categorical', 'precipitation:numeric', 'temp_max:numeric', 'temp_min:numeric', 'wind:numeric'],
      );
      assert.equal(created.monitor.reference.rows, 731);
      const logged = await runJson('monitors', 'log', 'weather', join(dir, 'seattle-2014.csv'));
      assert.deepEqual({ accepted: logged.accepted, windows: logged.windows, kept: logged.predictions_stored }, { accepted: 365, windows: 365, kept: 365 });
      assert.equal((await runJson('monitors', 'log', 'weather', join(dir, 'new-york-2015.csv'))).accepted, 365);

      const seattle = await runJson('monitors', 'report', 'weather', '--from', '2014-01-01', '--to', '2014-12-31');
      assert.equal(seattle.rows, 365);
      assert.equal(seattle.windows, 365);
      // Little drift: every PSI in the stable band (< 0.1). With a reference under 1,000 rows the default test is KS
      // (as Evidently's), which does see that 2014 was warmer (the exact two-sample KS on the rows agrees: p < 0.05).
      for (const f of ['precipitation', 'temp_max', 'temp_min', 'wind']) {
        const x = seattle.features[f];
        assert.ok(x.psi < 0.1, `${f}: psi ${x.psi} on Seattle 2014`);
        assert.equal(x.psi_band, 'stable');
        assert.equal(typeof x.js, 'number');
        assert.equal(typeof x.wasserstein, 'number');
        assert.equal(typeof x.ks_pvalue, 'number');
        assert.equal(x.method, 'ks');
      }
      assert.equal(seattle.features.precipitation.drifted, false);
      assert.equal(seattle.features.location.drifted, false);

      const ny = await runJson('monitors', 'report', 'weather', '--from', '2015-01-01', '--to', '2015-12-31');
      assert.equal(ny.rows, 365);
      assert.equal(ny.dataset_drift, true);
      assert.equal(ny.drift_share, 1);
      assert.ok(ny.drift_share > seattle.drift_share);
      for (const f of ['precipitation', 'temp_max', 'temp_min']) assert.equal(ny.features[f].drifted, true, `${f} drifted in New York`);
      assert.ok(ny.features.temp_min.psi > 0.25 && ny.features.temp_max.psi > 0.25, 'major PSI shift on temperatures');
      assert.ok(ny.features.precipitation.ks_pvalue < 0.001);
      // Counts add up: the whole range is both windows' rows.
      assert.equal((await runJson('monitors', 'report', 'weather')).rows, 730);

      // Delayed labels (the last label of an id wins; unknown ids are counted, not an error).
      const labels = await runJson('monitors', 'labels', 'weather', join(dir, 'labels.csv'));
      assert.deepEqual({ received: labels.received, joined: labels.joined, unknown: labels.unknown }, { received: 731, joined: 730, unknown: 1 });
      const expected = (loc: string, year: string) => {
        const days = WEATHER.filter((d) => d.location === loc && d.date.startsWith(year));
        return days.filter((d) => predict(d) === d.weather).length / days.length;
      };
      const s2 = await runJson('monitors', 'report', 'weather', '--from', '2014-01-01', '--to', '2014-12-31');
      assert.equal(s2.performance.labeled, 365);
      assert.equal(s2.performance.label_coverage, 1);
      assert.ok(Math.abs(s2.performance.metrics.accuracy - expected('Seattle', '2014')) < 1e-12);
      const n2 = await runJson('monitors', 'report', 'weather', '--from', '2015-01-01', '--to', '2015-12-31');
      assert.ok(Math.abs(n2.performance.metrics.accuracy - expected('New York', '2015')) < 1e-12);
      // A label sent again replaces the first.
      const flip = await api('POST', '/monitors/weather/labels', { labels: [{ request_id: 'sea-2014-01-01', label: 'snow' }, { request_id: 'sea-2014-01-01', label: predict(WEATHER.find((d) => requestId(d) === 'sea-2014-01-01')!) }] });
      assert.equal(flip.status, 200, flip.text);
      assert.equal(flip.body.joined, 1);
      const w = await api('GET', `/monitors/weather/windows/${Date.UTC(2014, 0, 1)}`);
      assert.equal(w.status, 200, w.text);
      assert.equal(w.body.performance.metrics.accuracy, 1);
      assert.equal(w.body.features.temp_max.reference_counts.reduce((a: number, b: number) => a + b, 0), 731);
      assert.equal(w.body.features.temp_max.current_counts.reduce((a: number, b: number) => a + b, 0), 1);

      const windows = await runJson('monitors', 'windows', 'weather', '--from', '2014-12-30', '--to', '2015-01-02');
      assert.deepEqual(
        windows.windows.map((x: any) => new Date(x.start).toISOString().slice(0, 10)),
        ['2014-12-30', '2014-12-31', '2015-01-01', '2015-01-02'],
      );
      const empty = await runJson('monitors', 'report', 'weather', '--from', '2013-01-01', '--to', '2013-12-31');
      assert.deepEqual({ status: empty.status, rows: empty.rows, drift_share: empty.drift_share }, { status: 'no_data', rows: 0, drift_share: null });
    });

    it('counts JSON records, refuses bad input with 4xx and loses nothing already counted', async () => {
      const c = await api('POST', '/monitors', { name: 'json-mon', model: 'external-rain', reference: 'weather-reference@v1', window: '1d', time_column: 'date', features: ['temp_max', 'weather'] });
      assert.equal(c.status, 201, c.text);
      const ok = await api('POST', '/monitors/json-mon/records', { records: [{ date: '2020-01-01', temp_max: 10, weather: 'rain', extra: 1 }, { date: '2020-01-01T12:00:00Z', temp_max: 'warm', weather: null }] });
      assert.equal(ok.status, 200, ok.text);
      assert.deepEqual(ok.body, { accepted: 2, windows: 1, predictions_stored: 0, ignored_columns: ['extra'], invalid_values: 1 });
      const bad: [string, unknown, RegExp][] = [
        ['not a list', { records: 'x' }, /list of JSON objects/],
        ['no records key', { rows: [] }, /records/],
        ['a record that is no object', { records: [1] }, /not a JSON object/],
        ['no time', { records: [{ temp_max: 1 }] }, /no 'date'/],
        ['a bad time', { records: [{ date: 'yesterday', temp_max: 1 }] }, /not an ISO 8601/],
      ];
      for (const [what, body, re] of bad) {
        const r = await api('POST', '/monitors/json-mon/records', body);
        assert.equal(r.status, 400, `${what}: ${r.text}`);
        assert.match(r.body.message, re, what);
      }
      const malformed = await fetch(`${ts.url}/api/v1/monitors/json-mon/records`, { method: 'POST', body: '{"records": [', headers: { 'content-type': 'application/json' } });
      assert.equal(malformed.status, 400);
      const wrongType = await fetch(`${ts.url}/api/v1/monitors/json-mon/records`, { method: 'POST', body: 'a', headers: { 'content-type': 'image/png' } });
      assert.equal(wrongType.status, 400);
      const ragged = await fetch(`${ts.url}/api/v1/monitors/json-mon/records`, { method: 'POST', body: 'date,temp_max\n2020-01-02,1\n2020-01-02\n', headers: { 'content-type': 'text/csv' } });
      assert.equal(ragged.status, 400, await ragged.text());
      const noColumns = await fetch(`${ts.url}/api/v1/monitors/json-mon/records`, { method: 'POST', body: 'date,a\n2020-01-02,1\n', headers: { 'content-type': 'text/csv' } });
      assert.equal(noColumns.status, 400);
      const csvOk = await fetch(`${ts.url}/api/v1/monitors/json-mon/records`, { method: 'POST', body: 'date,temp_max,weather\n2020-01-02,NaN,sun\n2020-01-02,inf,sun\n2020-01-02,,fog\n', headers: { 'content-type': 'text/csv' } });
      assert.equal(csvOk.status, 200);
      assert.deepEqual(await csvOk.json(), { accepted: 3, windows: 1, predictions_stored: 0, ignored_columns: [], invalid_values: 1 });
      const r = (await api('GET', '/monitors/json-mon/report')).body;
      assert.equal(r.rows, 5, 'nothing lost, nothing from the refused uploads');
      assert.equal(r.features.temp_max.rows, 5);
      assert.equal(r.features.temp_max.invalid, 2);
      assert.equal(r.features.temp_max.missing_rate, 2 / 5);
      assert.equal(r.features.weather.missing_rate, 1 / 5);

      const labels = await api('POST', '/monitors/json-mon/labels', { labels: [{ request_id: 'nobody', label: 1 }] });
      assert.deepEqual({ status: labels.status, joined: labels.body.joined, unknown: labels.body.unknown_request_ids }, { status: 200, joined: 0, unknown: ['nobody'] });
      for (const body of [{ labels: [{ request_id: '', label: 1 }] }, { labels: [{ request_id: 'a' }] }, { labels: 'x' }, { labels: [{ request_id: 'a', label: { x: 1 } }] }]) {
        assert.equal((await api('POST', '/monitors/json-mon/labels', body)).status, 400, JSON.stringify(body));
      }
      const creates: [unknown, number][] = [
        [{ name: 'json-mon', reference: 'weather-reference@v1' }, 409],
        [{ name: 'x/y', reference: 'weather-reference@v1' }, 400],
        [{ name: 'no-ref', model: 'm' }, 400],
        [{ name: 'bad-ref', reference: 'weather-reference@v9' }, 404],
        [{ name: 'bad-col', reference: 'weather-reference@v1', features: ['nope'] }, 400],
        [{ name: 'bad-date-col', reference: 'weather-reference@v1', features: ['date'] }, 400],
        [{ name: 'bad-window', reference: 'weather-reference@v1', window: '3 fortnights' }, 400],
        [{ name: 'bad-rule', reference: 'weather-reference@v1', rules: ['drift_share >> 1'] }, 400],
        [{ name: 'bad-rule2', reference: 'weather-reference@v1', rules: ['feature:x.nothing > 1'] }, 400],
        [{ name: 'bad-method', reference: 'weather-reference@v1', features: [{ name: 'weather', kind: 'categorical', method: 'ks' }] }, 400],
        [{ name: 'nan', reference: 'weather-reference@v1', drift_share: 'NaN' }, 400],
      ];
      for (const [body, status] of creates) assert.equal((await api('POST', '/monitors', body)).status, status, JSON.stringify(body));
      assert.equal((await api('GET', '/monitors/nobody/report')).status, 404);
      assert.equal((await api('GET', '/monitors/json-mon/report?from=yesterday')).status, 400);
      assert.equal((await api('GET', '/monitors/json-mon/report?from=2021-01-01&to=2020-01-01')).status, 400);
      assert.equal((await api('GET', '/monitors/json-mon/windows/abc')).status, 400);
      assert.equal((await api('GET', '/monitors/json-mon/windows/12345')).status, 404);
    });

    it('row-count windows close at their row count', async () => {
      assert.equal((await api('POST', '/monitors', { name: 'rows-mon', model: 'm', reference: 'weather-reference@v1', window: '4 rows', features: ['temp_max'] })).status, 201);
      const rec = (n: number) => Array.from({ length: n }, (_, i) => ({ temp_max: i }));
      assert.equal((await api('POST', '/monitors/rows-mon/records', { records: rec(6) })).body.windows, 2);
      await api('POST', '/monitors/rows-mon/records', { records: rec(3) });
      const w = (await api('GET', '/monitors/rows-mon/windows')).body.windows;
      assert.deepEqual(
        w.map((x: any) => [x.start, x.rows]),
        [
          [0, 4],
          [1, 4],
          [2, 1],
        ],
      );
      assert.equal((await api('GET', '/monitors/rows-mon/report?from=1&to=1')).body.rows, 4);
      assert.equal((await api('GET', '/monitors/rows-mon/report?from=0')).body.rows, 9);
      assert.equal((await api('GET', '/monitors/rows-mon/report?from=2014-01-01')).status, 400);
    });

    it('alerts fire once per rule for N windows, resolve, become events and signed webhooks', async () => {
      const hook = await api('POST', '/webhooks', { name: 'alerts', url: rx.url, events: ['monitor_alert_firing', 'monitor_alert_resolved'], secret: 'monitor secret' });
      assert.equal(hook.status, 201, hook.text);
      const c = await api('POST', '/monitors', { name: 'alerting', model: 'rain-model', reference: 'weather-reference@v1', window: '1d', time_column: 'date', features: ['temp_max'], rules: ['feature:temp_max.psi > 0.25 for 2 windows', 'rows < 1'] });
      assert.equal(c.status, 201, c.text);
      const seattle = WEATHER.filter((d) => d.location === 'Seattle' && d.date < '2014');
      // Each day of 2020 holds the reference's values (shifted by `shift` degrees on hot days).
      const day = (date: string, shift: number) => ({ records: seattle.map((d) => ({ date, temp_max: Number(d.temp_max) + shift })) });
      const post = async (date: string, shift: number) => assert.equal((await api('POST', '/monitors/alerting/records', day(date, shift))).status, 200);
      const evaluate = async () => (await api('POST', '/monitors/alerting/evaluate')).body.alerts as any[];
      await post('2020-03-01', 0);
      await post('2020-03-02', 15);
      assert.deepEqual(await evaluate(), [], 'one hot day is not two');
      await post('2020-03-03', 15);
      let alerts = await evaluate();
      assert.equal(alerts.length, 1);
      assert.deepEqual({ state: alerts[0].state, rule: alerts[0].rule, window: alerts[0].window_start }, { state: 'FIRING', rule: 'feature:temp_max.psi > 0.25 for 2 windows', window: Date.UTC(2020, 2, 3) });
      await post('2020-03-04', 15);
      assert.equal((await evaluate()).length, 1, 'still one firing alert: de-duplicated');
      const firing = (await api('GET', '/monitors/alerting')).body.monitor.firing;
      assert.equal(firing, 1);
      const metrics = await (await fetch(`${ts.url}/metrics`)).text();
      assert.match(metrics, /kiln_monitor_alert_firing\{monitor="alerting",rule="feature:temp_max.psi > 0.25 for 2 windows"\} 1/);
      assert.match(metrics, /kiln_monitor_psi\{monitor="alerting",feature="temp_max"\} [0-9.]+/);
      await post('2020-03-05', 0);
      alerts = await evaluate();
      assert.deepEqual(
        alerts.map((a) => a.state),
        ['RESOLVED'],
      );
      assert.ok(alerts[0].resolved_at >= alerts[0].fired_at);
      const events = (await ts.server.events.read(0, 10_000)).filter((e) => e.type.startsWith('monitoring.alert_'));
      assert.deepEqual(
        events.map((e) => e.type),
        ['monitoring.alert_firing', 'monitoring.alert_resolved'],
      );
      const deliveries = await until('both webhook deliveries', async () => (rx.got.length >= 2 ? rx.got : undefined));
      assert.deepEqual(
        deliveries.map((d) => d.json.kind),
        ['monitor_alert_firing', 'monitor_alert_resolved'],
      );
      const first = deliveries[0]!;
      assert.equal(first.json.model, 'rain-model');
      assert.equal(first.json.details.monitor, 'alerting');
      assert.equal(first.json.details.rule, 'feature:temp_max.psi > 0.25 for 2 windows');
      const stamp = String(first.headers['x-kiln-timestamp']);
      assert.equal(first.headers['x-kiln-signature'], 'sha256=' + createHmac('sha256', 'monitor secret').update(`${stamp}.${first.body}`).digest('hex'));
    });

    it("counts every request of a monitored Kiln deployment, joins labels by the requests' ids", async () => {
      // The training data: the model's four inputs and its output column; the run that made the model logged it.
      const rows = Array.from({ length: 200 }, (_, i) => [i % 10, (i * 7) % 13, i / 20, (i % 3) - 1, i % 2]);
      writeFileSync(join(dir, 'linear.csv'), ['a,b,c,d,y', ...rows.map((r) => r.join(','))].join('\n') + '\n');
      assert.equal((await run('data', 'add', join(dir, 'linear.csv'), '--name', 'linear-train')).code, 0);
      const train = (await api('GET', '/datasets/linear-train/versions/v1')).body.version;
      const inputs = [{ name: 'linear-train', digest: train.mlflow_digest, source_type: 'kiln', source: 'kiln://datasets/linear-train/v1', tags: { 'mlflow.data.context': 'training' } }];
      assert.equal(await registerOnnx(ts.url, 'linear', linearModel({ inputs: 4 }), { aliases: ['production'], inputs }), 1);
      const d = await api('POST', '/deployments', { name: 'linear', model: 'models:/linear@production', payload_log: { sample_rate: 1 } });
      assert.equal(d.status, 200, d.text);
      // Without a reference, a deployment's monitor finds the training data through lineage.
      const found = await api('POST', '/monitors', { name: 'linear-lineage', deployment: 'linear', features: ['a', 'b'] });
      assert.equal(found.status, 201, found.text);
      assert.equal(found.body.monitor.reference.source, 'linear-train@v1');
      assert.equal((await api('DELETE', '/monitors/linear-lineage')).status, 204);
      const m = await api('POST', '/monitors', { name: 'linear-mon', deployment: 'linear', reference: 'linear-train@v1', features: ['a', 'b', 'c', 'd'], predictions: [{ name: 'y', kind: 'numeric' }], label: 'y', window: '1h' });
      assert.equal(m.status, 201, m.text);
      assert.equal(m.body.monitor.model, 'linear');
      assert.equal(m.body.monitor.task, 'regression');
      await new Promise((r) => setTimeout(r, 300)); // the counter picks up the new monitor
      for (let i = 0; i < 10; i++) {
        const r = await call(ts.url, 'POST', '/v2/models/linear/infer', { id: `lin-${i}`, inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: [i, 1, 2, 3] }] });
        assert.equal(r.status, 200, r.text);
      }
      const batch = await call(ts.url, 'POST', '/v2/models/linear/infer', { inputs: [{ name: 'x', shape: [5, 4], datatype: 'FP32', data: Array.from({ length: 20 }, () => 1) }] });
      assert.equal(batch.status, 200);
      const report = await until('the counted requests', async () => {
        const r = (await api('GET', '/monitors/linear-mon/report')).body;
        return r.rows === 15 ? r : undefined;
      });
      assert.equal(report.features.a.rows, 15);
      assert.equal(report.predictions.y.rows, 15);
      const labels = await api('POST', '/monitors/linear-mon/labels', { labels: Array.from({ length: 10 }, (_, i) => ({ request_id: `lin-${i}`, label: 0 })) });
      assert.equal(labels.body.joined, 10, labels.text);
      const perf = (await api('GET', '/monitors/linear-mon/report')).body.performance;
      assert.equal(perf.task, 'regression');
      assert.equal(perf.labeled, 10);
      assert.equal(typeof perf.metrics.mae, 'number');
    });
  });
}
