/** Prometheus gauges of the monitors' latest closed windows (set when the rules are evaluated). */
import { Gauge, type Registry } from 'prom-client';
import type { WindowSummary } from '@kiln-mlops/sdk/contract/monitoring-schemas';
import type { Monitor } from './monitors.js';

export class MonitoringMetrics {
  readonly drift: Gauge<'monitor' | 'feature' | 'method'>;
  readonly drifted: Gauge<'monitor' | 'feature'>;
  readonly psi: Gauge<'monitor' | 'feature'>;
  readonly driftShare: Gauge<'monitor'>;
  readonly rows: Gauge<'monitor'>;
  readonly missing: Gauge<'monitor'>;
  readonly performance: Gauge<'monitor' | 'metric'>;
  readonly alert: Gauge<'monitor' | 'rule'>;
  private readonly known = new Map<string, { features: Set<string>; metrics: Set<string>; rules: Set<string> }>();

  constructor(registry: Registry) {
    const registers = [registry];
    this.drift = new Gauge({ name: 'kiln_monitor_drift_score', help: "Drift figure of the monitor's default (or configured) method per feature, latest closed window: a p-value for ks/chisquare/z, a distance otherwise", labelNames: ['monitor', 'feature', 'method'], registers });
    this.drifted = new Gauge({ name: 'kiln_monitor_feature_drifted', help: 'Whether the feature drifted in the latest closed window (1) or not (0)', labelNames: ['monitor', 'feature'], registers });
    this.psi = new Gauge({ name: 'kiln_monitor_psi', help: 'Population stability index per feature, latest closed window', labelNames: ['monitor', 'feature'], registers });
    this.driftShare = new Gauge({ name: 'kiln_monitor_dataset_drift_share', help: 'Share of drifted features, latest closed window', labelNames: ['monitor'], registers });
    this.rows = new Gauge({ name: 'kiln_monitor_window_rows', help: 'Rows in the latest closed window', labelNames: ['monitor'], registers });
    this.missing = new Gauge({ name: 'kiln_monitor_missing_rate', help: 'Share of missing feature values, latest closed window', labelNames: ['monitor'], registers });
    this.performance = new Gauge({ name: 'kiln_monitor_performance', help: 'Realized performance against the labels received, latest closed window (label_coverage included)', labelNames: ['monitor', 'metric'], registers });
    this.alert = new Gauge({ name: 'kiln_monitor_alert_firing', help: 'Alert state per rule: 1 firing, 0 resolved', labelNames: ['monitor', 'rule'], registers });
  }

  private entry(name: string) {
    let k = this.known.get(name);
    if (!k) this.known.set(name, (k = { features: new Set(), metrics: new Set(), rules: new Set() }));
    return k;
  }

  set(m: Monitor, w: WindowSummary): void {
    const k = this.entry(m.name);
    for (const [f, c] of Object.entries(w.columns)) {
      k.features.add(`${f}\u0000${c.method}`);
      if (c.statistic !== null) this.drift.set({ monitor: m.name, feature: f, method: c.method }, c.statistic);
      this.drifted.set({ monitor: m.name, feature: f }, c.drifted ? 1 : 0);
      if (c.psi !== null) this.psi.set({ monitor: m.name, feature: f }, c.psi);
    }
    if (w.drift_share !== null) this.driftShare.set({ monitor: m.name }, w.drift_share);
    this.rows.set({ monitor: m.name }, w.rows);
    if (w.missing_rate !== null) this.missing.set({ monitor: m.name }, w.missing_rate);
    const perf: Record<string, number | null> = w.performance ? { ...w.performance.metrics, label_coverage: w.performance.label_coverage } : {};
    for (const [metric, v] of Object.entries(perf)) {
      if (v === null) continue;
      k.metrics.add(metric);
      this.performance.set({ monitor: m.name, metric }, v);
    }
  }

  alerts(m: Monitor, firing: readonly string[]): void {
    const k = this.entry(m.name);
    for (const r of m.rules) k.rules.add(r.id);
    for (const r of k.rules) this.alert.set({ monitor: m.name, rule: r }, firing.includes(r) ? 1 : 0);
  }

  /** Drops a deleted monitor's series. */
  forget(name: string): void {
    const k = this.known.get(name);
    if (!k) return;
    for (const fm of k.features) {
      const [feature, method] = fm.split('\u0000') as [string, string];
      this.drift.remove({ monitor: name, feature, method });
      this.drifted.remove({ monitor: name, feature });
      this.psi.remove({ monitor: name, feature });
    }
    for (const metric of k.metrics) this.performance.remove({ monitor: name, metric });
    for (const rule of k.rules) this.alert.remove({ monitor: name, rule });
    this.driftShare.remove({ monitor: name });
    this.rows.remove({ monitor: name });
    this.missing.remove({ monitor: name });
    this.known.delete(name);
  }
}
