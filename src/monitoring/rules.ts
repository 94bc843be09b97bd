/**
 * Alert rules: `drift_share > 0.5`, `feature:temp_max.psi > 0.25`, `prediction:label.js >= 0.1`,
 * `performance.accuracy < 0.8`, `missing_rate > 0.05`, each optionally `for N windows` (consecutive windows with data).
 */
import { invalid } from '../platform/errors.js';

export type Op = '>' | '>=' | '<' | '<=' | '==' | '!=';

export interface ParsedRule {
  readonly id: string;
  readonly text: string;
  /** drift_share | missing_rate | out_of_range_rate | rows | feature:<name>.<figure> | prediction:<name>.<figure> | performance.<metric> */
  readonly metric: string;
  readonly op: Op;
  readonly value: number;
  readonly windows: number;
}

export const COLUMN_FIGURES = ['psi', 'js', 'wasserstein', 'ks_pvalue', 'statistic', 'drifted', 'missing_rate', 'out_of_range_rate'] as const;
export const DATASET_FIGURES = ['drift_share', 'drifted_features', 'missing_rate', 'out_of_range_rate', 'rows'] as const;
export const PERFORMANCE_METRICS = ['accuracy', 'precision', 'recall', 'f1', 'roc_auc', 'log_loss', 'mae', 'rmse', 'mape', 'label_coverage'] as const;

const RULE_RE = /^\s*([A-Za-z_]+(?::[^\s.][^\s]*?)?(?:\.[A-Za-z_0-9]+)?)\s*(>=|<=|==|!=|>|<)\s*(-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)\s*(?:for\s+(\d{1,4})\s+(?:consecutive\s+)?windows?)?\s*$/;

export function parseRule(text: unknown): ParsedRule {
  const t = typeof text === 'string' ? text : '';
  const m = RULE_RE.exec(t);
  const help = 'expected METRIC OP NUMBER [for N windows], METRIC being drift_share, missing_rate, out_of_range_rate, rows, feature:NAME.FIGURE, prediction:NAME.FIGURE or performance.METRIC';
  if (!m) throw invalid(`Invalid rule ${JSON.stringify(t).slice(0, 120)}: ${help}.`, { field: 'rules' });
  const metric = m[1]!;
  const col = /^(feature|prediction):(.+)\.([A-Za-z_0-9]+)$/.exec(metric);
  if (col) {
    if (!(COLUMN_FIGURES as readonly string[]).includes(col[3]!)) throw invalid(`Invalid rule '${t}': a column's figure is one of ${COLUMN_FIGURES.join(', ')}.`, { field: 'rules' });
  } else if (metric.startsWith('performance.')) {
    const p = metric.slice('performance.'.length);
    if (!(PERFORMANCE_METRICS as readonly string[]).includes(p)) throw invalid(`Invalid rule '${t}': performance metrics are ${PERFORMANCE_METRICS.join(', ')}.`, { field: 'rules' });
  } else if (!(DATASET_FIGURES as readonly string[]).includes(metric)) throw invalid(`Invalid rule '${t}': ${help}.`, { field: 'rules' });
  const value = Number(m[3]);
  const windows = m[4] === undefined ? 1 : Number(m[4]);
  if (windows < 1 || windows > 1000) throw invalid(`Invalid rule '${t}': "for N windows" takes 1 to 1000.`, { field: 'rules' });
  const id = `${metric} ${m[2]} ${value}${windows > 1 ? ` for ${windows} windows` : ''}`;
  return { id, text: t.trim(), metric, op: m[2] as Op, value, windows };
}

export function holds(op: Op, x: number, v: number): boolean {
  switch (op) {
    case '>':
      return x > v;
    case '>=':
      return x >= v;
    case '<':
      return x < v;
    case '<=':
      return x <= v;
    case '==':
      return x === v;
    case '!=':
      return x !== v;
  }
}
