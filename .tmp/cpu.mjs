import { openStore } from '/work/wt-sqlite/dist/src/platform/db/index.js';
import { MetricHistoryReader } from '/work/wt-sqlite/dist/src/tracking/metric-history.js';
import { metricListJson } from '/work/wt-sqlite/dist/src/mlflow/convert.js';
const st = await openStore('sqlite:///tmp/kx/m/k.db');
const rd = new MetricHistoryReader(st);
const pk = 1;
for (let k = 0; k < 5; k++) {
  const c0 = process.cpuUsage(); const t0 = performance.now();
  const h = await rd.page({ runPk: pk, key: 'loss', limit: 25000 });
  const c1 = process.cpuUsage(c0); const t1 = performance.now();
  const s = metricListJson(h.metrics, undefined, h.nextPageToken);
  const c2 = process.cpuUsage(); const t2 = performance.now();
  console.log(JSON.stringify({ readCpuMs: (c1.user + c1.system) / 1000, readWallMs: +(t1 - t0).toFixed(1), jsonWallMs: +(t2 - t1).toFixed(1), bytes: s.length }));
}
await st.close();
