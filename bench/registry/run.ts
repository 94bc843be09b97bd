// Registry benchmark: search over 10,000 models × 10 versions, alias resolution, lineage walks of depth 5 over a
// graph of 130,000 nodes; SQLite and PostgreSQL side by side. Prints one JSON document.
//
//   npm run bench:registry
//   KILN_BENCH_BACKENDS=sqlite KILN_BENCH_MODELS=2000 npm run bench:registry
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { freshStore, tempDir } from '../../test/support/backends.js';
import { openStore, migrateToLatest } from '../../src/platform/db/index.js';
import { MIGRATIONS } from '../../src/migrations.js';
import { machine, median, p95, round, rssMb, startServer, timed } from '../support.js';
import { seedRegistryCorpus } from './seed.js';

const BACKENDS = (process.env.KILN_BENCH_BACKENDS ?? 'sqlite,postgres').split(',') as ('sqlite' | 'postgres')[];
const MODELS = Number(process.env.KILN_BENCH_MODELS ?? 10_000);
const REPEAT = 40;

async function getJson(url: string): Promise<unknown> {
  const r = await fetch(url);
  const text = await r.text();
  if (r.status !== 200) throw new Error(`${url}: ${r.status} ${text.slice(0, 300)}`);
  return JSON.parse(text);
}

async function measure(urls: () => string, n = REPEAT): Promise<{ median_ms: number; p95_ms: number }> {
  for (let i = 0; i < 5; i++) await getJson(urls()); // warm up
  const times: number[] = [];
  for (let i = 0; i < n; i++) times.push((await timed(() => getJson(urls())))[0]);
  return { median_ms: round(median(times)), p95_ms: round(p95(times)) };
}

async function benchBackend(kind: 'sqlite' | 'postgres') {
  const store = await freshStore(kind);
  const dir = tempDir('kiln-bench-');
  const out: Record<string, unknown> = { backend: kind };
  try {
    const meta = await openStore(store.uri);
    await migrateToLatest(meta, MIGRATIONS);
    const [seedMs, corpus] = await timed(() => seedRegistryCorpus(meta, { models: MODELS, versionsPerModel: 10, parents: Math.round(MODELS / 4), datasets: Math.round(MODELS / 2) }));
    await meta.close();
    out.corpus = { ...corpus, seed_seconds: round(seedMs / 1000) };
    const { child, url } = await startServer(store.uri, pathToFileURL(join(dir, 'artifacts')).href);
    let maxRss = rssMb(child.pid!);
    const sampler = setInterval(() => (maxRss = Math.max(maxRss, rssMb(child.pid!))), 100);
    const api = `${url}/api/2.0/mlflow`;
    let k = 0;
    const pick = () => `model-${String((k++ * 7919) % MODELS).padStart(5, '0')}`;
    const q = encodeURIComponent;
    try {
      out.search = {
        first_page_by_name: await measure(() => `${api}/registered-models/search?max_results=100`),
        name_like: await measure(() => `${api}/registered-models/search?max_results=100&filter=${q(`name LIKE '${pick().slice(0, 9)}%'`)}`),
        tag_filter_by_update: await measure(() => `${api}/registered-models/search?max_results=100&filter=${q("tags.team = 'vision'")}&order_by=${q('last_updated_timestamp DESC')}`),
        versions_of_model: await measure(() => `${api}/model-versions/search?filter=${q(`name = '${pick()}'`)}`),
      };
      out.alias_resolution = await measure(() => `${api}/registered-models/alias?name=${pick()}&alias=champion`, 200);
      out.lineage = {
        nodes_in_graph: corpus.nodes,
        up_from_model_version_depth_5: await measure(() => `${url}/api/v1/lineage?node=${q(`models:/${pick()}/3`)}&direction=up&depth=5`),
        down_from_dataset_depth_5: await measure(() => `${url}/api/v1/lineage?node=${q(`dataset-digest:d${String((k++ * 31) % corpus.datasets).padStart(7, '0')}`)}&direction=down&depth=5`),
      };
      const sample = (await getJson(`${url}/api/v1/lineage?node=${q(`dataset-digest:${corpus.sampleDigest}`)}&direction=down&depth=5`)) as { nodes: unknown[]; edges: unknown[] };
      (out.lineage as Record<string, unknown>).sample_down_walk = { nodes: sample.nodes.length, edges: sample.edges.length };
    } finally {
      clearInterval(sampler);
      out.server_max_rss_mb = round(maxRss, 1);
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
  } finally {
    await store.drop();
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}

const results: Record<string, unknown>[] = [];
for (const b of BACKENDS) results.push(await benchBackend(b));
process.stdout.write(
  JSON.stringify({ bench: 'registry', machine: machine(), targets: { registry_search_median_ms: 20, alias_resolution_ms: 2, lineage_depth_5_ms: 20 }, results }, null, 2) + '\n',
);
