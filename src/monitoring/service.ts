/**
 * Monitors: creation (the reference profile, computed once), records counted into windows, delayed labels joined by
 * request id, reports merged over windows, and the alert rules evaluated on closed windows. Alert state changes are
 * events in the platform's log (`monitoring.alert_firing`, `monitoring.alert_resolved`), with their audit entries.
 */
import type { Alert, AlertNotice, CreateMonitorBody, LabelsResult, MonitoredColumn, Performance, RecordsResult, Report, UpdateMonitorBody, WindowSummary } from '@kiln-mlops/sdk/contract/monitoring-schemas';
import { DRIFT_METHODS } from '@kiln-mlops/sdk/contract/monitoring-schemas';
import type { DataService } from '../data/service.js';
import type { LineageService } from '../lineage/service.js';
import type { ServingService } from '../serving/service.js';
import type { ProfileSource } from '../data/profile/index.js';
import { readSource } from '../data/profile/index.js';
import type { Actor } from '../platform/actor.js';
import type { ResourceDirectory } from '../platform/auth/resources.js';
import { currentAccess, roleOn } from '../platform/auth/access.js';
import { alreadyExists, invalid, isKilnError, notFound } from '../platform/errors.js';
import type { EventLog } from '../platform/events/log.js';
import { offsetFromPageToken, offsetPage, validateMaxResults, type Page } from '../platform/pagination.js';
import { emptyCounts, mergeInto, type ColumnCounts, type ColumnReference, type WindowCounts } from './counts.js';
import { IngestSink, REQUEST_ID, type CountingPlan, type WindowAccumulator } from './ingest.js';
import { toMonitor, type Monitor, type MonitorSpec } from './monitors.js';
import { buildReference, kindOf, type ColumnRequest } from './reference.js';
import { datasetDrift } from './report.js';
import { holds, parseRule, type ParsedRule } from './rules.js';
import { classificationMetrics, regressionMetrics } from './stats/performance.js';
import type { MonitoringStore, PredictionRow } from './store.js';
import { parseBound, parseWindow, windowEnd } from './windows.js';
import type { MonitoringMetrics } from './metrics.js';

export const MONITORING_EVENT_PREFIX = 'monitoring.';
export const ALERT_FIRING = 'monitoring.alert_firing';
export const ALERT_RESOLVED = 'monitoring.alert_resolved';

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export type { AlertNotice } from '@kiln-mlops/sdk/contract/monitoring-schemas';

export interface MonitoringDeps {
  readonly store: MonitoringStore;
  readonly events: EventLog;
  readonly data: DataService;
  readonly lineage: LineageService;
  readonly serving: ServingService;
  readonly resources: ResourceDirectory;
  readonly metrics: MonitoringMetrics;
  readonly now: () => number;
}

const DEFAULTS = { window: '1h', bins: 10, topK: 20, driftShare: 0.5 } as const;

export class MonitorService {
  private readonly store: MonitoringStore;
  private readonly listeners = new Set<() => void>();

  constructor(private readonly deps: MonitoringDeps) {
    this.store = deps.store;
  }

  registerResolvers(): void {
    this.deps.resources.register('monitor', async (name) => {
      const p = await this.store.monitorProject(name);
      return p === undefined ? undefined : { projectId: p };
    });
    this.deps.resources.registerUsage((projectId) => this.store.projectHoldsMonitors(projectId));
  }

  /** Called after monitors are created, changed or deleted (the serving counter reloads). */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private changed(): void {
    for (const l of this.listeners) l();
  }

  // ------------------------------------------------------------------ reads
  async get(name: string): Promise<Monitor> {
    const row = typeof name === 'string' ? await this.store.monitor(name) : undefined;
    if (!row) throw notFound(`Monitor '${String(name).slice(0, 128)}' does not exist.`);
    return toMonitor(row);
  }

  async list(input: { maxResults?: number; pageToken?: string; project?: string } = {}): Promise<Page<Monitor>> {
    const limit = validateMaxResults(input.maxResults, 100, 1000);
    const offset = offsetFromPageToken(input.pageToken);
    let project: number | undefined;
    if (input.project !== undefined) {
      project = await this.deps.resources.findProject(input.project);
      if (project === undefined) return { items: [] };
    }
    const rows = await this.store.list(offset, limit + 1, project);
    return offsetPage(rows, limit, offset, async (r) => r.map(toMonitor));
  }

  async monitorsOfDeployments(): Promise<Monitor[]> {
    return (await this.store.ofDeployments()).map(toMonitor);
  }

  firing(m: Monitor): Promise<number> {
    return this.store.firingCount(m.pk);
  }

