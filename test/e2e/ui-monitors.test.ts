import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { call, startTestServer, type TestServer } from '../support/server.js';
import { openUi, UI_SKIP, unexpectedErrors, watchCsp, type UiSession } from '../support/browser.js';

const ana = { 'x-kiln-user': 'ana' };
const DAY1 = Date.UTC(2024, 2, 1);
const DAY2 = Date.UTC(2024, 2, 2);
const CITIES = ['north', 'south', 'east'];

/** Temperatures spread over 5..24.5, the same shape in the reference and on the first day; the second day is 25 °C warmer. */
const temp = (i: number, shift = 0) => 5 + ((i * 7) % 40) / 2 + shift;
const rain = (i: number) => (i % 3 === 0 ? 'yes' : 'no');

function referenceCsv(): string {
  const lines = ['temp,city,rain'];
  for (let i = 0; i < 300; i++) lines.push(`${temp(i)},${CITIES[i % 3]},${rain(i)}`);
  return `${lines.join('\n')}\n`;
}

/** A day of predictions: the same features as the reference (shift 0) or warmer; every 5th prediction is wrong. */
function day(start: number, prefix: string, shift: number): Record<string, unknown>[] {
  return Array.from({ length: 200 }, (_, i) => ({
    request_id: `${prefix}-${i}`,
    date: new Date(start + i * 60_000).toISOString(),
    temp: temp(i, shift),
    city: CITIES[i % 3],
    rain_pred: i % 5 === 0 ? (rain(i) === 'yes' ? 'no' : 'yes') : rain(i),
  }));
}

/** Polls `check` until it holds. */
async function until(what: string, check: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`never true: ${what}`);
}

