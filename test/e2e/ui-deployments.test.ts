import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { call, startTestServer, type TestServer } from '../support/server.js';
import { openUi, UI_SKIP, unexpectedErrors, watchCsp, type UiSession } from '../support/browser.js';
import { Kiln } from '@kiln-mlops/sdk';
import { linearModel } from '../../src/registry/packaging/test-models.js';

const ana = { 'x-kiln-user': 'ana' };
const INFER = { inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: [1, 2, 3, 4] }] };

/** Polls `check` until it holds (the pages refresh on timers: live figures every 2 s, payloads every 3 s). */
async function until(what: string, check: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`never true: ${what}`);
}

/** Deploying a model version from its page, then the deployment's page (traffic, live figures, payloads, history, rollback) and the list, in real Chromium. */
describe('web UI: deployments', { skip: UI_SKIP }, () => {
  let ts: TestServer;
  let ui: UiSession;
  let csp: string[];
  let version = 0;

  before(async () => {
    ts = await startTestServer({ store: 'sqlite', capabilities: { serving: { payloadFlushMs: 50 } } });
    const k = new Kiln({ trackingUri: ts.url, user: 'ana' });
    const runId = await k.withRun({ experiment: 'rain' }, async (run) => {
      version = (await run.logOnnxModel('model', linearModel({ inputs: 4 }), { registeredModelName: 'Rain' })).version!.version;
      return run.id;
    });
    // A second version that fails registration: it cannot be deployed.
    assert.equal((await call(ts.url, 'POST', '/api/v1/models/Rain/versions', { source: `runs:/${runId}/nothing-here`, run_id: runId }, ana)).status, 201);
    for (let i = 0; i < 100; i++) {
      const vs = (await call(ts.url, 'GET', '/api/v1/models/Rain/versions')).body.versions;
      if (vs.every((v: { status: string }) => v.status !== 'PENDING_REGISTRATION')) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const v = (await call(ts.url, 'GET', `/api/v1/models/Rain/versions/${version}`)).body.version;
    assert.equal(v.status, 'READY');
    assert.equal(v.servable, true, JSON.stringify(v.package));
    assert.equal((await call(ts.url, 'PUT', '/api/v1/models/Rain/aliases/production', { version }, ana)).status, 200);
    ui = await openUi(ts.url);
    csp = await watchCsp(ui);
  });
  after(async () => {
    await ui?.close();
    await ts?.stop();
  });

  it('shows the empty list with how to create one, and a version that cannot be served with a disabled Deploy', async () => {
    const { page } = ui;
    ui.errors.length = 0;
    await page.goto('/experiments');
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Deployments', exact: true }).click();
    await page.waitForURL('**/deployments*');
    await page.getByRole('heading', { name: /^Deployments/ }).waitFor();
    await page.getByText(/No deployments/).waitFor();
    await page.getByText('kiln deployments create NAME --model models:/NAME@production').waitFor();

    await page.goto(`/models/Rain/versions/${version + 1}`);
    await page.getByRole('heading', { name: `Rain v${version + 1}` }).waitFor();
    const deploy = page.getByRole('button', { name: 'Deploy', exact: true });
    assert.equal(await deploy.isDisabled(), true);
    assert.match((await deploy.getAttribute('title')) ?? '', /Only READY versions can be deployed/);
    assert.deepEqual(unexpectedErrors(ui.errors), []);
  });

  it('deploys a version from its page, following an alias, and lands on the deployment page', async () => {
    const { page } = ui;
    ui.errors.length = 0;
    await page.goto(`/models/Rain/versions/${version}`);
    await page.getByRole('heading', { name: `Rain v${version}` }).waitFor();
    await page.getByRole('button', { name: 'Deploy', exact: true }).click();
    const form = page.getByRole('form', { name: 'Deploy this version' });
    // The default name is the model's, lowercased.
    assert.equal(await form.getByLabel('Deployment name').inputValue(), 'rain');
    await form.getByRole('option', { name: /@production/ }).waitFor({ state: 'attached' });
    await form.getByLabel('Follow').selectOption('models:/Rain@production');
    await ui.shot('70-deploy-form');
    await form.getByRole('button', { name: 'Create deployment' }).click();
    await page.waitForURL('**/deployments/rain');
    await page.getByRole('heading', { name: 'rain', exact: true, level: 1 }).waitFor();

    const endpoints = page.getByLabel('Endpoints');
    await endpoints.getByText(`${ts.url}/v2/models/rain/infer`).waitFor();
    await endpoints.getByText(`${ts.url}/deployments/rain/invocations`).waitFor();
    const traffic = page.getByRole('table', { name: 'Traffic' });
    const stable = traffic.getByRole('row', { name: new RegExp(`Rain/${version} stable 100%`) });
    await stable.waitFor();
    await stable.getByText('models:/Rain@production').waitFor();
    await page.getByRole('region', { name: 'Configuration' }).getByText('100% of requests').waitFor();
    const d = (await call(ts.url, 'GET', '/api/v1/deployments/rain')).body.deployment;
    assert.equal(d.config.targets[0].model, 'models:/Rain@production');
    assert.equal(d.revision, 1);
    assert.deepEqual(unexpectedErrors(ui.errors), []);
  });

  it('shows live figures and the payloads of requests as they come', async () => {
    const { page } = ui;
    ui.errors.length = 0;
    await page.goto('/deployments/rain');
    for (let i = 0; i < 5; i++) {
      const r = await call(ts.url, 'POST', '/v2/models/rain/infer', INFER);
      assert.equal(r.status, 200, r.text);
      assert.equal(r.body.outputs[0].shape[0], 1);
    }
    // The live figures count the requests (asked every 2 s), and the version is loaded now.
    const requests = page.getByRole('table', { name: 'Live figures' }).getByRole('cell', { name: `Requests to Rain/${version}` });
    await until('the live figures show 5 requests', async () => (await requests.count()) === 1 && (await requests.textContent()) === '5');
    await page.locator('.page-head .badge', { hasText: 'ready' }).first().waitFor();

    // The payload log (written within ~200 ms, asked every 3 s): five rows, each with its inputs.
    const payloads = page.getByRole('table', { name: 'Payloads' });
    const shows = payloads.getByRole('button', { name: /^Show payload / });
    await until('five payload rows', async () => (await shows.count()) === 5);
    const first = (await call(ts.url, 'GET', '/api/v1/deployments/rain/payloads?max_results=1')).body.payloads[0];
    await payloads.getByRole('button', { name: `Show payload ${first.request_id}` }).click();
    const inputs = page.getByLabel(`Inputs of ${first.request_id}`);
    await inputs.waitFor();
    assert.match((await inputs.textContent()) ?? '', /"FP32"/);
    await page.getByLabel(`Outputs of ${first.request_id}`).waitFor();
    await ui.shot('71-deployment');

    // Searching by request id finds just that one.
    await page.getByRole('searchbox', { name: 'Request id' }).fill(first.request_id);
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await page.waitForURL(/request_id=/);
    await until('one payload row', async () => (await shows.count()) + (await payloads.getByRole('button', { name: /^Hide payload / }).count()) === 1);

    // The exports are links to the API.
    for (const [name, format] of [
      ['Download JSONL', 'jsonl'],
      ['Download Parquet', 'parquet'],
    ] as const) {
      const href = await page.getByRole('link', { name }).getAttribute('href');
      assert.equal(href, `/api/v1/deployments/rain/payloads?format=${format}`);
      assert.equal((await call(ts.url, 'GET', href!)).status, 200);
    }
    const jsonl = await call(ts.url, 'GET', '/api/v1/deployments/rain/payloads?format=jsonl');
    assert.equal(jsonl.text.trim().split('\n').length, 5);
    assert.deepEqual(unexpectedErrors(ui.errors), []);
  });

  it('follows a change made elsewhere, rolls back from the history and edits the weights', async () => {
    const { page } = ui;
    ui.errors.length = 0;
    await page.goto('/deployments/rain');
    const history = page.getByRole('table', { name: 'History' });
    await history.getByRole('row', { name: /Created/ }).waitFor();
    const revisions = () => history.locator('tbody tr').count();
    assert.equal(await revisions(), 1);

    const changed = await call(ts.url, 'PATCH', '/api/v1/deployments/rain', { payload_log: { sample_rate: 0.5 }, reason: 'log half' }, ana);
    assert.equal(changed.status, 200, changed.text);
    assert.equal(changed.body.deployment.revision, 2);
    // The page asks for the deployment again every 2 s: the new revision shows, with its configuration.
    await until('two revisions', async () => (await revisions()) === 2);
    await history.getByRole('row', { name: /log half/ }).waitFor();
    await page.getByRole('region', { name: 'Configuration' }).getByText('50% of requests').waitFor();

    page.once('dialog', (d) => void d.accept());
    await history.getByRole('button', { name: 'Roll back to revision 1' }).click();
    await until('three revisions', async () => (await revisions()) === 3);
    await history.locator('tbody tr').first().getByText('Rolled back').waitFor();
    await page.getByRole('region', { name: 'Configuration' }).getByText('100% of requests').waitFor();
    let d = (await call(ts.url, 'GET', '/api/v1/deployments/rain')).body.deployment;
    assert.equal(d.revision, 3);
    assert.equal(d.config.payload_log.sample_rate, 1);
    await ui.shot('72-deployment-history');

    // The weights form: a new revision with the weight given.
    await page.getByRole('button', { name: 'Edit weights' }).click();
    const weights = page.getByRole('form', { name: 'Edit weights' });
    await weights.getByLabel(`Weight of Rain/${version}`).fill('3');
    await weights.getByLabel('Reason for the change').fill('heavier');
    await weights.getByRole('button', { name: 'Save weights' }).click();
    await until('four revisions', async () => (await revisions()) === 4);
    await history.getByRole('row', { name: /heavier/ }).waitFor();
    d = (await call(ts.url, 'GET', '/api/v1/deployments/rain')).body.deployment;
    assert.equal(d.revision, 4);
    assert.equal(d.config.targets[0].weight, 3);
    assert.equal(d.config.targets[0].model, 'models:/Rain@production');
    assert.deepEqual(unexpectedErrors(ui.errors), []);
  });

  it('lists the deployment, and deletes it from its page', async () => {
    const { page } = ui;
    ui.errors.length = 0;
    await page.goto('/deployments');
    const row = page.getByRole('table', { name: 'Deployments' }).getByRole('row', { name: /rain/ });
    await row.getByRole('link', { name: 'rain', exact: true }).waitFor();
    await row.getByText(`Rain/${version} 100%`).waitFor();
    // Loaded at the first request (a new revision of the same version may load it afresh: idle until asked again).
    assert.match((await row.locator('.badge').textContent()) ?? '', /^(ready|loading|idle)$/);
    await row.getByRole('cell', { name: '4', exact: true }).waitFor();
    await ui.shot('73-deployments-list');
    assert.deepEqual(unexpectedErrors(ui.errors), []);

    await row.getByRole('link', { name: 'rain', exact: true }).click();
    await page.waitForURL('**/deployments/rain');
    page.once('dialog', (d) => void d.accept());
    await page.getByRole('button', { name: 'Delete deployment' }).click();
    await page.waitForURL(/\/deployments$/);
    await page.getByText(/No deployments/).waitFor();
    assert.equal((await call(ts.url, 'GET', '/api/v1/deployments/rain')).status, 404);
    // A refresh of the page's figures may have been answered 404 just as the deployment went.
    assert.deepEqual(
      unexpectedErrors(ui.errors).filter((e) => !/status of 404/.test(e)),
      [],
    );
    assert.deepEqual(csp, []);
  });
});