  // ------------------------------------------------------------------ changes
  async create(input: CreateMonitorBody, actor: Actor): Promise<Monitor> {
    const name = input.name;
    if (typeof name !== 'string' || !NAME_RE.test(name)) throw invalid(`Invalid monitor name ${JSON.stringify(name)?.slice(0, 140)}: 1 to 128 letters, digits, '.', '_' or '-', starting with a letter or digit.`, { field: 'name' });
    if (input.deployment === undefined && input.reference === undefined) {
      throw invalid('A monitor of an external model (or of nothing yet) needs a reference: name a dataset version (`reference`, such as weather@v1). Only a deployment\'s monitor can find its training data through lineage.', { field: 'reference' });
    }
    if (input.deployment !== undefined && input.model !== undefined) throw invalid('Give either `deployment` (a Kiln deployment) or `model` (an external model), not both.', { field: 'model' });
    const window = parseWindow(input.window ?? DEFAULTS.window);
    const rules = (input.rules ?? []).map(parseRule);
    const bins = input.bins ?? DEFAULTS.bins;
    const topK = input.top_k ?? DEFAULTS.topK;
    let model = input.model ?? null;
    // The reference: the named dataset version, or (a deployment) the training data of the version it serves.
    let refName: string;
    let refVersion: number;
    if (input.deployment !== undefined) await this.requireReadable('deployment', input.deployment, 'Deployment');
    if (input.reference !== undefined) {
      const v = await this.deps.data.resolve(input.reference);
      await this.requireReadable('dataset', v.name, 'Dataset');
      refName = v.name;
      refVersion = v.version;
    } else {
      const d = await this.deps.serving.deployments.get(input.deployment!);
      const target = d.resolved.targets[0]!;
      model = target.name;
      const found = await this.trainingData(target.name, target.version);
      if (!found) throw invalid(`No reference given, and the lineage of ${target.name} version ${target.version} names no Kiln dataset version it was trained on: pass \`reference\` (a dataset version such as weather@v1).`, { field: 'reference' });
      refName = found.name;
      refVersion = found.version;
    }
    if (input.deployment !== undefined && model === null) model = (await this.deps.serving.deployments.get(input.deployment)).resolved.targets[0]!.name;
    const version = await this.deps.data.getVersion(refName, refVersion);
    const profileNames = version.profile.columns.map((c) => c.name);
    const label = input.label ?? null;
    const timeColumn = input.time_column ?? null;
    const score = input.score ?? null;
    const predictionCols = (input.predictions ?? []).map(columnOf);
    const reserved = new Set([timeColumn, label, score, REQUEST_ID, ...predictionCols.map((p) => p.name)].filter((x): x is string => x !== null));
    let features: MonitoredColumn[];
    if (input.features !== undefined) {
      features = input.features.map(columnOf);
      if (features.length === 0) throw invalid('`features` is empty: name at least one column, or leave it out to monitor every column of the reference.', { field: 'features' });
    } else {
      features = version.profile.columns
        .filter((c) => !reserved.has(c.name) && kindOf(c) !== undefined)
        .map((c) => ({ name: c.name, kind: kindOf(c)! }));
      if (features.length === 0) throw invalid(`The reference ${refName}@v${refVersion} has no numeric or categorical column to monitor (it has ${profileNames.join(', ')}).`, { field: 'features' });
    }
    const dup = firstDuplicate([...features, ...predictionCols].map((c) => c.name));
    if (dup) throw invalid(`Column '${dup}' is named twice among the features and predictions.`, { field: 'features' });
    if (timeColumn !== null && features.some((f) => f.name === timeColumn)) throw invalid(`The time column '${timeColumn}' can't also be a feature.`, { field: 'time_column' });
    for (const c of [...features, ...predictionCols]) checkSettings(c);
    // A prediction is compared with the reference's column of the same name, or else with the label's distribution.
    const requests: ColumnRequest[] = features.map((f) => ({ name: f.name, ...(input.features !== undefined ? { kind: f.kind } : {}) }));
    const predictionSources = new Map<string, string>();
    for (const p of predictionCols) {
      const src = profileNames.includes(p.name) ? p.name : label !== null && profileNames.includes(label) ? label : undefined;
      if (!src) throw invalid(`The reference has no column '${p.name}', nor a label column to compare the prediction '${p.name}' with: name \`label\`, or add the column to the reference.`, { field: 'predictions' });
      predictionSources.set(p.name, src);
      if (!requests.some((r) => r.name === src)) requests.push({ name: src, kind: p.kind });
    }
    const reference = await buildReference(version.profile, async (sink) => void (await this.deps.data.scan(refName, refVersion, sink)), requests, { bins, topK });
    // Store each prediction's reference under its own name, and drop the label's when it only served predictions.
    const byName = new Map(reference.columns.map((c) => [c.name, c]));
    const columns: ColumnReference[] = features.map((f) => byName.get(f.name)!);
    for (const p of predictionCols) columns.push({ ...byName.get(predictionSources.get(p.name)!)!, name: p.name });
    // Kinds as the reference found them (a numeric column with few values is compared as categories).
    features = features.map((f) => ({ ...f, kind: byName.get(f.name)!.kind }));
    const predictions = predictionCols.map((p) => ({ ...p, kind: byName.get(predictionSources.get(p.name)!)!.kind }));
    const labelRef = label !== null ? byName.get(label) : undefined;
    const task = input.task ?? (label === null && predictions.length === 0 ? null : (labelRef?.kind ?? predictions[0]?.kind) === 'numeric' ? 'regression' : 'classification');
    const spec: MonitorSpec = {
      features,
      predictions,
      label,
      task,
      positive_class: input.positive_class ?? null,
      score,
      window: window.text,
      time_column: timeColumn,
      bins,
      top_k: topK,
      drift_share: input.drift_share ?? DEFAULTS.driftShare,
      rules: rules.map((r) => r.text),
    };
    const projectId = await this.deps.resources.projectId(input.project);
    const now = this.deps.now();
    const source = `${refName}@v${refVersion}`;
    try {
      await this.deps.events.transaction(this.store.db, async (trx, emit) => {
        await this.store.insertMonitor(trx, {
          name,
          project_id: projectId,
          description: input.description ?? null,
          deployment: input.deployment ?? null,
          model,
          spec: JSON.stringify(spec),
          reference: JSON.stringify({ rows: reference.rows, columns }),
          reference_source: source,
          last_record_time: null,
          created_by: actor.user,
          creation_time: now,
          last_update_time: now,
        });
        emit({ type: 'monitoring.monitor_created', actor: actor.user, time: now, subject: name, subjectKind: 'monitor', data: { name, deployment: input.deployment ?? null, model, reference: source, window: window.text, features: features.map((f) => f.name), rules: spec.rules } });
      });
    } catch (e) {
      if (this.store.isUniqueViolation(e)) throw alreadyExists(`Monitor '${name}' already exists.`);
      throw e;
    }
    this.changed();
    return this.get(name);
  }

