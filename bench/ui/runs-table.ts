// The runs table in real Chromium over 100,000 runs in one experiment: first rows, sort by a metric, scrolling.
// `npm run bench:ui` (KILN_BENCH_UI_RUNS, KILN_BENCH_UI_REPS to change the size and repetitions). Prints JSON.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { freshStore, tempDir } from '../../test/support/backends.js';
import { CHROMIUM } from '../../test/support/browser.js';
import { migrateToLatest, openStore } from '../../src/platform/db/index.js';
import { MIGRATIONS } from '../../src/migrations.js';
import { seedSearchCorpus } from '../tracking/seed.js';
import { machine, median, p95, round, startServer, timed } from '../support.js';

const RUNS = Number(process.env.KILN_BENCH_UI_RUNS ?? 100_000);
const REPS = Number(process.env.KILN_BENCH_UI_REPS ?? 3);
const SCROLL_ROWS = 10_000;
const ROW_HEIGHT = 32;

/** Runs in the page (a string: this file is compiled without DOM types): scroll by 2,000 px per animation frame, answer the frame times. */
const SCROLL_SCRIPT = `new Promise((resolve) => {
  const el = document.querySelector('.runs-scroll');
  const target = ROWS * ROW_HEIGHT;
  const stamps = [];
  const step = (t) => {
    stamps.push(t);
    if (el.scrollTop >= target - 1 || stamps.length > 5000) {
      let extra = 0;
      const tail = (t2) => {
        stamps.push(t2);
        if (++extra < 10) requestAnimationFrame(tail);
        else resolve(stamps.slice(1).map((s, i) => s - stamps[i]));
      };
      requestAnimationFrame(tail);
      return;
    }
    el.scrollTop = Math.min(target, el.scrollTop + 2000);
    requestAnimationFrame(step);
  };
  requestAnimationFrame(step);
})`;

async function main() {
  const store = await freshStore('sqlite');
  const dir = tempDir('kiln-bench-ui-');
  const meta = await openStore(store.uri);
  await migrateToLatest(meta, MIGRATIONS);
  const [seedMs, { experimentId }] = await timed(() => seedSearchCorpus(meta, RUNS));
  await meta.close();
  const { child, url } = await startServer(store.uri, pathToFileURL(join(dir, 'artifacts')).href);
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
  const results: { first_rows_ms: number; sort_ms: number; frames: number; p95_frame_ms: number; max_frame_ms: number; keys_ms: number }[] = [];
  try {
    // The keys endpoint on its own (the column picker's query), server side only.
    const keysMs: number[] = [];
    for (let i = 0; i < 5; i++) keysMs.push((await timed(() => fetch(`${url}/api/v1/experiments/${experimentId}/keys`).then((r) => r.json())))[0]);

    for (let rep = 0; rep < REPS; rep++) {
      const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
      // Warm the HTTP cache for the app's files (as any returning user has), then measure a navigation.
      if (rep === 0) await page.goto(`${url}/experiments`);
      const t0 = Date.now();
      await page.goto(`${url}/experiments/${experimentId}`, { waitUntil: 'commit' });
      await page.locator('.run-row .attr-name').first().waitFor({ timeout: 30_000 });
      const firstRows = Date.now() - t0;

      // Sort by a metric: click the header, wait until the first row shows the largest m0.
      const top = (await (await fetch(`${url}/api/v1/runs/search`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ experiment_ids: [experimentId], order_by: ['metrics.m0 DESC'], max_results: 1 }) })).json()) as { runs: { run_name: string }[] };
      const want = top.runs[0]!.run_name;
      const t1 = Date.now();
      await page.getByRole('button', { name: 'Sort by metrics.m0' }).click();
      await page.locator('.run-row').first().locator('.attr-name', { hasText: want }).waitFor({ timeout: 30_000 });
      const sortMs = Date.now() - t1;

      // Scroll 10,000 rows: 320,000 px at 2,000 px per animation frame, timing every frame in the page.
      const frames = (await page.evaluate(SCROLL_SCRIPT.replace('ROWS', String(SCROLL_ROWS)).replace('ROW_HEIGHT', String(ROW_HEIGHT)))) as number[];
      // The rows at the bottom arrive (pages fetched on demand).
      await page.locator('.run-row .attr-name').first().waitFor();
      if (errors.length) throw new Error(`console errors: ${errors.join('; ')}`);
      results.push({ first_rows_ms: firstRows, sort_ms: sortMs, frames: frames.length, p95_frame_ms: p95(frames), max_frame_ms: Math.max(...frames), keys_ms: median(keysMs) });
      await context.close();
    }
  } finally {
    await browser.close();
    child.kill();
    await store.drop();
    rmSync(dir, { recursive: true, force: true });
  }
  const med = (k: keyof (typeof results)[number]) => round(median(results.map((r) => r[k])), 1);
  console.log(
    JSON.stringify(
      {
        machine: machine(),
        runs: RUNS,
        seed_seconds: round(seedMs / 1000, 1),
        repetitions: REPS,
        first_rows_ms: med('first_rows_ms'),
        sort_ms: med('sort_ms'),
        scroll: { rows: SCROLL_ROWS, frames: med('frames'), p95_frame_ms: med('p95_frame_ms'), max_frame_ms: med('max_frame_ms') },
        keys_endpoint_ms: med('keys_ms'),
        each: results,
      },
      null,
      2,
    ),
  );
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
