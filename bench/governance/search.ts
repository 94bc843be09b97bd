// Run search under projects: 100,000 runs in 100 projects (10 experiments of 100 runs each), searched through the
// native API by a user who may read 10 of the projects, against the same search by an admin (no filter) and by the
// same user naming only the experiments of its projects. The user's search names every experiment (as a client
// that searches "everything" does), so the project filter inside the query is what keeps the other 90 % out; each
// answer is checked to hold only runs of readable projects and to be the newest 100 of them. Prints one JSON document.
//
//   npm run bench:search
//   KILN_BENCH_BACKENDS=sqlite KILN_BENCH_QUERIES=50 npm run bench:search
// Target (governance issue): ≤ 30 ms per search (median), results exact.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { freshStore, tempDir } from '../../test/support/backends.js';
import { openStore, migrateToLatest } from '../../src/platform/db/index.js';
import { MIGRATIONS } from '../../src/migrations.js';
import { seedProjects, PROJECTS, EXPERIMENTS_PER_PROJECT, RUNS_PER_EXPERIMENT } from './seed.js';
import { machine, median, p95, round, startServer, timed } from '../support.js';

const BACKENDS = (process.env.KILN_BENCH_BACKENDS ?? 'sqlite,postgres').split(',') as ('sqlite' | 'postgres')[];
const QUERIES = Number(process.env.KILN_BENCH_QUERIES ?? 30);
const READABLE = 10;

async function json(url: string, body: unknown, headers: Record<string, string>, method = 'POST'): Promise<Record<string, unknown>> {
  const r = await fetch(url, { method, headers: { 'content-type': 'application/json', ...headers }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  if (!r.ok) throw new Error(`${method} ${url}: ${r.status} ${text.slice(0, 300)}`);
  return text ? (JSON.parse(text) as Record<string, unknown>) : {};
}

async function benchBackend(kind: 'sqlite' | 'postgres') {
  const store = await freshStore(kind);
  const dir = tempDir('kiln-bench-search-');
  const meta = await openStore(store.uri);
  await migrateToLatest(meta, MIGRATIONS);
  const [seedMs, { experiments }] = await timed(() => seedProjects(meta));
  await meta.close();
  const { child, url } = await startServer(store.uri, pathToFileURL(join(dir, 'artifacts')).href, ['--auth', 'on'], { KILN_ADMIN_USER: 'root', KILN_ADMIN_PASSWORD: 'bench password 1' });
  try {
    const root = { authorization: `Basic ${Buffer.from('root:bench password 1').toString('base64')}` };
    await json(`${url}/api/v1/users`, { name: 'ana', password: 'ana password 1' }, root);
    const projectIds = [...experiments.keys()];
    // Every tenth project: ana reads 10 of the 100, spread over the id range.
    const readable = projectIds.filter((_, k) => k % (PROJECTS / READABLE) === 0);
    for (const id of readable) await json(`${url}/api/v1/projects/p${String(id - 1).padStart(3, '0')}/members/user/ana`, { role: 'viewer' }, root, 'PUT');
    const ana = { authorization: `Bearer ${(await json(`${url}/api/v1/tokens`, { name: 'bench' }, { authorization: `Basic ${Buffer.from('ana:ana password 1').toString('base64')}` })).token as string}` };
    const rootToken = { authorization: `Bearer ${(await json(`${url}/api/v1/tokens`, { name: 'bench' }, root)).token as string}` };
    const all = [...experiments.values()].flat();
    const mine = readable.flatMap((id) => experiments.get(id)!);
    const readableExperiments = new Set(mine);
    const cases = {
      user_all_experiments: { headers: ana, ids: all },
      user_own_experiments: { headers: ana, ids: mine },
      admin_all_experiments: { headers: rootToken, ids: all },
    };
    const times: Record<string, number[]> = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
    let exact = true;
    // Warm-up, then rounds alternating the cases.
    for (const c of Object.values(cases)) await json(`${url}/api/v1/runs/search`, { experiment_ids: c.ids, max_results: 100 }, c.headers);
    for (let q = 0; q < QUERIES; q++) {
      for (const [name, c] of Object.entries(cases)) {
        const [ms, page] = await timed(() => json(`${url}/api/v1/runs/search`, { experiment_ids: c.ids, max_results: 100 }, c.headers));
        times[name]!.push(ms);
        if (name === 'user_all_experiments' && q === 0) {
          const runs = page.runs as { experiment_id: string; start_time: number }[];
          // Only readable runs, exactly 100, newest first: the same page as naming only the readable experiments.
          const own = (await json(`${url}/api/v1/runs/search`, { experiment_ids: mine, max_results: 100 }, rootToken)).runs as { experiment_id: string; start_time: number }[];
          exact =
            runs.length === 100 &&
            runs.every((r) => readableExperiments.has(r.experiment_id)) &&
            JSON.stringify(runs.map((r) => [r.experiment_id, r.start_time])) === JSON.stringify(own.map((r) => [r.experiment_id, r.start_time]));
        }
      }
    }
    const med = Object.fromEntries(Object.entries(times).map(([k, v]) => [k, round(median(v))]));
    return {
      backend: kind,
      runs: PROJECTS * EXPERIMENTS_PER_PROJECT * RUNS_PER_EXPERIMENT,
      projects: PROJECTS,
      readable_projects: READABLE,
      seed_seconds: round(seedMs / 1000, 1),
      search_median_ms: med,
      search_p95_ms: Object.fromEntries(Object.entries(times).map(([k, v]) => [k, round(p95(v))])),
      results_exact: exact,
      ratios: { user_all_vs_admin_all: round(med.user_all_experiments! / med.admin_all_experiments!, 3), user_all_vs_user_own: round(med.user_all_experiments! / med.user_own_experiments!, 3) },
    };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    await store.drop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const results: Record<string, unknown>[] = [];
for (const b of BACKENDS) results.push(await benchBackend(b));
console.log(JSON.stringify({ bench: 'governance-search', machine: machine(), queries_per_case: QUERIES, page_size: 100, targets: { user_search_median_ms_max: 30 }, results }, null, 2));