  /** What the monitor reads from (a deployment's traffic, a dataset's rows) must be readable by its creator. */
  private async requireReadable(kind: 'deployment' | 'dataset', name: string, label: string): Promise<void> {
    const access = currentAccess();
    if (access.all) return;
    const owner = await this.deps.resources.resolve(kind, name);
    if (!owner || roleOn(access, owner.projectId) === undefined) throw notFound(`${label} '${name}' does not exist.`);
  }

  /** The Kiln dataset version the run that produced a model version used for training (through lineage). */
  private async trainingData(model: string, version: number): Promise<{ name: string; version: number } | undefined> {
    const g = await this.deps.lineage.graph(`models:/${model}/${version}`, { direction: 'up', depth: 4 });
    const inputs = g.edges.filter((e) => e.relation === 'used-by');
    const nodes = new Map(g.nodes.map((n) => [n.id, n]));
    // Prefer an input logged with the context "training" (MLflow's convention), else the first Kiln dataset version.
    const ranked = [...inputs].sort((a, b) => Number(b.attributes?.context === 'training') - Number(a.attributes?.context === 'training'));
    for (const e of ranked) {
      const n = nodes.get(e.from);
      if (n?.kind === 'dataset_version') return { name: String(n.attributes.name), version: Number(n.attributes.version) };
    }
    return undefined;
  }

  async update(name: string, input: UpdateMonitorBody, actor: Actor): Promise<Monitor> {
    const m = await this.get(name);
    const spec: MonitorSpec = { ...m.spec };
    const patch: { description?: string | null } = {};
    if (input.description !== undefined) patch.description = input.description;
    const next = { ...spec } as { -readonly [K in keyof MonitorSpec]: MonitorSpec[K] };
    if (input.drift_share !== undefined) next.drift_share = input.drift_share;
    if (input.rules !== undefined) next.rules = input.rules.map((r) => parseRule(r).text);
    if (input.features !== undefined) {
      const given = new Map(input.features.map((f) => [f.name, f]));
      for (const n of given.keys()) if (!spec.features.some((f) => f.name === n) && !spec.predictions.some((p) => p.name === n)) throw invalid(`The monitor has no feature or prediction '${n}' (the columns are fixed at creation).`, { field: 'features' });
      for (const f of given.values()) checkSettings(f);
      const apply = (c: MonitoredColumn): MonitoredColumn => {
        const g = given.get(c.name);
        return g ? { name: c.name, kind: c.kind, ...(g.method ? { method: g.method } : {}), ...(g.threshold !== undefined ? { threshold: g.threshold } : {}) } : c;
      };
      next.features = spec.features.map(apply);
      next.predictions = spec.predictions.map(apply);
    }
    const now = Math.max(this.deps.now(), m.lastUpdateTime + 1);
    await this.deps.events.transaction(this.store.db, async (trx, emit) => {
      await this.store.updateMonitor(trx, m.pk, { ...patch, spec: JSON.stringify(next), last_update_time: now });
      emit({ type: 'monitoring.monitor_updated', actor: actor.user, time: now, subject: name, subjectKind: 'monitor', data: { name, drift_share: next.drift_share, rules: next.rules, ...(input.description !== undefined ? { description: input.description } : {}) } });
    });
    this.changed();
    return this.get(name);
  }

