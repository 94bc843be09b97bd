// UI benchmark: a run with a 1,000,000-point metric history; time from navigating to its page until the chart is drawn.
// Starts `kiln server` on a fresh SQLite store, logs the history in 1000-point batches, opens the page in headless
// Chromium 5 times (fresh page each time) and waits for the chart's data-drawn attribute.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { machine, median, round, startServer } from '../support.js';

const POINTS = Number(process.env.KILN_BENCH_POINTS ?? 1_000_000);
const RUNS = 5;
const CHROMIUM = process.env.KILN_CHROMIUM ?? '/usr/bin/chromium';

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-bench-ui-'));
  const { child, url } = await startServer('sqlite://' + pathToFileURL(join(dir, 'kiln.db')).pathname, pathToFileURL(join(dir, 'artifacts')).href);
  try {
    const post = async (path: string, body: unknown) => {
      const res = await fetch(`${url}/api/v1${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
      return res.status === 204 ? undefined : ((await res.json()) as Record<string, unknown>);
    };
    const run = ((await post('/runs', { experiment_id: '0', run_name: 'million' })) as { run: { run_id: string } }).run.run_id;
    const t0 = Date.now() - POINTS;
    const loadStart = performance.now();
    const lanes = 4;
    await Promise.all(
      Array.from({ length: lanes }, async (_, lane) => {
        for (let b = lane; b < POINTS / 1000; b += lanes) {
          const metrics = Array.from({ length: 1000 }, (_, i) => {
            const s = b * 1000 + i;
            return { key: 'loss', value: 1 / (1 + s / 50_000) + 0.05 * Math.sin(s / 700) + (s === 654_321 ? 5 : 0), step: s, timestamp: t0 + s };
          });
          await post(`/runs/${run}/log`, { metrics });
        }
      }),
    );
    const loadSeconds = (performance.now() - loadStart) / 1000;

    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
    const times: number[] = [];
    try {
      const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      for (let i = 0; i < RUNS + 1; i++) {
        const page = await context.newPage();
        const start = Date.now();
        await page.goto(`${url}/runs/${run}`);
        await page.locator('[data-metric="loss"] .uplot-wrap[data-drawn="true"]').waitFor({ timeout: 60_000 });
        const ms = Date.now() - start;
        if (i > 0) times.push(ms); // the first load warms the server and the browser cache
        await page.close();
      }
    } finally {
      await browser.close();
    }
    console.log(JSON.stringify({ machine: machine(), points: POINTS, load_seconds: round(loadSeconds), chart_drawn_ms: { median: round(median(times)), runs: times } }, null, 2));
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
