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

  it('opens the page named by a link printed by an MLflow client (/#/experiments/<id>/runs/<run>)', async () => {
    const { page } = ui;
    ui.errors.length = 0;
    const exp = (await call(ts.url, 'POST', '/api/v1/experiments', { name: 'printed-links' })).body.experiment.experiment_id as string;
    const mk = async (name: string) => (await call(ts.url, 'POST', '/api/v1/runs', { experiment_id: exp, run_name: name })).body.run.run_id as string;
    const a = await mk('printed-a');
    const b = await mk('printed-b');

    await page.goto(`/#/experiments/${exp}/runs/${a}`);
    await page.waitForURL(`**/runs/${a}`);
    await page.getByRole('heading', { name: 'printed-a' }).waitFor();

    await page.goto(`/#/experiments/${exp}`);
    await page.waitForURL(`**/experiments/${exp}`);
    await page.getByRole('heading', { name: /printed-links/ }).waitFor();

    await page.goto(`/#/compare-runs?runs=${encodeURIComponent(JSON.stringify([a, b]))}&experiments=${encodeURIComponent(JSON.stringify([exp]))}`);
    await page.waitForURL((u) => u.pathname === '/compare' && u.searchParams.get('runs') === `${a},${b}`);
    await page.getByRole('heading', { name: 'Compare runs' }).waitFor();
    assert.deepEqual(ui.errors, []);

    // a model version link lands on the version's page (here: a model that does not exist, said so)
    await page.goto('/#/models/no-such-model/versions/2');
    await page.waitForURL('**/models/no-such-model/versions/2');
    assert.equal(new URL(page.url()).hash, '');
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