  async delete(name: string, actor: Actor): Promise<void> {
    const m = await this.get(name);
    const now = this.deps.now();
    await this.deps.events.transaction(this.store.db, async (trx, emit) => {
      await this.store.deleteMonitor(trx, m.pk);
      emit({ type: 'monitoring.monitor_deleted', actor: actor.user, time: now, subject: name, subjectKind: 'monitor', data: { name } });
    });
    this.deps.metrics.forget(name);
    this.changed();
  }

  // ------------------------------------------------------------------ records
  plan(m: Monitor): CountingPlan {
    return { monitorPk: m.pk, refs: m.counted, window: m.window, timeColumn: m.spec.time_column, label: m.spec.label, prediction: m.spec.predictions[0]?.name ?? null, score: m.spec.score };
  }

  /** Counts JSON records (objects keyed by column). */
  async logRecords(name: string, records: unknown): Promise<RecordsResult> {
    if (!Array.isArray(records)) throw invalid('`records` must be a list of JSON objects, one per prediction.', { field: 'records' });
    const m = await this.get(name);
    const sink = new IngestSink(this.plan(m), this.deps.now(), { window: m.openWindow, rows: m.openRows });
    for (const r of records) sink.addObject(r as Record<string, unknown>);
    return this.commit(m, sink);
  }

  /** Counts the rows of a file (CSV, TSV, JSON lines, JSON array, parquet); `noQuotes`: the caller saw no '"' in it. */
  async logFile(name: string, src: ProfileSource, opts: { noQuotes?: boolean } = {}): Promise<RecordsResult> {
    const m = await this.get(name);
    const sink = new IngestSink(this.plan(m), this.deps.now(), { window: m.openWindow, rows: m.openRows });
    // A CSV without quotes is read from its bytes (no string per field); any other file by the data capability's readers.
    if (opts.noQuotes && src.format === 'csv') await sink.readPlainCsv(src.open() as AsyncIterable<Buffer>, src.name, /\.tsv$/i.test(src.name) ? 9 : 44);
    else await readSource(src, sink);
    return this.commit(m, sink);
  }

  /** Writes what a sink counted: one part per window, the rows kept for labels, in one transaction. */
  private async commit(m: Monitor, sink: IngestSink): Promise<RecordsResult> {
    const result: RecordsResult = { accepted: sink.rows, windows: sink.windows.size, predictions_stored: sink.kept.length, ignored_columns: [...sink.ignored].slice(0, 100), invalid_values: sink.invalidValues };
    if (sink.rows === 0) return result;
    await this.write(m, sink.windows, sink.kept, m.window.kind === 'rows' ? sink.open : undefined);
    void this.evaluateSoon(m.name);
    return result;
  }

  /** Appends window parts and kept predictions (the serving counter's flush comes here too). */
  async write(m: Monitor, windows: ReadonlyMap<number, WindowAccumulator>, kept: readonly PredictionRow[], open?: { window: number; rows: number }): Promise<void> {
    const now = this.deps.now();
    const parts = [...windows].filter(([, w]) => w.rows > 0).map(([start, w]) => ({ monitor_pk: m.pk, window_start: start, rows: w.rows, counts: JSON.stringify(w.toCounts().cols), time: now }));
    await this.deps.events.transaction(this.store.db, async (trx) => {
      const row = await this.store.touchMonitor(trx, m.pk, now);
      if (!row) throw notFound(`Monitor '${m.name}' does not exist.`);
      await this.store.insertParts(trx, parts);
      if (kept.length > 0) await this.store.putPredictions(trx, kept);
      if (open) await this.store.updateMonitor(trx, m.pk, { open_window: open.window, open_rows: open.rows });
    });
  }

  /**
   * Writes the running counts of one window of a serving process (cumulative since the window opened: one part per
   * window per process, updated at each flush) with the predictions kept since the last flush. Returns the part's id.
   */
  async writeRunning(m: Monitor, start: number, acc: WindowAccumulator, partPk: number | undefined, kept: readonly PredictionRow[]): Promise<number> {
    const now = this.deps.now();
    return this.deps.events.transaction(this.store.db, async (trx) => {
      const row = await this.store.touchMonitor(trx, m.pk, now);
      if (!row) throw notFound(`Monitor '${m.name}' does not exist.`);
      const pk = await this.store.putPart(trx, partPk, { monitor_pk: m.pk, window_start: start, rows: acc.rows, counts: JSON.stringify(acc.toCounts().cols), time: now });
      if (kept.length > 0) await this.store.putPredictions(trx, kept);
      return pk;
    });
  }

