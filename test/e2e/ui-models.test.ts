import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { weatherCsv } from '../support/fixtures.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../support/backends.js';
import { call, startTestServer, type TestServer } from '../support/server.js';
import { openUi, UI_SKIP, type UiSession } from '../support/browser.js';
import { Kiln } from '@kiln-mlops/sdk';
import { linearModel } from '../../src/registry/packaging/test-models.js';

const DESCRIPTION = `# Rain predictor

Predicts **rain** from the weather.

<script>window.__pwned = 1</script>
<img src="data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7" onerror="window.__pwned = 2">
[bad link](javascript:window.__pwned=3)`;

/** Models, datasets and lineage pages in real Chromium, on data seeded through the SDK and the API. */
describe('web UI: models, datasets, lineage', { skip: UI_SKIP }, () => {
  let ts: TestServer;
  let ui: UiSession;
  let weak = 0;
  let strong = 0;
  const dir = tempDir('kiln-ui-models-');

  before(async () => {
    ts = await startTestServer({ store: 'sqlite' });
    const k = new Kiln({ trackingUri: ts.url, user: 'ana' });
    for (const n of [1, 2]) {
      writeFileSync(join(dir, `weather-${n}.csv`), weatherCsv(300, n, n === 2));
      await k.client.data.add(join(dir, `weather-${n}.csv`), { name: 'weather' });
    }
    const train = (ref: string, accuracy: number) =>
      k.withRun({ experiment: 'rain', params: { lr: 0.01 } }, async (run) => {
        await run.logDatasetInput(ref, 'training');
        run.logMetric('val_accuracy', accuracy);
        await run.flush();
        return (await run.logOnnxModel('model', linearModel({ inputs: 3, inputName: 'features' }), { registeredModelName: 'rain' })).version!.version;
      });
    strong = await train('weather@v1', 0.91);
    weak = await train('weather@v2', 0.7);
    for (let i = 0; i < 100; i++) {
      const vs = (await call(ts.url, 'GET', '/api/v1/models/rain/versions')).body.versions;
      if (vs.every((v: any) => v.status !== 'PENDING_REGISTRATION')) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const h = { 'x-kiln-user': 'ana' };
    assert.equal((await call(ts.url, 'PATCH', '/api/v1/models/rain', { description: DESCRIPTION }, h)).status, 200);
    assert.equal((await call(ts.url, 'PUT', '/api/v1/models/rain/tags/team', { value: 'forecast' }, h)).status, 204);
    assert.equal((await call(ts.url, 'PUT', '/api/v1/models/rain/policies/production', { rules: ['metrics.val_accuracy >= 0.85'], description: 'Only accurate models' }, h)).status, 200);
    const promoted = await call(ts.url, 'POST', `/api/v1/models/rain/versions/${strong}/promote`, { alias: 'production', reason: 'first release' }, h);
    assert.equal(promoted.body.status, 'PROMOTED', JSON.stringify(promoted.body));
    const validation = await call(ts.url, 'POST', '/api/v1/datasets/weather/versions/2/validations', { schema_ref: 'weather@v1' }, h);
    assert.equal(validation.status, 201);
    assert.equal(validation.body.validation.ok, false);
    ui = await openUi(ts.url);
  });
  after(async () => {
    await ui?.close();
    await ts?.stop();
  });

  it('lists models with aliases and shows a model with its safe Markdown description, tags, policy and history', async () => {
    const { page } = ui;
    ui.errors.length = 0;
    await page.goto('/models');
    const row = page.getByRole('row', { name: /rain/ });
    await row.getByRole('link', { name: `@production → v${strong}` }).waitFor();
    await row.getByRole('link', { name: `v${weak}`, exact: true }).waitFor();
    await ui.shot('10-models-list');

    await row.getByRole('link', { name: 'rain', exact: true }).click();
    await page.waitForURL('**/models/rain');
    const md = page.getByLabel('Model description');
    await md.getByRole('heading', { name: 'Rain predictor' }).waitFor();
    assert.equal(await md.locator('strong').textContent(), 'rain');
    assert.equal(await md.locator('script').count(), 0);
    assert.equal(await md.locator('[onerror]').count(), 0);
    assert.equal(await md.locator('a[href^="javascript"]').count(), 0);
    assert.equal(await page.evaluate(() => (globalThis as unknown as { __pwned?: number }).__pwned), undefined);
    await page.getByLabel('Tags').getByText('forecast').waitFor();
    await page.getByRole('table', { name: 'Versions' }).getByRole('link', { name: `v${weak}` }).waitFor();
    await ui.shot('11-model-page');

    await page.getByRole('tab', { name: 'Promotion policy' }).click();
    await page.waitForURL(/tab=policy/);
    await page.getByText('metrics.val_accuracy >= 0.85').waitFor();
    await page.getByRole('tab', { name: 'History' }).click();
    await page.waitForURL(/tab=history/);
    const history = page.getByRole('list', { name: 'History' });
    await history.getByText('Alias moved').waitFor();
    await history.getByText('first release').waitFor();
    await ui.shot('12-model-history');

    // editing the description (Markdown) saves it
    await page.getByRole('button', { name: 'Edit description' }).click();
    await page.getByLabel('Description (Markdown)').fill('## Edited\n\nNow with *emphasis*.');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByLabel('Model description').getByRole('heading', { name: 'Edited' }).waitFor();
    assert.equal((await call(ts.url, 'GET', '/api/v1/models/rain')).body.model.description, '## Edited\n\nNow with *emphasis*.');
    // The description's onerror attribute is refused by the Content-Security-Policy as soon as the sanitiser parses it
    // (Chromium reports it even in the inert document DOMPurify parses into); nothing else is reported.
    assert.deepEqual(
      ui.errors.filter((e) => !/^Executing inline event handler violates the following Content Security Policy directive 'script-src 'self''.* The action has been blocked\.$/.test(e)),
      [],
    );
  });

  it('shows a version that is not READY as such wherever versions are listed, never as the latest', async () => {
    const { page } = ui;
    ui.errors.length = 0;
    const h = { 'x-kiln-user': 'ana' };
    const runId = (await call(ts.url, 'GET', `/api/v1/models/rain/versions/${strong}`)).body.version.run_id as string;
    assert.equal((await call(ts.url, 'POST', '/api/v1/models', { name: 'hail' }, h)).status, 201);
    const good = await call(ts.url, 'POST', '/api/v1/models/hail/versions', { source: `runs:/${runId}/model`, run_id: runId }, h);
    const bad = await call(ts.url, 'POST', '/api/v1/models/hail/versions', { source: `runs:/${runId}/nothing-here`, run_id: runId }, h);
    assert.equal(good.status, 201);
    assert.equal(bad.status, 201);
    for (let i = 0; i < 100; i++) {
      const vs = (await call(ts.url, 'GET', '/api/v1/models/hail/versions')).body.versions;
      if (vs.every((v: any) => v.status !== 'PENDING_REGISTRATION')) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal((await call(ts.url, 'GET', '/api/v1/models/hail/versions/2')).body.version.status, 'FAILED_REGISTRATION');

    // the models list: the latest READY version is the latest; the newer failed one is marked as failed
    await page.goto('/models');
    const latest = page.getByRole('row', { name: /hail/ }).getByLabel('Latest version of hail');
    await latest.getByRole('link', { name: 'v1', exact: true }).waitFor();
    assert.equal(await latest.locator('a').first().textContent(), 'v1');
    assert.equal(await latest.locator('.badge.status-FAILED_REGISTRATION').textContent(), 'FAILED_REGISTRATION');
    await ui.shot('13-models-failed-version');

    // the model's versions: the status and why it failed
    await page.goto('/models/hail');
    const row = page.getByRole('table', { name: 'Versions' }).getByRole('row', { name: /v2/ });
    await row.getByText('FAILED_REGISTRATION').waitFor();
    await row.getByText(/no model artifacts/).waitFor();

    // the lineage page's recent versions
    await page.goto('/lineage');
    const recent = page.getByRole('region', { name: 'Recent model versions' }).getByRole('listitem').filter({ hasText: 'hail v2' });
    await recent.locator('.badge.status-FAILED_REGISTRATION').waitFor();
    assert.equal(await page.getByRole('region', { name: 'Recent model versions' }).getByRole('listitem').filter({ hasText: 'hail v1' }).locator('.badge[class*=status-]').count(), 0);
    assert.deepEqual(ui.errors, []);
  });

  it('shows a version with its ONNX details and lineage, and promotion shows the failing gate and why', async () => {
    const { page } = ui;
    ui.errors.length = 0;
    await page.goto(`/models/rain/versions/${weak}`);
    await page.getByRole('heading', { name: `rain v${weak}` }).waitFor();
    const inputs = page.getByRole('table', { name: 'ONNX inputs' });
    await inputs.getByRole('cell', { name: 'features' }).waitFor();
    await page.getByRole('table', { name: 'Signature inputs' }).waitFor();
    await page.getByText('SHA-256').waitFor();
    await page.getByRole('group', { name: 'Upstream lineage graph' }).locator('[data-node-id="datasets:/weather/2"]').waitFor();
    await ui.shot('20-version-overview');

    await page.getByRole('tab', { name: 'Reproduce' }).click();
    await page.waitForURL(/tab=reproduce/);
    await page.getByRole('table', { name: 'Reproduce datasets' }).getByRole('link', { name: 'weather@v2' }).waitFor();
    await page.getByLabel('Params').getByText('lr').waitFor();
    await page.getByText(/Gaps for a faithful reproduction|Everything needed to reproduce/).waitFor();

    await page.getByRole('tab', { name: 'Promote' }).click();
    await page.getByLabel('Alias').fill('production');
    await page.waitForURL(/alias=production/);
    await page.getByRole('button', { name: 'Check gates (dry run)' }).click();
    const dry = page.getByRole('list', { name: 'Dry run gates' });
    const failing = dry.locator('[data-passed="false"]');
    await failing.first().waitFor();
    assert.match((await failing.first().textContent()) ?? '', /FAIL.*val_accuracy.*0\.7/);
    await page.getByLabel('Dry run').getByText('REJECTED').waitFor();
    await ui.shot('21-promote-dry-run');
    await page.getByRole('button', { name: `Promote v${weak} to @production` }).click();
    const result = page.getByLabel('Promotion result');
    await result.getByText('REJECTED', { exact: true }).waitFor();
    assert.match((await result.getByRole('list', { name: 'Promotion gates' }).textContent()) ?? '', /FAIL.*val_accuracy/);
    await ui.shot('22-promote-rejected');
    const aliases = (await call(ts.url, 'GET', '/api/v1/models/rain')).body.model.aliases;
    assert.equal(aliases.production, strong, 'the alias did not move');

    await page.goto('/models/rain?tab=history');
    await page.getByRole('list', { name: 'History' }).getByText('Promotion rejected').first().waitFor();
    assert.deepEqual(ui.errors, []);
  });

  it('shows a dataset version with histograms, validation reports and a diff against another version', async () => {
    const { page } = ui;
    ui.errors.length = 0;
    await page.goto('/datasets');
    await page.getByRole('link', { name: 'weather' }).click();
    await page.getByRole('table', { name: 'Dataset versions' }).getByRole('link', { name: 'v2' }).click();
    await page.waitForURL('**/datasets/weather/versions/2');
    await page.getByRole('img', { name: 'Histogram of temp' }).waitFor();
    assert.ok((await page.getByRole('img', { name: 'Histogram of temp' }).locator('rect').count()) > 3);
    await page.getByLabel('Column city').getByText('atlantis').first().waitFor();
    await ui.shot('30-dataset-stats');

    await page.getByRole('tab', { name: 'Schema' }).click();
    await page.getByRole('table', { name: 'Schema' }).getByRole('cell', { name: 'humidity' }).waitFor();
    await page.getByRole('tab', { name: 'Validations' }).click();
    await page.waitForURL(/tab=validations/);
    const report = page.getByRole('region', { name: /Validation report/ }).first();
    await report.getByText('FAILED').waitFor();
    await report.getByText('UNSEEN_CATEGORIES').waitFor();
    await report.getByText('ERROR').first().waitFor();
    await ui.shot('31-dataset-validations');

    await page.getByRole('tab', { name: 'Compare' }).click();
    await page.getByRole('table', { name: 'Column changes' }).getByRole('cell', { name: 'temp' }).waitFor();
    await page.getByLabel('Compare with version').selectOption('1');
    await page.waitForURL(/compare=1/);
    await page.reload();
    await page.getByRole('table', { name: 'Column changes' }).getByRole('cell', { name: 'humidity' }).waitFor();
    assert.equal(await page.getByLabel('Compare with version').inputValue(), '1');
    await ui.shot('32-dataset-diff');
    assert.deepEqual(ui.errors, []);
  });

  it('draws the lineage graph; clicking a node opens its page, the picker and re-rooting work', async () => {
    const { page } = ui;
    ui.errors.length = 0;
    await page.goto('/lineage');
    await page.getByRole('region', { name: 'Recent model versions' }).getByRole('link', { name: `rain v${weak}` }).click();
    await page.waitForURL(/\/lineage\?node=models%3A%2Frain%2F\d+&direction=up/);
    const graph = page.getByRole('group', { name: /Lineage of models:\/rain/ });
    await graph.locator('[data-node-id^="runs:/"]').waitFor();
    await graph.locator('[data-node-id="datasets:/weather/2"]').waitFor();
    assert.ok((await graph.locator('.lin-edge').count()) >= 2);
    await ui.shot('40-lineage-up');

    await page.getByLabel('Direction').selectOption('both');
    await page.waitForURL(/direction=both/);
    await page.getByRole('button', { name: 'Zoom in' }).click();
    await page.getByRole('button', { name: 'Fit to view' }).click();

    // re-root from a node's menu (keyboard): downstream of the dataset version
    const ds = graph.locator('[data-node-id="datasets:/weather/2"]');
    await ds.focus();
    await page.keyboard.press('Shift+F10');
    await page.getByRole('menuitem', { name: 'Lineage downstream from here' }).click();
    await page.waitForURL(/node=datasets%3A%2Fweather%2F2&direction=down/);
    const down = page.getByRole('group', { name: /Lineage of datasets:\/weather\/2/ });
    await down.locator(`[data-node-id="models:/rain/${weak}"]`).waitFor();
    await ui.shot('41-lineage-down');

    // clicking a node opens its page
    await down.locator(`[data-node-id="models:/rain/${weak}"]`).click();
    await page.waitForURL(`**/models/rain/versions/${weak}`);
    await page.getByRole('heading', { name: `rain v${weak}` }).waitFor();
    assert.deepEqual(ui.errors, []);
  });

  it('renders in the dark theme', async () => {
    const { page } = ui;
    ui.errors.length = 0;
    await page.goto(`/lineage?node=${encodeURIComponent(`models:/rain/${strong}`)}&direction=both&depth=3`);
    await page.getByRole('button', { name: 'Toggle dark theme' }).click();
    assert.equal(await page.locator('html').getAttribute('data-theme'), 'dark');
    await page.locator('[data-node-id="datasets:/weather/1"]').waitFor();
    await ui.shot('42-lineage-dark');
    await page.goto('/datasets/weather/versions/1');
    await page.getByRole('img', { name: 'Histogram of temp' }).waitFor();
    await ui.shot('33-dataset-dark');
    await page.goto(`/models/rain/versions/${strong}`);
    await page.getByRole('table', { name: 'ONNX inputs' }).waitFor();
    await ui.shot('23-version-dark');
    await page.getByRole('button', { name: 'Toggle dark theme' }).click();
    assert.deepEqual(ui.errors, []);
  });
});
