import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { call, startTestServer, type TestServer } from '../support/server.js';
import { openUi, UI_SKIP, type UiSession } from '../support/browser.js';

const RUNS = 300;

/** The runs table in real Chromium: paging, sort, filter (and its inline error), grouping, selection, keyboard, URL state, live status. */
describe('web UI: runs table', { skip: UI_SKIP }, () => {
  let ts: TestServer;
  let ui: UiSession;
  let exp = '';
  let running = '';
  const v1 = (method: string, path: string, body?: unknown) => call(ts.url, method, `/api/v1${path}`, body);

  before(async () => {
    ts = await startTestServer({ store: 'sqlite' });
    exp = (await v1('POST', '/experiments', { name: 'sweep' })).body.experiment.experiment_id;
    const t0 = Date.now() - RUNS * 1000;
    for (let i = 0; i < RUNS; i++) {
      const run = (await v1('POST', '/runs', { experiment_id: exp, run_name: `trial-${String(i).padStart(3, '0')}`, start_time: t0 + i * 1000 })).body.run;
      await v1('POST', `/runs/${run.run_id}/log`, {
        metrics: [
          { key: 'loss', value: ((i * 7919) % RUNS) / RUNS, step: 0 },
          { key: 'accuracy', value: i / RUNS, step: 0 },
        ],
        params: { lr: ['0.1', '0.01', '0.001'][i % 3]!, layers: String(2 + (i % 4)) },
        tags: { team: i % 2 ? 'vision' : 'nlp' },
      });
      if (i === RUNS - 1) running = run.run_id;
      else await v1('PATCH', `/runs/${run.run_id}`, { status: 'FINISHED', end_time: t0 + i * 1000 + 500 });
    }
    ui = await openUi(ts.url);
  });
  after(async () => {
    await ui?.close();
    await ts?.stop();
  });

  const names = async () => (await ui.page.locator('.run-row .attr-name').allTextContents()).filter(Boolean);
  const column = async (field: string) => {
    const headers = await ui.page.locator('.runs-header [role=columnheader]').evaluateAll((hs) => hs.map((h) => (h as unknown as { title: string }).title));
    const idx = headers.indexOf(field);
    assert.ok(idx >= 0, `no column ${field} in ${headers.join(',')}`);
    return ui.page.locator('.run-row:not(.group-row)').evaluateAll((rows, i) => rows.map((r) => (r as unknown as { children: { textContent: string }[] }).children[i]?.textContent ?? ''), idx);
  };

  /** Polls the column until `ok` holds for its values (rows arrive asynchronously). */
  const waitColumn = async (field: string, ok: (vs: string[]) => boolean) => {
    for (let i = 0; i < 100; i++) {
      const vs = await column(field);
      if (vs.length > 0 && ok(vs)) return vs;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.fail(`column ${field} never matched: ${(await column(field)).join(',')}`);
  };

  it('shows the first rows with the experiment in the heading, newest first, RUNNING live', async () => {
    const { page } = ui;
    await page.goto(`/experiments/${exp}`);
    await page.getByRole('heading', { name: /sweep/ }).waitFor();
    await page.locator('.run-row .attr-name').first().waitFor();
    assert.equal((await names())[0], `trial-${RUNS - 1}`);
    await page.getByText(`${RUNS} runs`, { exact: true }).waitFor();
    const first = page.locator('.run-row').first();
    assert.equal(await first.locator('.badge').textContent(), 'RUNNING');
    await ui.shot('runs-01-table');

    // live status: the RUNNING row on screen turns FINISHED without a reload
    await v1('PATCH', `/runs/${running}`, { status: 'FINISHED', end_time: Date.now() });
    await page.locator(`.run-row[data-run-id="${running}"] .badge`, { hasText: 'FINISHED' }).waitFor({ timeout: 10_000 });
  });

  it('sorts by a metric on the server, both ways, missing values last', async () => {
    const { page } = ui;
    await page.getByRole('button', { name: 'Sort by metrics.loss' }).click();
    await page.waitForURL(/sort=metrics\.loss&dir=desc/);
    const desc = (await waitColumn('metrics.loss', (vs) => vs[0] === '0.996667')).map(Number);
    assert.ok(desc.length > 10);
    assert.deepEqual(desc, [...desc].sort((a, b) => b - a));
    await page.getByRole('button', { name: 'Sort by metrics.loss' }).click();
    await page.waitForURL(/dir=asc/);
    const asc = (await waitColumn('metrics.loss', (vs) => vs[0] === '0')).map(Number);
    assert.deepEqual(asc, [...asc].sort((a, b) => a - b));
    await ui.shot('runs-02-sorted');
  });

  it('filters with suggestions, and marks a malformed filter at its position', async () => {
    const { page } = ui;
    const box = page.getByLabel('Filter runs');
    await box.click();
    await box.fill('');
    await box.pressSequentially('par');
    const options = page.getByRole('listbox', { name: 'Suggestions' }).getByRole('option');
    await options.filter({ hasText: 'params.' }).waitFor();
    await page.keyboard.press('Tab');
    assert.equal(await box.inputValue(), 'params.');
    await box.pressSequentially('la');
    await options.filter({ hasText: 'params.layers' }).waitFor();
    await ui.shot('runs-03-suggestions');
    await page.keyboard.press('Tab');
    await box.pressSequentially("= '3' AND metrics.accuracy >= 0.5");
    await page.keyboard.press('Escape');
    await box.press('Enter');
    await page.waitForURL(/filter=params\.layers/);
    await page.getByText('37 runs', { exact: true }).waitFor();
    assert.deepEqual(new Set(await waitColumn('params.layers', (vs) => vs.every((v) => v === '3'))), new Set(['3']));

    await box.fill('metrics.loss > AND');
    await box.press('Enter');
    const alert = page.getByRole('alert');
    await alert.waitFor();
    assert.match((await alert.textContent()) ?? '', /position 15/);
    assert.match((await page.locator('.filter-error pre').textContent()) ?? '', /\n {15}\^$/);
    await ui.shot('runs-04-filter-error');

    await box.fill('tags.team = "nobody"');
    await box.press('Enter');
    await page.getByText('No runs match').waitFor();
    await box.fill('');
    await box.press('Enter');
    await page.getByText(`${RUNS} runs`, { exact: true }).waitFor();
  });

  it('groups by a param, with counts, collapsible', async () => {
    const { page } = ui;
    await page.getByLabel('Group by').selectOption('params.lr');
    await page.waitForURL(/group=params\.lr/);
    const headers = page.locator('.group-row');
    await headers.first().waitFor();
    assert.match((await headers.first().textContent()) ?? '', /params\.lr =\s*0\.0?0?1\s*100 runs/);
    // groups start open: collapsing the first two brings the third header into view
    await page.getByRole('button', { name: /Collapse group/ }).first().click();
    await page.getByRole('button', { name: /Expand group/ }).first().waitFor();
    await page.getByRole('button', { name: /Collapse group/ }).first().click();
    await page.getByRole('button', { name: /Expand group/ }).nth(1).waitFor();
    assert.equal(await headers.count(), 3);
    assert.deepEqual((await headers.allTextContents()).map((t) => /(\d+) runs/.exec(t)?.[1]), ['100', '100', '100']);
    await ui.shot('runs-05-grouped');
    await page.getByLabel('Group by').selectOption('');
    await page.waitForURL((u) => !u.search.includes('group='));
  });

  it('selects runs by click and keyboard, and links both to compare', async () => {
    const { page } = ui;
    await page.goto(`/experiments/${exp}`);
    await page.locator('.run-row .attr-name').first().waitFor();
    await page.locator('.run-row input[type=checkbox]').first().click();
    await page.locator('.run-row.selected').first().waitFor();
    const grid = page.getByRole('grid', { name: 'Runs' });
    await grid.focus();
    await page.keyboard.press('Home');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Space');
    const compare = page.getByRole('link', { name: 'Compare (2)' });
    await compare.waitFor();
    const selected = await page.locator('.run-row.selected').evaluateAll((rs) => rs.map((r) => (r as unknown as { dataset: { runId: string } }).dataset.runId));
    assert.equal(selected.length, 2);
    const href = (await compare.getAttribute('href')) ?? '';
    const ids = new URL(href, ts.url).searchParams.get('runs')!.split(',');
    assert.deepEqual(new Set(ids), new Set(selected));
    await ui.shot('runs-06-selected');

    // End goes to the last run (paged in on demand), Enter opens the focused run
    await page.keyboard.press('End');
    await page.locator('.run-row.focused .attr-name', { hasText: 'trial-000' }).waitFor();
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/runs\/[0-9a-f]+$/);
    await page.goBack();
  });

  it('keeps filter, sort and columns across a reload, in dark theme too', async () => {
    const { page } = ui;
    await page.goto(`/experiments/${exp}?filter=${encodeURIComponent("tags.team = 'vision'")}&sort=metrics.accuracy&dir=asc&col=metrics.accuracy&col=tags.team`);
    await page.getByText(`${RUNS / 2} runs`, { exact: true }).waitFor();
    await page.reload();
    await page.getByText(`${RUNS / 2} runs`, { exact: true }).waitFor();
    assert.equal(await page.getByLabel('Filter runs').inputValue(), "tags.team = 'vision'");
    const titles = await page.locator('.runs-header [role=columnheader]').evaluateAll((hs) => hs.map((h) => (h as unknown as { title: string }).title).filter(Boolean));
    assert.deepEqual(titles, ['metrics.accuracy', 'tags.team']);
    await page.locator('.run-row').first().waitFor();
    const acc = (await waitColumn('metrics.accuracy', () => true)).map(Number);
    assert.deepEqual(acc, [...acc].sort((a, b) => a - b));
    assert.deepEqual(new Set(await column('tags.team')), new Set(['vision']));
    await page.getByRole('button', { name: 'Toggle dark theme' }).click();
    await ui.shot('runs-07-dark');
    await page.getByRole('button', { name: 'Toggle dark theme' }).click();
    // A malformed filter is checked before searching, so it leaves no failed request in the console either.
    assert.deepEqual(ui.errors, []);
  });

  it('nests child runs under their parent (collapsed, with a count), sorted within siblings; shows all metrics when few', async () => {
    const { page } = ui;
    ui.errors.length = 0;
    const nested = (await v1('POST', '/experiments', { name: 'nested' })).body.experiment.experiment_id as string;
    const t0 = Date.now() - 100_000;
    const metrics = (loss: number) => ['a_loss', 'b_acc', 'c_f1', 'd_auc', 'e_val_loss'].map((key, i) => ({ key, value: i === 0 ? loss : 0.5 + i / 10, step: 0 }));
    const mk = async (name: string, start: number, loss: number, tags: Record<string, string> = {}) => {
      const id = (await v1('POST', '/runs', { experiment_id: nested, run_name: name, start_time: t0 + start, tags })).body.run.run_id as string;
      await v1('POST', `/runs/${id}/log`, { metrics: metrics(loss) });
      return id;
    };
    const parent = await mk('parent', 0, 0.5);
    for (const [i, loss] of [0.3, 0.1, 0.2].entries()) await mk(`child-${i}`, 1000 * (i + 1), loss, { 'mlflow.parentRunId': parent });
    await mk('solo', 10_000, 0.4);

    const rows = async () =>
      page.locator('.run-row .attr-name').evaluateAll((cells) =>
        cells.map((c) => {
          const e = c as unknown as { dataset: { depth: string }; querySelector: (s: string) => { textContent: string } | null };
          return `${e.dataset.depth === '0' ? '' : '  '}${e.querySelector('a')?.textContent ?? ''}`;
        }),
      );
    const waitRows = async (want: string[]) => {
      for (let i = 0; i < 100 && JSON.stringify(await rows()) !== JSON.stringify(want); i++) await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(await rows(), want);
    };

    await page.goto(`/experiments/${nested}`);
    await page.getByText('5 runs', { exact: true }).waitFor();
    // newest first; the children hide under their parent
    await waitRows(['solo', 'parent']);
    const twisty = page.getByRole('button', { name: 'Show 3 nested runs of parent' });
    await twisty.click();
    await waitRows(['solo', 'parent', '  child-2', '  child-1', '  child-0']);
    await ui.shot('runs-08-nested');

    // sorting orders siblings among themselves
    await page.getByRole('button', { name: 'Sort by metrics.a_loss' }).click();
    await page.getByRole('button', { name: 'Sort by metrics.a_loss' }).click();
    await page.waitForURL(/sort=metrics\.a_loss&dir=asc/);
    await waitRows(['solo', 'parent', '  child-1', '  child-2', '  child-0']);

    // the keyboard: ArrowLeft on the parent hides its children, ArrowRight shows them
    await page.locator('.run-row', { hasText: 'parent' }).click({ position: { x: 600, y: 10 } });
    await page.getByRole('grid', { name: 'Runs' }).focus();
    await page.keyboard.press('ArrowLeft');
    await waitRows(['solo', 'parent']);
    await page.keyboard.press('ArrowRight');
    await waitRows(['solo', 'parent', '  child-1', '  child-2', '  child-0']);

    // five metrics: all of them are default columns, each header says its full name
    const titles = await page.locator('.runs-header [role=columnheader]').evaluateAll((hs) => hs.map((h) => (h as unknown as { title: string }).title).filter(Boolean));
    assert.deepEqual(titles, ['metrics.a_loss', 'metrics.b_acc', 'metrics.c_f1', 'metrics.d_auc', 'metrics.e_val_loss']);
    assert.deepEqual(ui.errors, []);
  });

  it('resizes a column by dragging its header edge or by keyboard, and keeps the width for the experiment', async () => {
    const { page } = ui;
    ui.errors.length = 0;
    await page.goto(`/experiments/${exp}?col=metrics.loss&col=params.lr`);
    await page.locator('.run-row .attr-name').first().waitFor();
    const header = page.locator('.runs-header [role=columnheader][title="metrics.loss"]');
    const cellWidth = () => page.locator('.run-row').first().evaluate((r) => (r as unknown as { children: { getBoundingClientRect(): { width: number } }[] }).children[6]!.getBoundingClientRect().width);
    const before = (await header.boundingBox())!;
    assert.equal(Math.round(before.width), 120);
    const handle = page.getByRole('separator', { name: 'Resize column metrics.loss' });
    const hb = (await handle.boundingBox())!;
    await page.mouse.move(hb.x + hb.width / 2, hb.y + hb.height / 2);
    await page.mouse.down();
    await page.mouse.move(hb.x + hb.width / 2 + 60, hb.y + hb.height / 2, { steps: 4 });
    await page.mouse.move(hb.x + hb.width / 2 + 100, hb.y + hb.height / 2, { steps: 4 });
    await page.mouse.up();
    assert.equal(Math.round((await header.boundingBox())!.width), 220);
    assert.equal(Math.round(await cellWidth()), 220, 'the rows follow the header');
    assert.equal(await page.getByRole('button', { name: 'Sort by metrics.loss' }).getAttribute('title'), 'metrics.loss');
    await handle.focus();
    await page.keyboard.press('ArrowLeft');
    assert.equal(Math.round((await header.boundingBox())!.width), 204);
    await ui.shot('runs-09-resized');
    await page.reload();
    await page.locator('.run-row .attr-name').first().waitFor();
    assert.equal(Math.round((await header.boundingBox())!.width), 204, 'kept across a reload');
    await handle.dblclick();
    assert.equal(Math.round((await header.boundingBox())!.width), 120, 'double-click resets it');
    assert.deepEqual(ui.errors, []);
  });
});