  // ------------------------------------------------------------------ labels
  async labels(name: string, labels: unknown): Promise<LabelsResult> {
    if (!Array.isArray(labels)) throw invalid('`labels` must be a list of {request_id, label}.', { field: 'labels' });
    const m = await this.get(name);
    const map = new Map<string, string>();
    labels.forEach((l: unknown, i) => {
      const o = l as { request_id?: unknown; label?: unknown } | null;
      if (!o || typeof o !== 'object') throw invalid(`labels[${i}] is not an object {request_id, label}.`, { field: 'labels' });
      if (typeof o.request_id !== 'string' || o.request_id === '') throw invalid(`labels[${i}].request_id must be a non-empty string.`, { field: 'labels' });
      if (o.label === undefined || o.label === null) throw invalid(`labels[${i}] has no label.`, { field: 'labels' });
      if (typeof o.label === 'number' && !Number.isFinite(o.label)) throw invalid(`labels[${i}].label is not a finite number.`, { field: 'labels' });
      if (!['string', 'number', 'boolean'].includes(typeof o.label)) throw invalid(`labels[${i}].label must be a string, number or boolean.`, { field: 'labels' });
      map.delete(o.request_id);
      map.set(o.request_id, String(o.label));
    });
    const now = this.deps.now();
    const matched = await this.deps.events.transaction(this.store.db, async (trx, _emit, audit) => {
      const rows = await this.store.setLabels(trx, m.pk, map, now);
      audit({ action: 'monitoring.labels_logged', resourceType: 'monitor', resourceId: m.name, projectId: m.projectId, details: { received: labels.length, joined: rows.length } });
      return rows;
    });
    const found = new Set(matched.map((r) => r.request_id));
    const unknown = [...map.keys()].filter((k) => !found.has(k));
    void this.evaluateSoon(m.name);
    return { received: labels.length, joined: matched.length, unknown: unknown.length, unknown_request_ids: unknown.slice(0, 20), windows: new Set(matched.map((r) => r.window_start)).size };
  }

  // ------------------------------------------------------------------ reports
  /** Merged counts per window in [from, to] (compacting windows written in several parts on the way). */
  private async windowCounts(m: Monitor, from?: number, to?: number): Promise<Map<number, WindowCounts>> {
    const parts = await this.store.parts(m.pk, from, to);
    const out = new Map<number, WindowCounts>();
    for (const p of parts) {
      const counts: WindowCounts = { rows: Number(p.rows), cols: JSON.parse(p.counts) as Record<string, ColumnCounts> };
      const w = out.get(Number(p.window_start));
      if (w) mergeInto(w, counts);
      else out.set(Number(p.window_start), counts);
    }
    return out;
  }

  private range(m: Monitor, fromText?: unknown, toText?: unknown): { from?: number; to?: number } {
    if (m.window.kind === 'rows') {
      // Row-count windows are numbered; a range of numbers selects them.
      const num = (v: unknown) => (v === undefined || v === null || v === '' ? undefined : Number(v));
      const f = num(fromText);
      const t = num(toText);
      if ((f !== undefined && !Number.isSafeInteger(f)) || (t !== undefined && !Number.isSafeInteger(t))) throw invalid('Row-count windows are selected by number: from and to are window numbers (0, 1, ...).', { field: 'from' });
      if (f !== undefined && t !== undefined && f > t) throw invalid(`'from' is after 'to'.`, { field: 'from' });
      return { ...(f !== undefined ? { from: f } : {}), ...(t !== undefined ? { to: t } : {}) };
    }
    const from = parseBound(fromText, 'from');
    const to = parseBound(toText, 'to');
    if (from !== undefined && to !== undefined && from > to) throw invalid(`'from' is after 'to'.`, { field: 'from' });
    // Windows overlapping [from, to]: the first starts up to one window length before `from`.
    return { ...(from !== undefined ? { from: from - m.window.ms + 1 } : {}), ...(to !== undefined ? { to } : {}) };
  }

  /** One report over the windows in the range (counts add up), compared with the reference. */
  async report(name: string, opts: { from?: unknown; to?: unknown } = {}): Promise<Report> {
    const m = await this.get(name);
    const { from, to } = this.range(m, opts.from, opts.to);
    const windows = await this.windowCounts(m, from, to);
    const merged: WindowCounts = { rows: 0, cols: {} };
    for (const w of windows.values()) mergeInto(merged, w);
    const perf = await this.performance(m, from, to, merged.rows);
    return this.reportOf(m, merged, windows.size, perf, { from: opts.from, to: opts.to });
  }

