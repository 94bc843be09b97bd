import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { deflateSync } from 'node:zlib';
import type { Page } from 'playwright-core';
import { call, startTestServer, type TestServer } from '../support/server.js';
import { chartColours, openUi, UI_SKIP, type UiSession } from '../support/browser.js';
import { linearModel, ONNX_MLMODEL } from '../../src/registry/packaging/test-models.js';
import { colorDistance, PALETTE } from '../../web/src/logic/chart-data.js';

/** How many pixels of the chart `[data-metric=<metric>]` are within a small distance of the colour `hex`. */
function pixelsOf(page: Page, metric: string, hex: string): Promise<number> {
  return page.evaluate(`(() => {
    const c = document.querySelector('[data-metric="${metric}"] canvas');
    if (!c) return 0;
    const n = parseInt('${hex}'.slice(1), 16);
    const [r, g, b] = [(n >> 16) & 255, (n >> 8) & 255, n & 255];
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let count = 0;
    for (let i = 0; i < d.length; i += 4) if (d[i + 3] > 200 && Math.abs(d[i] - r) + Math.abs(d[i + 1] - g) + Math.abs(d[i + 2] - b) < 24) count++;
    return count;
  })()`) as Promise<number>;
}

/** A w×h solid-colour RGB PNG. */
function png(w: number, h: number, rgb: [number, number, number]): Buffer {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (b: Buffer) => {
    let c = 0xffffffff;
    for (const x of b) c = crcTable[(c ^ x) & 0xff]! ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const c = Buffer.alloc(4);
    c.writeUInt32BE(crc(td));
    return Buffer.concat([len, td, c]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8;
  ihdr[9] = 2;
  const raw = Buffer.alloc((w * 3 + 1) * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) raw.set(rgb, y * (w * 3 + 1) + 1 + x * 3);
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

const draws = (page: Page, metric: string) => page.locator(`[data-metric="${metric}"] .uplot-wrap`).getAttribute('data-draws').then(Number);

describe('web UI: run and compare pages', { skip: UI_SKIP }, () => {
  let ts: TestServer;
  let ui: UiSession;
  let runA: string;
  let runB: string;
  let child: string;
  before(async () => {
    ts = await startTestServer({ store: 'sqlite' });
    ui = await openUi(ts.url);
    const t0 = Date.now() - 600_000;
    const mk = async (name: string, tags: Record<string, string> = {}) => (await call(ts.url, 'POST', '/api/v1/runs', { experiment_id: '0', run_name: name, start_time: t0, tags })).body.run.run_id as string;
    runA = await mk('baseline', { 'mlflow.source.name': 'train.py', 'mlflow.source.git.commit': '0123456789abcdef0123456789abcdef01234567', team: 'vision' });
    runB = await mk('wider', { team: 'vision' });
    child = await mk('fold-1', { 'mlflow.parentRunId': runA });
    const series = (scale: number) =>
      Array.from({ length: 300 }, (_, i) => ({ key: 'loss', value: i === 50 ? 'NaN' : i === 200 ? 25 * scale : (2 * scale) / (1 + i / 20), step: i, timestamp: t0 + i * 1000 }));
    const acc = Array.from({ length: 300 }, (_, i) => ({ key: 'acc', value: 1 - 1 / (2 + i / 30), step: i, timestamp: t0 + i * 1000 }));
    assert.equal((await call(ts.url, 'POST', `/api/v1/runs/${runA}/log`, { metrics: [...series(1), ...acc], params: { lr: '0.01', layers: '4', optimizer: 'adam' } })).status, 204);
    assert.equal((await call(ts.url, 'POST', `/api/v1/runs/${runB}/log`, { metrics: [...series(0.7), ...acc.map((p) => ({ ...p, value: p.value * 0.95 }))], params: { lr: '0.03', layers: '4', optimizer: 'sgd' } })).status, 204);
    for (const id of [runA, runB, child]) await call(ts.url, 'PATCH', `/api/v1/runs/${id}`, { status: 'FINISHED', end_time: t0 + 300_000 });
    const put = async (path: string, body: string | Buffer | Uint8Array) => {
      const res = await fetch(`${ts.url}/api/v1/runs/${runA}/artifacts/${path}`, { method: 'PUT', body });
      assert.equal(res.status, 204, path);
    };
    await put('notes.txt', 'trained on 3 GPUs\n');
    await put('config.json', JSON.stringify({ lr: 0.01, layers: [64, 32] }));
    await put('eval/predictions.csv', 'id,label,score\n1,cat,0.9\n2,"dog, big",0.4\n');
    await put('plots/roc.png', png(40, 30, [220, 40, 40]));
    await put('model/MLmodel', ONNX_MLMODEL);
    await put('model/model.onnx', linearModel());
  });
  after(async () => {
    await ui?.close();
    await ts?.stop();
  });

  it('shows a run: overview, charts that react to x mode and log scale, params, tags', async () => {
    const { page } = ui;
    await page.goto(`/runs/${runA}`);
    await page.getByRole('heading', { name: 'baseline' }).waitFor();
    const overview = page.getByLabel('Overview');
    await overview.getByText('train.py').waitFor();
    await overview.getByText('0123456789ab').waitFor();
    await overview.getByRole('link', { name: 'fold-1' }).waitFor();
    await page.locator('[data-metric="loss"] .uplot-wrap[data-drawn="true"]').waitFor();
    await page.getByText('1 NaN/∞ not drawn').waitFor();
    assert.ok((await chartColours(page, 'loss')) > 3, 'the loss chart is not blank');
    await ui.shot('run-01-metrics');

    const before = await draws(page, 'loss');
    await page.getByRole('button', { name: 'Relative time' }).click();
    await page.waitForURL(/x=relative/);
    await page.getByLabel('Log scale').click();
    await page.waitForURL(/log=1/);
    await page.getByLabel('Smoothing').fill('0.6');
    await page.waitForURL(/smooth=0\.6/);
    await page.locator('[data-metric="loss"] .uplot-wrap[data-drawn="true"]').waitFor();
    assert.ok((await chartColours(page, 'loss')) > 3);
    assert.ok((await draws(page, 'loss')) >= 1 && before >= 1);
    await ui.shot('run-02-relative-log-smooth');

    await page.getByRole('tab', { name: /Params/ }).click();
    await page.getByRole('table', { name: 'Params' }).getByText('optimizer').waitFor();
    await page.getByRole('tab', { name: /Tags/ }).click();
    await page.getByRole('table', { name: 'Tags' }).getByText('team').waitFor();
    assert.equal(await page.getByText('System tags (').isVisible(), true);
    assert.equal(await page.getByRole('table', { name: 'System tags' }).isVisible(), false, 'system tags start collapsed');

    // the child links back to its parent
    await page.goto(`/runs/${child}`);
    await page.getByLabel('Overview').getByRole('link', { name: runA }).waitFor();
    assert.deepEqual(ui.errors, []);
  });

  it('browses artifacts with previews and downloads', async () => {
    const { page } = ui;
    await page.goto(`/runs/${runA}?tab=artifacts`);
    const tree = page.getByRole('tree', { name: 'Artifacts' });
    await tree.getByRole('button', { name: /notes\.txt/ }).click();
    await page.getByText('trained on 3 GPUs').waitFor();
    assert.match((await page.getByRole('link', { name: 'Download' }).getAttribute('href')) ?? '', /\/api\/v1\/runs\/.+\/artifacts\/notes\.txt$/);
    await tree.getByRole('button', { name: /config\.json/ }).click();
    await page.getByText('"layers": [').waitFor();
    await tree.getByRole('button', { name: 'eval/' }).click();
    await tree.getByRole('button', { name: /predictions\.csv/ }).click();
    const csv = page.getByRole('table', { name: 'CSV preview' });
    await csv.getByRole('cell', { name: 'dog, big' }).waitFor();
    assert.equal(await csv.locator('tbody tr').count(), 2);
    await ui.shot('run-03-csv');
    await tree.getByRole('button', { name: 'plots/' }).click();
    await tree.getByRole('button', { name: /roc\.png/ }).click();
    const img = page.getByRole('img', { name: 'plots/roc.png' });
    await img.waitFor();
    await page.waitForFunction(`(() => { const i = document.querySelector('img[alt="plots/roc.png"]'); return !!i && i.complete && i.naturalWidth === 40; })()`);
    await tree.getByRole('button', { name: 'model/' }).click();
    await tree.getByRole('button', { name: /MLmodel/ }).click();
    await page.locator('mark.flavor', { hasText: 'onnx' }).waitFor();
    await tree.getByRole('button', { name: /model\.onnx/ }).click();
    const inputs = page.getByRole('table', { name: 'ONNX inputs' });
    await inputs.getByRole('cell', { name: 'x', exact: true }).waitFor();
    await inputs.getByRole('cell', { name: 'float32' }).waitFor();
    await ui.shot('run-04-onnx');
    assert.deepEqual(ui.errors, []);
  });

  it('refuses non-ONNX files at the inspection endpoint', async () => {
    const r = await call(ts.url, 'GET', `/api/v1/runs/${runA}/artifacts-onnx?path=notes.txt`);
    assert.equal(r.status, 400);
    const ok = await call(ts.url, 'GET', `/api/v1/runs/${runA}/artifacts-onnx?path=model/model.onnx`);
    assert.equal(ok.status, 200);
    assert.equal(ok.body.inputs[0].name, 'x');
    assert.equal(ok.body.inputs[0].type, 'float32');
  });

  it('compares runs: overlaid charts, parallel coordinates, scatter, diff', async () => {
    const { page } = ui;
    await page.goto(`/compare?runs=${runA},${runB}`);
    await page.getByRole('heading', { name: 'Compare runs' }).waitFor();
    await page.locator('[data-metric="loss"] .uplot-wrap[data-drawn="true"]').waitFor();
    assert.ok((await chartColours(page, 'loss')) > 3);
    const legend = page.locator('[data-metric="loss"] .u-legend');
    await legend.getByText('baseline').waitFor();
    await legend.getByText('wider').waitFor();
    const diff = page.getByRole('table', { name: 'Diff table' });
    // Both runs' fields arrive before the rows settle: wait for each row's final state rather than reading it once.
    await diff.locator('tr[data-differs="true"]', { hasText: 'optimizer' }).waitFor();
    await diff.locator('tr[data-differs="false"]', { hasText: 'layers' }).waitFor();
    await page.getByLabel('Only differences').click();
    await page.waitForURL(/diff=1/);
    await diff.getByRole('row', { name: /layers/ }).waitFor({ state: 'detached' });
    const pc = page.getByRole('img', { name: /Parallel coordinates/ });
    await pc.locator('g[data-run] path').nth(1).waitFor();
    await page.getByLabel('Scatter X').selectOption('param:lr');
    await page.getByLabel('Scatter Y').selectOption('metric:acc');
    await page.waitForURL(/sy=metric%3Aacc|sy=metric:acc/);
    const scatter = page.getByRole('img', { name: /Scatter of metric: acc against param: lr/ });
    await scatter.locator('circle').nth(1).waitFor();
    assert.equal(await scatter.locator('circle').count(), 2);
    await ui.shot('compare-01');
    await page.getByRole('button', { name: 'Toggle dark theme' }).click();
    await page.waitForTimeout(200);
    await ui.shot('compare-02-dark');
    await page.getByRole('button', { name: 'Toggle dark theme' }).click();
    assert.deepEqual(ui.errors, []);
  });

  it('shows a metric logged once as its value and a point in the middle of a small range around its step', async () => {
    const { page } = ui;
    ui.errors.length = 0;
    const once = (await call(ts.url, 'POST', '/api/v1/runs', { experiment_id: '0', run_name: 'once' })).body.run.run_id as string;
    await call(ts.url, 'POST', `/api/v1/runs/${once}/log`, {
      metrics: [
        { key: 'f1', value: 0.913, step: 7 },
        { key: 'few', value: 1, step: 3 },
        { key: 'few', value: 2, step: 5 },
      ],
    });
    await page.goto(`/runs/${once}`);
    const wrap = page.locator('[data-metric="f1"] .uplot-wrap[data-drawn="true"]');
    await wrap.waitFor();
    assert.equal(await page.getByLabel('f1 value').textContent(), '0.913 at step 7');
    assert.deepEqual([await wrap.getAttribute('data-x-min'), await wrap.getAttribute('data-x-max')], ['6', '8']);
    assert.ok((await pixelsOf(page, 'f1', PALETTE[0]!)) > 20, 'the point is drawn');
    // two points: framed with a margin, no single value
    const few = page.locator('[data-metric="few"] .uplot-wrap[data-drawn="true"]');
    await few.waitFor();
    assert.deepEqual([Number(await few.getAttribute('data-x-min')), Number(await few.getAttribute('data-x-max'))], [2.8, 5.2]);
    assert.equal(await page.getByLabel('few value').count(), 0);
    await ui.shot('run-06-one-point');
    assert.deepEqual(ui.errors, []);
  });

  it('gives three compared runs three distinct colours, in compare order', async () => {
    const { page } = ui;
    ui.errors.length = 0;
    const third = (await call(ts.url, 'POST', '/api/v1/runs', { experiment_id: '0', run_name: 'third' })).body.run.run_id as string;
    const t0 = Date.now();
    await call(ts.url, 'POST', `/api/v1/runs/${third}/log`, { metrics: Array.from({ length: 300 }, (_, i) => ({ key: 'loss', value: 3 / (1 + i / 10), step: i, timestamp: t0 + i })) });
    await page.goto(`/compare?runs=${runB},${third},${runA}`);
    await page.locator('[data-metric="loss"] .uplot-wrap[data-drawn="true"]').waitFor();
    const chips = await page.getByLabel('Compared runs').locator('[data-run-id]').evaluateAll((es) => es.map((e) => [(e as unknown as { dataset: Record<string, string> }).dataset.runId, (e as unknown as { dataset: Record<string, string> }).dataset.color]));
    assert.deepEqual(chips, [
      [runB, PALETTE[0]],
      [third, PALETTE[1]],
      [runA, PALETTE[2]],
    ]);
    for (const [i, j] of [[0, 1], [0, 2], [1, 2]] as const) assert.ok(colorDistance(PALETTE[i]!, PALETTE[j]!) > 60);
    // the chart draws each run in its colour (the legend's markers show each series' stroke)
    const markers = (await page.evaluate(`[...document.querySelectorAll('[data-metric="loss"] .u-legend .u-series:not(:first-child) .u-marker')].map((m) => getComputedStyle(m).borderColor)`)) as string[];
    const rgb = (hex: string) => {
      const n = parseInt(hex.slice(1), 16);
      return `rgb(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255})`;
    };
    assert.deepEqual(markers, PALETTE.slice(0, 3).map(rgb));
    await ui.shot('compare-03-three-runs');
    assert.deepEqual(ui.errors, []);
  });

  it('updates the charts of a running run live', async () => {
    const { page } = ui;
    const live = (await call(ts.url, 'POST', '/api/v1/runs', { experiment_id: '0', run_name: 'live' })).body.run.run_id as string;
    await call(ts.url, 'POST', `/api/v1/runs/${live}/log`, { metrics: [{ key: 'loss', value: 1, step: 0 }, { key: 'loss', value: 0.8, step: 1 }] });
    await page.goto(`/runs/${live}`);
    await page.getByText('2 points').waitFor();
    await call(ts.url, 'POST', `/api/v1/runs/${live}/log`, { metrics: [{ key: 'loss', value: 0.5, step: 2 }] });
    await page.getByText('3 points').waitFor({ timeout: 10_000 });
    await call(ts.url, 'PATCH', `/api/v1/runs/${live}`, { status: 'FINISHED' });
    await page.getByLabel('Status FINISHED').waitFor({ timeout: 10_000 });
    await ui.shot('run-05-live');
    assert.deepEqual(ui.errors, []);
  });
});
