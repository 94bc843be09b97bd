import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../support/backends.js';
import { call, startTestServer, type TestServer } from '../support/server.js';
import { chartColours, openUi, UI_SKIP, type UiSession } from '../support/browser.js';
import { Kiln } from '@kiln-mlops/sdk';
import { linearModel } from '../../src/registry/packaging/test-models.js';

/**
 * A data scientist's afternoon in the UI, one screenshot per step (test-output/ui/journey-*.png): experiments →
 * runs table → a malformed filter and its error → a filter → compare two runs → a run page with a drawn chart →
 * an artifact preview → the model version → a promotion that fails its gate → the lineage graph.
 */
describe('web UI: the whole journey', { skip: UI_SKIP }, () => {
  let ts: TestServer;
  let ui: UiSession;
  const runs: { id: string; name: string; acc: number }[] = [];
  let weakVersion = '';
  before(async () => {
    ts = await startTestServer({ store: 'sqlite' });
    const kiln = new Kiln({ trackingUri: ts.url, user: 'ana' });
    const dir = tempDir('kiln-ui-journey-');
    const csv = ['temp,humidity,rain', ...Array.from({ length: 200 }, (_, i) => `${(5 + (i % 20)).toFixed(1)},${(0.3 + (i % 7) / 10).toFixed(2)},${i % 3 === 0}`)].join('\n') + '\n';
    writeFileSync(join(dir, 'weather.csv'), csv);
    await kiln.client.data.add(join(dir, 'weather.csv'), { name: 'weather' });
    for (const [i, lr] of [0.1, 0.03, 0.01, 0.003].entries()) {
      const acc = [0.72, 0.81, 0.9, 0.86][i]!;
      const name = `lr-${lr}`;
      await kiln.withRun({ experiment: 'rain-forecast', runName: name, params: { lr, layers: 3 } }, async (run) => {
        await run.logDatasetInput('weather@v1', 'training');
        for (let step = 0; step < 60; step++) run.logMetric('loss', (1 / (step + 1)) * (1 + i / 4) + (step % 9 === 0 ? 0.05 : 0), step);
        run.logMetric('val_accuracy', acc, 60);
        await run.logText(`trained with lr=${lr}\n`, 'notes.txt');
        await run.flush();
        if (lr === 0.1 || lr === 0.01) {
          const { version } = await run.logOnnxModel('model', linearModel({ inputs: 2 }), { registeredModelName: 'rain' });
          if (lr === 0.1) weakVersion = String(version!.version);
        }
        runs.push({ id: run.id, name, acc });
      });
    }
    await kiln.client.registry.setPolicy('rain', 'production', { rules: ['metrics.val_accuracy >= 0.85'] });
    ui = await openUi(ts.url);
  });
  after(async () => {
    await ui?.close();
    await ts?.stop();
  });

  it('goes from experiments to a failed promotion and the lineage behind it', async () => {
    const { page } = ui;
    // 1. experiments
    await page.goto('/');
    await page.getByRole('link', { name: 'rain-forecast' }).waitFor();
    await ui.shot('journey-01-experiments');

    // 2. runs table
    await page.getByRole('link', { name: 'rain-forecast' }).click();
    await page.getByRole('heading', { name: /rain-forecast/ }).waitFor();
    await page.getByText('4 runs', { exact: true }).waitFor();
    await ui.shot('journey-02-runs-table');

    // 3. a malformed filter shows its error at the position, then a good one filters
    const box = page.getByLabel('Filter runs');
    await box.fill('metrics.val_accuracy >');
    await box.press('Enter');
    const alert = page.getByRole('alert');
    await alert.waitFor();
    assert.match((await alert.textContent()) ?? '', /position/);
    await ui.shot('journey-03-filter-error');
    await box.fill('metrics.val_accuracy >= 0.8');
    await box.press('Enter');
    await page.getByText('3 runs', { exact: true }).waitFor();
    await ui.shot('journey-04-filtered');

    // 4. select two runs and compare them
    const rowOf = (name: string) => page.locator('.run-row', { hasText: name });
    await rowOf('lr-0.01').locator('input[type=checkbox]').click();
    await rowOf('lr-0.03').locator('input[type=checkbox]').click();
    await page.getByRole('link', { name: 'Compare (2)' }).click();
    await page.getByRole('heading', { name: 'Compare runs' }).waitFor();
    await page.locator('[data-metric="loss"] .uplot-wrap[data-drawn="true"]').waitFor();
    assert.ok((await chartColours(page, 'loss')) > 3, 'the compare chart is drawn');
    const diff = page.getByRole('table', { name: 'Diff table' });
    const lrRow = diff.locator('tr', { has: page.getByRole('cell', { name: 'lr', exact: true }) });
    assert.equal(await lrRow.first().getAttribute('data-differs'), 'true');
    const layersRow = diff.locator('tr', { has: page.getByRole('cell', { name: 'layers', exact: true }) });
    assert.equal(await layersRow.first().getAttribute('data-differs'), 'false');
    await ui.shot('journey-05-compare');

    // 5. a run page with a drawn chart
    const best = runs.find((r) => r.name === 'lr-0.01')!;
    await page.goto(`/runs/${best.id}`);
    await page.getByRole('heading', { name: 'lr-0.01' }).waitFor();
    await page.locator('[data-metric="loss"] .uplot-wrap[data-drawn="true"]').waitFor();
    assert.ok((await chartColours(page, 'loss')) > 3, 'the run chart is not blank');
    await ui.shot('journey-06-run-chart');

    // 6. an artifact preview
    await page.getByRole('tab', { name: /Artifacts/ }).click();
    const tree = page.getByRole('tree', { name: 'Artifacts' });
    await tree.getByRole('button', { name: /notes\.txt/ }).click();
    await page.getByText('trained with lr=0.01').waitFor();
    await ui.shot('journey-07-artifact-preview');

    // 7. the weaker model version, and a promotion that fails its gate
    await page.goto(`/models/rain/versions/${weakVersion}`);
    await page.getByRole('heading', { name: `rain v${weakVersion}` }).waitFor();
    await page.getByRole('table', { name: 'ONNX inputs' }).waitFor();
    await ui.shot('journey-08-model-version');
    await page.getByRole('tab', { name: 'Promote' }).click();
    await page.getByLabel('Alias').fill('production');
    await page.getByRole('button', { name: 'Check gates (dry run)' }).click();
    await page.getByRole('list', { name: 'Dry run gates' }).locator('[data-passed="false"]').first().waitFor();
    await page.getByRole('button', { name: `Promote v${weakVersion} to @production` }).click();
    const result = page.getByLabel('Promotion result');
    await result.getByText('REJECTED', { exact: true }).waitFor();
    assert.match((await result.getByRole('list', { name: 'Promotion gates' }).textContent()) ?? '', /FAIL.*val_accuracy.*0\.72 >= 0\.85/);
    await ui.shot('journey-09-promotion-rejected');
    assert.equal((await call(ts.url, 'GET', '/api/v1/models/rain')).body.model.aliases.production, undefined);

    // 8. the lineage graph behind it
    await page.goto(`/lineage?node=${encodeURIComponent(`models:/rain/${weakVersion}`)}&direction=up&depth=3`);
    const graph = page.getByRole('group', { name: /Lineage of models:\/rain/ });
    await graph.locator('[data-node-id="datasets:/weather/1"]').waitFor();
    await graph.locator('[data-node-id^="runs:/"]').waitFor();
    await ui.shot('journey-10-lineage');
    await graph.locator('[data-node-id="datasets:/weather/1"]').click();
    await page.waitForURL('**/datasets/weather/versions/1');

    // no console errors, not even for the malformed filter (it is checked, not searched)
    assert.deepEqual(ui.errors, []);
  });
});