  private reportOf(m: Monitor, counts: WindowCounts, windows: number, performance: Performance | null, range: { from?: unknown; to?: unknown }, base?: WindowCounts, withBins = true): Report {
    const refRows = m.reference.rows;
    const baseOf = (ref: ColumnReference) => (base ? (base.cols[ref.name] ?? emptyCounts(ref)) : { c: ref.counts, m: ref.missing, i: ref.invalid });
    const settings = (n: string) => m.settings.get(n) ?? {};
    const f = datasetDrift(m.featureRefs, refRows, (n) => baseOf(m.featureRefs.find((r) => r.name === n)!), counts, settings, m.spec.drift_share, withBins);
    const p = datasetDrift(m.predictionRefs, refRows, (n) => baseOf(m.predictionRefs.find((r) => r.name === n)!), counts, settings, 1, withBins);
    return {
      monitor: m.name,
      from: range.from === undefined || range.from === null || range.from === '' ? null : String(range.from),
      to: range.to === undefined || range.to === null || range.to === '' ? null : String(range.to),
      compared_to: base ? 'previous' : 'reference',
      windows,
      status: counts.rows > 0 ? 'ok' : 'no_data',
      rows: counts.rows,
      reference_rows: refRows,
      drift_share: f.drift_share,
      dataset_drift: f.dataset_drift,
      drift_share_threshold: m.spec.drift_share,
      drifted_features: f.drifted_features,
      features: f.features,
      predictions: p.features,
      missing_rate: f.missing_rate,
      out_of_range_rate: f.out_of_range_rate,
      performance,
    };
  }

  /** Realized performance over the labeled predictions of the windows in [from, to]. */
  private async performance(m: Monitor, from: number | undefined, to: number | undefined, rows: number): Promise<Performance | null> {
    const perWindow = await this.performanceByWindow(m, from, to, new Map([[NaN, rows]]), true);
    return perWindow.get(NaN) ?? null;
  }

  /** Performance per window (or over all of them, keyed NaN, when `merged`). */
  private async performanceByWindow(m: Monitor, from: number | undefined, to: number | undefined, rowsOf: ReadonlyMap<number, number>, merged = false): Promise<Map<number, Performance>> {
    const out = new Map<number, Performance>();
    if (m.spec.task === null) return out;
    const labeled = await this.store.labeled(m.pk, from, to);
    const groups = new Map<number, typeof labeled>();
    for (const r of labeled) {
      const k = merged ? NaN : r.window_start;
      const g = groups.get(k);
      if (g) g.push(r);
      else groups.set(k, [r]);
    }
    for (const [k, rows] of rowsOf) {
      const g = groups.get(k) ?? [];
      const coverage = rows > 0 ? Math.min(1, g.length / rows) : null;
      let metrics: Record<string, number | null>;
      if (m.spec.task === 'regression') {
        const pts = g.filter((r) => r.prediction !== null && Number.isFinite(Number(r.prediction)) && Number.isFinite(Number(r.label))).map((r) => ({ label: Number(r.label), prediction: Number(r.prediction) }));
        const x = regressionMetrics(pts);
        metrics = { mae: x.mae, rmse: x.rmse, mape: x.mape };
      } else {
        const pts = g.filter((r) => r.prediction !== null).map((r) => ({ label: r.label, prediction: r.prediction!, ...(r.score !== null ? { score: r.score } : {}) }));
        const x = classificationMetrics(pts, m.spec.positive_class ?? undefined);
        metrics = { accuracy: x.accuracy, precision: x.precision, recall: x.recall, f1: x.f1, roc_auc: x.roc_auc, log_loss: x.log_loss };
      }
      out.set(k, { task: m.spec.task, labeled: g.length, label_coverage: coverage, metrics });
    }
    return out;
  }

  /** The windows in the range, newest last: per column statistic and flag (the heatmap), and performance. */
  async windows(name: string, opts: { from?: unknown; to?: unknown; limit?: number; compare?: 'reference' | 'previous' } = {}): Promise<WindowSummary[]> {
    const m = await this.get(name);
    return this.summaries(m, opts);
  }

