/** Validation of a profile against a schema (and optionally a baseline profile), TFDV-style anomalies. */
import { columnDivergence } from './divergence.js';
import { boundValue } from './schema.js';
import type { Anomaly, ColumnProfile, ColumnType, DatasetProfile, DatasetSchema, SchemaColumn, ValidationReport } from './types.js';

export interface ValidateOptions {
  /** Profile of the previous version: enables MISSING_RATE_JUMP and DISTRIBUTION_DRIFT. */
  baseline?: DatasetProfile;
  /** JS divergence above which a column has drifted (default 0.1). */
  jsThreshold?: number;
  /** Increase of the missing fraction (absolute, 0..1) that is reported (default 0.1). */
  missingRateJump?: number;
}

/** Whether data profiled as `actual` can be stored in a column declared `expected`. */
function compatible(expected: ColumnType, col: ColumnProfile): boolean {
  const actual = col.type;
  if (col.count === 0) return true; // no values: nothing contradicts the declared type
  switch (expected) {
    case 'string':
      return true; // every value has a text form
    case 'float':
      return actual === 'float' || actual === 'integer';
    case 'categorical':
      // Any column whose complete value set is known can be checked against the categories.
      return actual === 'categorical' || (col.distinct_exact && (col.top?.length ?? -1) === col.distinct);
    default:
      return actual === expected;
  }
}

const fmt = (v: unknown) => (typeof v === 'number' ? String(Math.round(v * 1e6) / 1e6) : String(v));
const pct = (x: number) => `${Math.round(x * 1000) / 10}%`;

export function validateProfile(profile: DatasetProfile, schema: DatasetSchema, opts: ValidateOptions = {}): ValidationReport {
  const jsThreshold = opts.jsThreshold ?? 0.1;
  const jump = opts.missingRateJump ?? 0.1;
  const anomalies: Anomaly[] = [];
  const add = (column: string | null, type: Anomaly['type'], severity: Anomaly['severity'], message: string, details: Record<string, unknown>) =>
    anomalies.push({ column, type, severity, message, details });

  if (profile.rows === 0 && schema.require_rows !== false) add(null, 'NO_ROWS', 'ERROR', 'the dataset has no rows', { rows: 0 });

  const byName = new Map(profile.columns.map((c) => [c.name, c]));
  const declared = new Set(schema.columns.map((c) => c.name));
  const baseline = opts.baseline ? new Map(opts.baseline.columns.map((c) => [c.name, c])) : null;
  let checked = 0;

  for (const sc of schema.columns) {
    const col = byName.get(sc.name);
    if (!col) {
      add(sc.name, 'MISSING_COLUMN', 'ERROR', `column "${sc.name}" (${sc.type}) is in the schema but not in the data`, { expected_type: sc.type });
      continue;
    }
    checked++;
    checkColumn(sc, col, add);
    const base = baseline?.get(sc.name);
    if (base) checkAgainstBaseline(col, base, jsThreshold, jump, add);
  }
  for (const col of profile.columns) {
    if (declared.has(col.name)) continue;
    if (schema.allow_extra_columns !== true) {
      add(col.name, 'NEW_COLUMN', 'WARNING', `column "${col.name}" (${col.type}) is in the data but not in the schema`, { actual_type: col.type });
    }
  }
  const errors = anomalies.filter((a) => a.severity === 'ERROR').length;
  return {
    ok: errors === 0,
    anomalies,
    statistics: { columns_checked: checked, anomalies: anomalies.length, errors, warnings: anomalies.length - errors },
  };
}

type Add = (column: string | null, type: Anomaly['type'], severity: Anomaly['severity'], message: string, details: Record<string, unknown>) => void;

function checkColumn(sc: SchemaColumn, col: ColumnProfile, add: Add): void {
  const name = sc.name;
  if (!compatible(sc.type, col)) {
    add(name, 'TYPE_MISMATCH', 'ERROR', `column "${name}": expected ${sc.type}, the data is ${col.type}`, {
      expected_type: sc.type,
      actual_type: col.type,
    });
    return;
  }
  if (!sc.nullable && col.missing > 0) {
    const total = col.count + col.missing;
    add(name, 'UNEXPECTED_NULLS', 'ERROR', `column "${name}" is not nullable but has ${col.missing} missing value${col.missing === 1 ? '' : 's'} of ${total} (${pct(col.missing / total)})`, {
      missing: col.missing,
      rows: total,
    });
  }
  // A null bound (an inferred bound that overflowed a double) is no bound.
  const min = sc.min ?? undefined;
  const max = sc.max ?? undefined;
  if ((min !== undefined || max !== undefined) && col.min !== undefined && col.min !== null && col.max !== undefined && col.max !== null) {
    const lo = boundValue(col.min);
    const hi = boundValue(col.max);
    const below = min !== undefined && lo < boundValue(min);
    const above = max !== undefined && hi > boundValue(max);
    if (below || above) {
      const parts = [];
      if (below) parts.push(`minimum ${fmt(col.min)} is below ${fmt(sc.min)}`);
      if (above) parts.push(`maximum ${fmt(col.max)} is above ${fmt(sc.max)}`);
      add(name, 'OUT_OF_RANGE', 'ERROR', `column "${name}": ${parts.join(' and ')}`, {
        observed_min: col.min,
        observed_max: col.max,
        schema_min: sc.min ?? null,
        schema_max: sc.max ?? null,
      });
    }
  }
  if (sc.type === 'categorical' && sc.categories) {
    const allowed = new Set(sc.categories);
    const values = col.categories ?? col.top ?? [];
    const unseen = values.filter((v) => !allowed.has(v.value)).sort((a, b) => b.count - a.count);
    if (unseen.length) {
      const rows = unseen.reduce((a, v) => a + v.count, 0);
      const shown = unseen.slice(0, 10).map((v) => `${JSON.stringify(v.value)} (${v.count})`).join(', ');
      add(name, 'UNSEEN_CATEGORIES', 'ERROR', `column "${name}": ${unseen.length} value${unseen.length === 1 ? '' : 's'} not in the schema's categories in ${rows} row${rows === 1 ? '' : 's'}: ${shown}${unseen.length > 10 ? ', …' : ''}`, {
        unseen: unseen.slice(0, 50),
        unseen_values: unseen.length,
        rows,
      });
    }
  }
}

function checkAgainstBaseline(col: ColumnProfile, base: ColumnProfile, jsThreshold: number, jump: number, add: Add): void {
  const name = col.name;
  const rate = (c: ColumnProfile) => (c.count + c.missing > 0 ? c.missing / (c.count + c.missing) : 0);
  const before = rate(base);
  const now = rate(col);
  if (now - before > jump) {
    add(name, 'MISSING_RATE_JUMP', 'WARNING', `column "${name}": missing values rose from ${pct(before)} to ${pct(now)}`, {
      baseline_missing_rate: before,
      missing_rate: now,
      threshold: jump,
    });
  }
  const js = columnDivergence(base, col);
  if (js !== null && js > jsThreshold) {
    add(name, 'DISTRIBUTION_DRIFT', 'WARNING', `column "${name}": distribution drifted from the baseline (Jensen–Shannon divergence ${fmt(js)} > ${jsThreshold})`, {
      js_divergence: js,
      threshold: jsThreshold,
      baseline_type: base.type,
    });
  }
}