/** A monitor over two days of predictions, the second drifted, in real Chromium: the list, the heatmap, the overlay, performance and alerts. */
describe('web UI: monitors', { skip: UI_SKIP }, () => {
  let ts: TestServer;
  let ui: UiSession;
  let csp: string[];

  before(async () => {
    ts = await startTestServer({ store: 'sqlite' });
    // The reference: a dataset version made of one CSV (the blob first, then the version naming it).
    const content = referenceCsv();
    const sha256 = createHash('sha256').update(content).digest('hex');
    const put = await fetch(`${ts.url}/api/v1/data/blobs/${sha256}`, { method: 'PUT', body: content, headers: { 'content-type': 'application/octet-stream', ...ana } });
    assert.equal(put.status, 201, await put.text());
    const v = await call(ts.url, 'POST', '/api/v1/datasets/weather/versions', { files: [{ path: 'weather.csv', sha256, bytes: Buffer.byteLength(content) }] }, ana);
    assert.equal(v.status, 201, v.text);
    assert.equal(v.body.version.ref, 'weather@v1');
    ui = await openUi(ts.url);
    csp = await watchCsp(ui);
  });
  after(async () => {
    await ui?.close();
    await ts?.stop();
  });

  it('shows the empty list with how to create a monitor, from the main navigation', async () => {
    const { page } = ui;
    ui.errors.length = 0;
    await page.goto('/experiments');
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Monitors', exact: true }).click();
    await page.waitForURL('**/monitors*');
    await page.getByRole('heading', { name: /^Monitors/ }).waitFor();
    await page.getByText(/No monitors/).waitFor();
    await page.getByText('kiln monitors create NAME --reference DATASET@vN --window 1d --time-column date').waitFor();
    assert.deepEqual(unexpectedErrors(ui.errors), []);
  });

  it('lists a monitor with its reference, window and firing alert', async () => {
    const created = await call(
      ts.url,
      'POST',
      '/api/v1/monitors',
      { name: 'weather-mon', model: 'rain-model', reference: 'weather@v1', window: '1d', time_column: 'date', label: 'rain', predictions: ['rain_pred'], rules: ['drift_share > 0.3'] },
      ana,
    );
    assert.equal(created.status, 201, created.text);
    assert.deepEqual(
      created.body.monitor.features.map((f: { name: string }) => f.name),
      ['temp', 'city'],
    );
    const logged = await call(ts.url, 'POST', '/api/v1/monitors/weather-mon/records', { records: [...day(DAY1, 'a', 0), ...day(DAY2, 'b', 25)] }, ana);
    assert.equal(logged.status, 200, logged.text);
    assert.equal(logged.body.accepted, 400);
    assert.equal(logged.body.windows, 2);
    const labels = [...Array.from({ length: 200 }, (_, i) => ({ request_id: `a-${i}`, label: rain(i) })), ...Array.from({ length: 100 }, (_, i) => ({ request_id: `b-${i}`, label: rain(i) }))];
    const labelled = await call(ts.url, 'POST', '/api/v1/monitors/weather-mon/labels', { labels }, ana);
    assert.equal(labelled.status, 200, labelled.text);
    assert.equal(labelled.body.joined, 300);
    // The rules are evaluated after records and labels arrive; asking for it settles the order.
    const evaluated = await call(ts.url, 'POST', '/api/v1/monitors/weather-mon/evaluate', undefined, ana);
    assert.equal(evaluated.status, 200, evaluated.text);
    assert.deepEqual(
      evaluated.body.alerts.map((a: { state: string; rule: string; window_start: number }) => [a.state, a.rule, a.window_start]),
      [['FIRING', 'drift_share > 0.3', DAY2]],
    );

    const { page } = ui;
    ui.errors.length = 0;
    await page.goto('/monitors');
    const row = page.getByRole('table', { name: 'Monitors' }).getByRole('row', { name: /weather-mon/ });
    await row.getByRole('link', { name: 'weather-mon', exact: true }).waitFor();
    await row.getByRole('cell', { name: 'model rain-model' }).waitFor();
    await row.getByRole('cell', { name: 'weather@v1' }).waitFor();
    await row.getByRole('cell', { name: '1d', exact: true }).waitFor();
    await row.getByText('1 firing').waitFor();
    await ui.shot('80-monitors-list');
    await row.getByRole('link', { name: 'weather-mon', exact: true }).click();
    await page.waitForURL('**/monitors/weather-mon');
    await page.getByRole('heading', { name: 'weather-mon', level: 1 }).waitFor();
    assert.deepEqual(unexpectedErrors(ui.errors), []);
  });

  it('shows the drifted feature on the drifted day in the heatmap, and its histograms against the reference', async () => {
    const { page } = ui;
    ui.errors.length = 0;
    await page.goto('/monitors/weather-mon');
    const cell = (column: string, start: number) => page.getByTestId(`heat-${column}-${start}`);
    await cell('temp', DAY2).waitFor();
    assert.equal(await cell('temp', DAY2).getAttribute('data-drifted'), 'true');
    assert.match((await cell('temp', DAY2).getAttribute('title')) ?? '', /DRIFTED\nks statistic/);
    assert.equal(await cell('temp', DAY1).getAttribute('data-drifted'), 'false');
    assert.equal(await cell('city', DAY2).getAttribute('data-drifted'), 'false');
    assert.equal(await cell('rain_pred', DAY1).getAttribute('data-drifted'), 'false');
    assert.equal(await page.getByTestId(`drift-share-${DAY2}`).getAttribute('data-dataset-drift'), 'true');
    assert.equal(await page.getByTestId(`drift-share-${DAY1}`).getAttribute('data-dataset-drift'), 'false');

    // A cell of the first day, then the drifted one: the overlay follows the selection.
    const overlay = page.getByTestId('overlay');
    await cell('city', DAY1).click();
    await until('the overlay shows city on day 1', async () => (await overlay.getAttribute('data-column')) === 'city' && (await overlay.getAttribute('data-start')) === String(DAY1));
    await overlay.getByRole('img', { name: 'Histograms of city: reference and 2024-03-01' }).waitFor();
    await overlay.getByText('not drifted', { exact: true }).waitFor();

    await cell('temp', DAY2).click();
    await page.waitForURL(new RegExp(`column=temp&window=${DAY2}`));
    assert.equal(await cell('temp', DAY2).getAttribute('aria-selected'), 'true');
    const chart = overlay.getByRole('img', { name: 'Histograms of temp: reference and 2024-03-02' });
    await chart.waitFor();
    // Both histograms: the reference spread over its bins, the window all above the reference's range.
    const heights = async (side: string) => Promise.all((await chart.locator(`rect[data-side="${side}"]`).all()).map(async (r) => Number(await r.getAttribute('height'))));
    const ref = await heights('reference');
    const win = await heights('window');
    assert.ok(ref.length >= 3, `bins: ${ref.length}`);
    assert.equal(ref.length, win.length);
    assert.ok(ref.filter((h) => h > 0).length >= 3, `reference bars: ${ref}`);
    assert.deepEqual(
      win.map((h) => h > 0),
      ref.map((_, i) => i === ref.length - 1),
      `window bars: ${win}`,
    );
    const figures = overlay.getByLabel('Drift figures');
    await figures.getByText(/^ks \(threshold 0\.05\)$/).waitFor();
    await overlay.locator('.badge', { hasText: /^drifted$/ }).waitFor();
    assert.match((await figures.textContent()) ?? '', /DriftedyesPSI/);
    await ui.shot('81-monitor-heatmap');

    // Compared with the previous window instead: the first day has none, the second still drifts (from the first).
    await page.getByRole('group', { name: 'Compare each window with' }).getByRole('button', { name: 'the previous window' }).click();
    await page.waitForURL(/compare=previous/);
    await until('only the second day is compared', async () => (await cell('temp', DAY1).count()) === 0 && (await cell('temp', DAY2).count()) === 1);
    assert.equal(await cell('temp', DAY2).getAttribute('data-drifted'), 'true');
    await overlay.getByRole('img', { name: 'Histograms of temp: previous window and 2024-03-02' }).waitFor();
    assert.deepEqual(unexpectedErrors(ui.errors), []);
  });

  it('draws predictions and performance over time, and the alert history', async () => {
    const { page } = ui;
    ui.errors.length = 0;
    await page.goto('/monitors/weather-mon');
    await page.getByTestId('firing').getByText('1 firing').waitFor();
    for (const id of ['prediction-chart-rain_pred', 'performance-chart', 'coverage-chart']) await page.locator(`[data-testid="${id}"] .uplot-wrap[data-drawn="true"]`).waitFor();
    // Accuracy is drawn; day 2 is half labelled.
    await page.getByTestId('performance-chart').getByText('accuracy').first().waitFor();
    const windows = (await call(ts.url, 'GET', '/api/v1/monitors/weather-mon/windows')).body.windows;
    assert.deepEqual(
      windows.map((w: { performance: { label_coverage: number } }) => w.performance.label_coverage),
      [1, 0.5],
    );

    const alerts = page.getByRole('table', { name: 'Alerts' });
    const firing = alerts.getByRole('row', { name: /FIRING/ });
    await firing.waitFor();
    await firing.getByRole('cell', { name: 'drift_share > 0.3' }).waitFor();
    await firing.getByRole('cell', { name: '0.5', exact: true }).waitFor();
    await firing.getByRole('cell', { name: '2024-03-02' }).waitFor();
    await ui.shot('82-monitor-alerts');
    assert.deepEqual(unexpectedErrors(ui.errors), []);
    assert.deepEqual(csp, []);
  });
});