  private async summaries(m: Monitor, opts: { from?: unknown; to?: unknown; limit?: number; compare?: 'reference' | 'previous' }, closedOnly = false): Promise<WindowSummary[]> {
    const limit = validateMaxResults(opts.limit, 500, 5000);
    const bounds = this.range(m, opts.from, opts.to);
    const from = bounds.from;
    let to = bounds.to;
    if (closedOnly) {
      // A row-count window is closed once full; a time window once its end has passed.
      const last = m.window.kind === 'rows' ? (m.openRows >= m.window.rows ? m.openWindow : m.openWindow - 1) : Math.floor(this.deps.now() / m.window.ms) * m.window.ms - m.window.ms;
      to = to === undefined ? last : Math.min(to, last);
    }
    const starts = await this.store.windowStarts(m.pk, limit + (opts.compare === 'previous' ? 1 : 0), to);
    if (starts.length === 0) return [];
    const low = Math.max(from ?? -Infinity, starts[starts.length - 1]!);
    const windows = await this.windowCounts(m, low, to);
    const sorted = [...windows.keys()].sort((a, b) => a - b);
    const perf = await this.performanceByWindow(m, low, to, new Map(sorted.map((s) => [s, windows.get(s)!.rows])));
    const out: WindowSummary[] = [];
    sorted.forEach((start, i) => {
      const counts = windows.get(start)!;
      const base = opts.compare === 'previous' ? (i > 0 ? windows.get(sorted[i - 1]!) : undefined) : undefined;
      if (opts.compare === 'previous' && !base) return;
      const r = this.reportOf(m, counts, 1, null, {}, base, false);
      const columns: WindowSummary['columns'] = {};
      for (const [n, d] of [...Object.entries(r.features), ...Object.entries(r.predictions)]) {
        columns[n] = { method: d.method, statistic: d.statistic, drifted: d.drifted, psi: d.psi, js: d.js, wasserstein: d.wasserstein, ks_pvalue: d.ks_pvalue, missing_rate: d.missing_rate, out_of_range_rate: d.out_of_range_rate };
      }
      out.push({ start, end: windowEnd(m.window, start), rows: counts.rows, drift_share: r.drift_share, dataset_drift: r.dataset_drift, missing_rate: r.missing_rate, out_of_range_rate: r.out_of_range_rate, columns, performance: perf.get(start) ?? null });
    });
    return out.slice(-limit);
  }

  /** One window's report with its histograms (the UI's overlay), compared with the reference or the previous window. */
  async window(name: string, start: number, compare: 'reference' | 'previous' = 'reference'): Promise<Report> {
    const m = await this.get(name);
    if (!Number.isSafeInteger(start)) throw invalid('The window start must be an integer (epoch ms, or the window number).', { field: 'start' });
    const windows = await this.windowCounts(m, start, start);
    const counts = windows.get(start);
    if (!counts) throw notFound(`Monitor '${name}' has no window starting at ${start}.`);
    let base: WindowCounts | undefined;
    if (compare === 'previous') {
      const prev = (await this.store.windowStarts(m.pk, 1, start - 1))[0];
      if (prev === undefined) throw notFound(`The window starting at ${start} is the first: there is no previous window to compare with.`);
      base = (await this.windowCounts(m, prev, prev)).get(prev);
    }
    const perf = (await this.performanceByWindow(m, start, start, new Map([[start, counts.rows]]))).get(start) ?? null;
    return this.reportOf(m, counts, 1, perf, { from: new Date(start).toISOString(), to: new Date(windowEnd(m.window, start) - 1).toISOString() }, base);
  }

  async alerts(name: string, limit?: number): Promise<Alert[]> {
    const m = await this.get(name);
    const rows = await this.store.alerts(m.pk, validateMaxResults(limit, 100, 1000));
    return rows.map((r) => ({ id: Number(r.alert_pk), monitor: m.name, rule: r.rule, state: r.state as Alert['state'], value: r.value, window_start: r.window_start === null ? null : Number(r.window_start), fired_at: Number(r.fired_at), resolved_at: r.resolved_at === null ? null : Number(r.resolved_at) }));
  }

  // ------------------------------------------------------------------ rules
  private evaluating = new Map<string, Promise<void>>();

  /** Evaluates a monitor's rules after its data changed (one evaluation at a time per monitor; errors are logged by the caller). */
  evaluateSoon(name: string): Promise<void> {
    const prev = this.evaluating.get(name) ?? Promise.resolve();
    const next = prev.then(() => this.evaluate(name)).catch(() => undefined);
    this.evaluating.set(name, next);
    void next.finally(() => this.evaluating.get(name) === next && this.evaluating.delete(name));
    return next;
  }

  /** Resolves once every evaluation started so far has finished (tests). */
  async settled(): Promise<void> {
    while (this.evaluating.size > 0) await Promise.all([...this.evaluating.values()]);
  }

