import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { call, startTestServer, type TestServer } from '../support/server.js';
import { openUi, UI_SKIP, type UiSession } from '../support/browser.js';

/** The experiments page in real Chromium: empty state with snippets, create, rename, delete, restore, themes. */
describe('web UI: experiments', { skip: UI_SKIP }, () => {
  let ts: TestServer;
  let ui: UiSession;
  before(async () => {
    ts = await startTestServer({ store: 'sqlite' });
    ui = await openUi(ts.url);
  });
  after(async () => {
    await ui?.close();
    await ts?.stop();
  });

  it('shows how to log a first run when there are no runs, then manages experiments', async () => {
    const { page } = ui;
    await page.goto('/');
    await page.waitForURL('**/experiments');
    await page.getByRole('heading', { name: 'Experiments' }).waitFor();
    await page.getByText('No runs yet.').waitFor();
    assert.match((await page.getByLabel('Python snippet', { exact: true }).textContent()) ?? '', /mlflow\.set_tracking_uri\("http:\/\/127\.0\.0\.1:\d+"\)/);
    assert.match((await page.getByLabel('TypeScript snippet', { exact: true }).textContent()) ?? '', /new Kiln\(/);
    await ui.shot('01-experiments-empty');

    page.once('dialog', (d) => void d.accept('churn'));
    await page.getByRole('button', { name: 'New experiment' }).click();
    await page.getByRole('link', { name: 'churn' }).waitFor();
    const id = (await call(ts.url, 'GET', '/api/v1/experiments/by-name/churn')).body.experiment.experiment_id;
    const run = (await call(ts.url, 'POST', '/api/v1/runs', { experiment_id: id })).body.run;
    assert.ok(run.run_id);
    await page.reload();
    const row = page.getByRole('row', { name: /churn/ });
    await row.getByText('1 running').waitFor();

    page.once('dialog', (d) => void d.accept('churn-v2'));
    await page.getByRole('button', { name: 'Rename churn' }).click();
    await page.getByRole('link', { name: 'churn-v2' }).waitFor();
    await page.getByLabel('Search experiments').fill('v2');
    await page.waitForURL(/q=v2/);
    await page.getByRole('link', { name: 'Default' }).waitFor({ state: 'detached' });
    await ui.shot('02-experiments-search');

    page.once('dialog', (d) => void d.accept());
    await page.getByRole('button', { name: 'Delete churn-v2' }).click();
    await page.getByText('No experiments match.').waitFor();
    await page.getByLabel('Which experiments').selectOption('deleted');
    await page.getByLabel('Search experiments').fill('');
    await page.getByRole('button', { name: 'Restore churn-v2' }).click();
    await page.getByText('No experiments match.').waitFor();
    assert.equal((await call(ts.url, 'GET', `/api/v1/experiments/${id}`)).body.experiment.lifecycle_stage, 'active');

    // dark theme, remembered across reloads
    await page.getByLabel('Search experiments').fill('');
    await page.getByLabel('Which experiments').selectOption('active');
    await page.getByRole('button', { name: 'Toggle dark theme' }).click();
    await page.reload();
    assert.equal(await page.locator('html').getAttribute('data-theme'), 'dark');
    await ui.shot('03-experiments-dark');
    assert.deepEqual(ui.errors, []);
  });

  it('answers UI routes with the app and keeps API 404s as JSON', async () => {
    const html = await fetch(`${ts.url}/runs/abc`, { headers: { accept: 'text/html' } });
    assert.equal(html.status, 200);
    assert.match(await html.text(), /<div id="root">/);
    const apiMiss = await fetch(`${ts.url}/api/v1/nope`, { headers: { accept: 'text/html' } });
    assert.equal(apiMiss.status, 404);
    assert.equal(((await apiMiss.json()) as { error_code: string }).error_code, 'ENDPOINT_NOT_FOUND');
  });
});
