/** A monitor as the service works with it: its row, parsed once. */
import type { DriftMethod, MonitoredColumn } from '@kiln-mlops/sdk/contract/monitoring-schemas';
import type { ColumnReference, ReferenceProfile } from './counts.js';
import { parseRule, type ParsedRule } from './rules.js';
import type { MonitorRow } from './store.js';
import { parseWindow, type WindowSpec } from './windows.js';

/** What a monitor's `spec` column holds. */
export interface MonitorSpec {
  readonly features: MonitoredColumn[];
  readonly predictions: MonitoredColumn[];
  readonly label: string | null;
  readonly task: 'classification' | 'regression' | null;
  readonly positive_class: string | null;
  readonly score: string | null;
  readonly window: string;
  readonly time_column: string | null;
  readonly bins: number;
  readonly top_k: number;
  readonly drift_share: number;
  readonly rules: string[];
}

export interface Monitor {
  readonly pk: number;
  readonly name: string;
  readonly projectId: number;
  readonly description: string | null;
  readonly deployment: string | null;
  readonly model: string | null;
  readonly spec: MonitorSpec;
  readonly reference: ReferenceProfile;
  readonly referenceSource: string;
  readonly window: WindowSpec;
  readonly rules: ParsedRule[];
  /** The references of the features, then of the predictions: the columns counted. */
  readonly counted: ColumnReference[];
  readonly featureRefs: ColumnReference[];
  readonly predictionRefs: ColumnReference[];
  readonly settings: ReadonlyMap<string, { method?: DriftMethod; threshold?: number }>;
  readonly openWindow: number;
  readonly openRows: number;
  readonly lastRecordTime: number | null;
  readonly createdBy: string | null;
  readonly creationTime: number;
  readonly lastUpdateTime: number;
}

const cache = new Map<string, { stamp: string; monitor: Monitor }>();

/** Parses a row (cached while the row's update time and reference are unchanged). */
export function toMonitor(r: MonitorRow): Monitor {
  const stamp = `${r.monitor_pk}:${r.last_update_time}`;
  const hit = cache.get(r.name);
  let base: Monitor;
  if (hit && hit.stamp === stamp) base = hit.monitor;
  else {
    const spec = JSON.parse(r.spec) as MonitorSpec;
    const reference = JSON.parse(r.reference) as ReferenceProfile;
    const byName = new Map(reference.columns.map((c) => [c.name, c]));
    const featureRefs = spec.features.map((f) => byName.get(f.name)!).filter(Boolean);
    // A prediction's reference is stored under the prediction's own name.
    const predictionRefs = spec.predictions.map((p) => byName.get(p.name)!).filter(Boolean);
    const settings = new Map<string, { method?: DriftMethod; threshold?: number }>();
    for (const c of [...spec.features, ...spec.predictions]) settings.set(c.name, { ...(c.method ? { method: c.method } : {}), ...(c.threshold !== undefined ? { threshold: c.threshold } : {}) });
    base = {
      pk: Number(r.monitor_pk),
      name: r.name,
      projectId: Number(r.project_id),
      description: r.description,
      deployment: r.deployment,
      model: r.model,
      spec,
      reference,
      referenceSource: r.reference_source,
      window: parseWindow(spec.window),
      rules: spec.rules.map(parseRule),
      counted: [...featureRefs, ...predictionRefs],
      featureRefs,
      predictionRefs,
      settings,
      openWindow: 0,
      openRows: 0,
      lastRecordTime: null,
      createdBy: r.created_by,
      creationTime: Number(r.creation_time),
      lastUpdateTime: Number(r.last_update_time),
    };
    if (cache.size > 1000) cache.clear();
    cache.set(r.name, { stamp, monitor: base });
  }
  return { ...base, openWindow: Number(r.open_window), openRows: Number(r.open_rows), lastRecordTime: r.last_record_time === null ? null : Number(r.last_record_time) };
}