  /**
   * Evaluates the rules on the latest closed windows with data: a rule fires when its condition held in its last N
   * windows, and resolves at the first window where it does not (one FIRING alert per rule until it resolves).
   * Updates the Prometheus gauges with the latest window's figures.
   */
  async evaluate(name: string): Promise<void> {
    let m: Monitor;
    try {
      m = await this.get(name);
    } catch (e) {
      if (isKilnError(e) && e.code === 'RESOURCE_DOES_NOT_EXIST') return;
      throw e;
    }
    const depth = Math.max(1, ...m.rules.map((r) => r.windows));
    const windows = await this.summaries(m, { limit: depth }, true);
    const latest = windows[windows.length - 1];
    if (latest) this.deps.metrics.set(m, latest);
    const firing = await this.store.firing(m.pk);
    const now = this.deps.now();
    for (const rule of m.rules) {
      const values = windows.map((w) => ({ w, v: valueOf(rule, w) })).filter((x): x is { w: WindowSummary; v: number } => x.v !== null);
      const last = values[values.length - 1];
      const open = firing.find((a) => a.rule === rule.id);
      const breached = values.length >= rule.windows && values.slice(-rule.windows).every((x) => holds(rule.op, x.v, rule.value));
      if (breached && !open) await this.transition(m, rule, 'FIRING', last!.v, last!.w.start, now);
      else if (open && last && !holds(rule.op, last.v, rule.value)) await this.transition(m, rule, 'RESOLVED', last.v, last.w.start, now, Number(open.alert_pk));
    }
    for (const a of firing) if (!m.rules.some((r) => r.id === a.rule)) await this.transition(m, parseRule(a.rule), 'RESOLVED', null, null, now, Number(a.alert_pk));
    this.deps.metrics.alerts(m, (await this.store.firing(m.pk)).map((a) => a.rule));
  }

  private async transition(m: Monitor, rule: ParsedRule, state: 'FIRING' | 'RESOLVED', value: number | null, windowStart: number | null, now: number, alertPk?: number): Promise<void> {
    await this.deps.events.transaction(this.store.db, async (trx, emit) => {
      let id = alertPk ?? 0;
      if (state === 'FIRING') {
        // Another replica may have fired it meanwhile: one FIRING alert per rule.
        if ((await this.store.firing(m.pk, trx)).some((a) => a.rule === rule.id)) return;
        id = await this.store.insertAlert(trx, { monitor_pk: m.pk, rule: rule.id, state, value, window_start: windowStart, fired_at: now, resolved_at: null });
      } else if (!(await this.store.resolveAlert(trx, alertPk!, now))) return;
      const notice: AlertNotice = { id, kind: state === 'FIRING' ? 'monitor_alert_firing' : 'monitor_alert_resolved', monitor: m.name, model: m.model, deployment: m.deployment, rule: rule.id, value, window_start: windowStart, time: now };
      emit({ type: state === 'FIRING' ? ALERT_FIRING : ALERT_RESOLVED, actor: 'kiln', time: now, subject: m.name, subjectKind: 'monitor', data: { ...notice } });
    });
  }
}

/** The value a rule looks at in one window, or null when the window can't say (no data, no labels). */
export function valueOf(rule: ParsedRule, w: WindowSummary): number | null {
  const metric = rule.metric;
  if (metric === 'drift_share') return w.drift_share;
  if (metric === 'missing_rate') return w.missing_rate;
  if (metric === 'rows') return w.rows;
  if (metric === 'drifted_features') return Object.values(w.columns).filter((c) => c.drifted).length;
  if (metric === 'out_of_range_rate') return w.out_of_range_rate;
  if (metric.startsWith('performance.')) {
    const k = metric.slice('performance.'.length);
    if (!w.performance) return null;
    if (k === 'label_coverage') return w.performance.label_coverage;
    if (w.performance.labeled === 0) return null;
    return w.performance.metrics[k] ?? null;
  }
  const col = /^(feature|prediction):(.+)\.([A-Za-z_0-9]+)$/.exec(metric);
  if (!col) return null;
  const c = w.columns[col[2]!];
  if (!c) return null;
  switch (col[3]) {
    case 'drifted':
      return c.statistic === null ? null : c.drifted ? 1 : 0;
    case 'psi':
    case 'statistic':
    case 'js':
    case 'wasserstein':
    case 'ks_pvalue':
    case 'missing_rate':
    case 'out_of_range_rate':
      return c[col[3]];
    default:
      return null;
  }
}

function columnOf(c: string | MonitoredColumn): MonitoredColumn {
  return typeof c === 'string' ? ({ name: c } as MonitoredColumn) : c;
}

function checkSettings(c: MonitoredColumn): void {
  if (c.method !== undefined && !(DRIFT_METHODS as readonly string[]).includes(c.method)) throw invalid(`Unknown drift method '${String(c.method)}' for '${c.name}': ${DRIFT_METHODS.join(', ')}.`, { field: 'features' });
  if (c.threshold !== undefined && !Number.isFinite(c.threshold)) throw invalid(`The threshold of '${c.name}' must be a finite number.`, { field: 'features' });
  if (c.method !== undefined && c.kind === 'categorical' && (c.method === 'ks' || c.method === 'wasserstein')) throw invalid(`'${c.method}' needs a numeric column; '${c.name}' is categorical.`, { field: 'features' });
}

function firstDuplicate(names: readonly string[]): string | undefined {
  const seen = new Set<string>();
  for (const n of names) {
    if (seen.has(n)) return n;
    seen.add(n);
  }
  return undefined;
}

