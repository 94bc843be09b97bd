import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { MonitoringMetrics } from './metrics.js';

test('the shipped Prometheus rules and Grafana dashboard name only gauges the server exports', () => {
  const registry = new Registry();
  new MonitoringMetrics(registry);
  const exported = new Set(registry.getMetricsAsArray().map((m) => m.name));
  for (const file of ['prometheus-rules.yml', 'grafana-dashboard.json']) {
    const text = readFileSync(join(process.cwd(), 'docs', 'monitoring', file), 'utf8');
    const used = new Set(text.match(/kiln_monitor_[a-z_]+/g) ?? []);
    assert.ok(used.size >= 4, `${file} uses the gauges`);
    for (const name of used) assert.ok(exported.has(name), `${file} names ${name}, which the server does not export`);
  }
  const dashboard = JSON.parse(readFileSync(join(process.cwd(), 'docs', 'monitoring', 'grafana-dashboard.json'), 'utf8')) as { panels: unknown[] };
  assert.ok(dashboard.panels.length > 5);
});
