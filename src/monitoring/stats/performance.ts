/**
 * Realized performance of a model from rows that carry both its prediction and the ground truth, with
 * scikit-learn's conventions (src/monitoring/stats/stats.test.ts checks them against scripts/fixtures/monitoring-stats.py).
 * Each metric also has an accumulator, to be fed row by row and read at any time.
 */

export interface ClassificationRow {
  label: string;
  prediction: string;
  /** Probability of the positive class (binary only); a row without one makes roc_auc and log_loss null. */
  score?: number | null;
}

export interface ClassificationMetrics {
  accuracy: number | null;
  precision: number | null;
  recall: number | null;
  f1: number | null;
  roc_auc: number | null;
  log_loss: number | null;
  /** Rows counted. */
  support: number;
}

export interface RegressionRow {
  label: number;
  prediction: number;
}

export interface RegressionMetrics {
  mae: number | null;
  rmse: number | null;
  /** A fraction, not a percentage. */
  mape: number | null;
  support: number;
}

/** Probabilities are clipped to [1e-15, 1 − 1e-15] for the log loss: scikit-learn's eps before 1.2 made it 'auto'. */
export const LOG_LOSS_EPS = 1e-15;
/** sklearn.metrics.mean_absolute_percentage_error's floor on |y|: np.finfo(np.float64).eps. */
export const MAPE_EPS = 2.220446049250313e-16;

const EMPTY_CLASSIFICATION: ClassificationMetrics = { accuracy: null, precision: null, recall: null, f1: null, roc_auc: null, log_loss: null, support: 0 };

/**
 * The positive class of a binary problem when none is given: '1' if seen, else 'true', else the larger of two classes
 * (string order). A window with one class only is taken as all negatives when that class is '0' or 'false' (positive
 * '1' or 'true'), else as all positives.
 */
export function defaultPositive(classes: readonly string[]): string {
  if (classes.includes('1')) return '1';
  if (classes.includes('true')) return 'true';
  if (classes.length === 1) return classes[0] === '0' ? '1' : classes[0] === 'false' ? 'true' : classes[0]!;
  return classes.reduce((a, b) => (b > a ? b : a));
}

/**
 * Accuracy, precision, recall, F1, ROC AUC and log loss, as scikit-learn computes them.
 *
 * Binary when at most two classes are seen among the labels and predictions, or when `positive` is given (then any
 * other class is a negative): precision, recall and f1 are the positive class's (average='binary', pos_label=positive,
 * zero_division=0: a ratio with a zero denominator is 0). `score` is the probability of the positive class:
 * roc_auc = roc_auc_score(label == positive, score), ties at mid-rank (Mann–Whitney), null when a row has no score or
 * the labels hold one class only; log_loss = log_loss(label == positive, clip(score, 1e-15, 1 − 1e-15)), the natural-log
 * mean, null when a row has no score.
 *
 * Multiclass otherwise: macro averages over the sorted union of labels and predictions (average='macro',
 * zero_division=0); roc_auc and log_loss null. accuracy = accuracy_score either way. No rows: every metric null.
 */
export function classificationMetrics(rows: Iterable<ClassificationRow>, positive?: string): ClassificationMetrics {
  const acc = new ClassificationAccumulator();
  for (const r of rows) acc.add(r);
  return acc.result(positive);
}

/** classificationMetrics, fed one row at a time. Keeps a confusion matrix and, while every row has one, the scores. */
export class ClassificationAccumulator {
  /** label → prediction → count */
  private readonly confusion = new Map<string, Map<string, number>>();
  private readonly predicted = new Set<string>();
  private labels: string[] | null = [];
  private scores: number[] | null = [];
  private n = 0;

  /** Counts a row; rows whose label or prediction is not a string are skipped. */
  add(row: ClassificationRow): void {
    const { label, prediction, score } = row;
    if (typeof label !== 'string' || typeof prediction !== 'string') return;
    this.n++;
    let byPrediction = this.confusion.get(label);
    if (!byPrediction) this.confusion.set(label, (byPrediction = new Map()));
    byPrediction.set(prediction, (byPrediction.get(prediction) ?? 0) + 1);
    this.predicted.add(prediction);
    if (this.scores && this.labels) {
      if (typeof score === 'number' && Number.isFinite(score)) {
        this.scores.push(score);
        this.labels.push(label);
      } else {
        this.scores = null;
        this.labels = null;
      }
    }
  }

  get support(): number {
    return this.n;
  }

  result(positive?: string): ClassificationMetrics {
    if (this.n === 0) return { ...EMPTY_CLASSIFICATION };
    const classes = [...new Set([...this.confusion.keys(), ...this.predicted])].sort();
    const count = (label: string, prediction: string) => this.confusion.get(label)?.get(prediction) ?? 0;
    let correct = 0;
    for (const c of classes) correct += count(c, c);
    const accuracy = correct / this.n;
    const ratio = (a: number, b: number) => (b > 0 ? a / b : 0);
    const fScore = (p: number, r: number) => (p + r > 0 ? (2 * p * r) / (p + r) : 0);

    if (positive === undefined && classes.length > 2) {
      let precision = 0;
      let recall = 0;
      let f1 = 0;
      for (const c of classes) {
        const tp = count(c, c);
        let asPredicted = 0;
        let asLabel = 0;
        for (const o of classes) {
          asPredicted += count(o, c);
          asLabel += count(c, o);
        }
        const p = ratio(tp, asPredicted);
        const r = ratio(tp, asLabel);
        precision += p;
        recall += r;
        f1 += fScore(p, r);
      }
      const k = classes.length;
      return { accuracy, precision: precision / k, recall: recall / k, f1: f1 / k, roc_auc: null, log_loss: null, support: this.n };
    }

    const pos = positive ?? defaultPositive(classes);
    let tp = 0;
    let fp = 0;
    let fn = 0;
    for (const c of classes) {
      if (c === pos) continue;
      fp += count(c, pos);
      fn += count(pos, c);
    }
    tp = count(pos, pos);
    const precision = ratio(tp, tp + fp);
    const recall = ratio(tp, tp + fn);
    let rocAuc: number | null = null;
    let logLoss: number | null = null;
    if (this.scores && this.labels) {
      const isPositive = this.labels.map((l) => l === pos);
      rocAuc = rocAucScore(isPositive, this.scores);
      logLoss = binaryLogLoss(isPositive, this.scores);
    }
    return { accuracy, precision, recall, f1: fScore(precision, recall), roc_auc: rocAuc, log_loss: logLoss, support: this.n };
  }
}

/**
 * Area under the ROC curve, sklearn.metrics.roc_auc_score for binary labels: the Mann–Whitney U over n₁·n₀, tied
 * scores at their mid-rank (the trapezoid that roc_curve draws through a tie). Null when either class is absent.
 */
export function rocAucScore(isPositive: readonly boolean[], scores: readonly number[]): number | null {
  const n = scores.length;
  let nPos = 0;
  for (let i = 0; i < n; i++) if (isPositive[i]) nPos++;
  const nNeg = n - nPos;
  if (nPos === 0 || nNeg === 0) return null;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[a]! - scores[b]!);
  let rankSum = 0;
  for (let i = 0; i < n; ) {
    let j = i + 1;
    while (j < n && scores[order[j]!] === scores[order[i]!]) j++;
    // ranks i + 1 … j share their mean
    const midRank = (i + 1 + j) / 2;
    for (let t = i; t < j; t++) if (isPositive[order[t]!]) rankSum += midRank;
    i = j;
  }
  return (rankSum - (nPos * (nPos + 1)) / 2) / (nPos * nNeg);
}

/** Mean −ln of the probability given to the true class, probabilities clipped to [1e-15, 1 − 1e-15] (LOG_LOSS_EPS). */
export function binaryLogLoss(isPositive: readonly boolean[], scores: readonly number[]): number | null {
  const n = scores.length;
  if (n === 0) return null;
  let s = 0;
  for (let i = 0; i < n; i++) {
    const p = Math.min(1 - LOG_LOSS_EPS, Math.max(LOG_LOSS_EPS, scores[i]!));
    s -= Math.log(isPositive[i] ? p : 1 - p);
  }
  return s / n;
}

/**
 * Mean absolute error, root mean squared error and mean absolute percentage error (sklearn's mean_absolute_error,
 * mean_squared_error(squared=False), mean_absolute_percentage_error: Σ|y − ŷ|/max(|y|, 2.22e-16) / n, a fraction).
 * Rows whose label or prediction is not a finite number are skipped; no rows: every metric null.
 */
export function regressionMetrics(rows: Iterable<RegressionRow>): RegressionMetrics {
  const acc = new RegressionAccumulator();
  for (const r of rows) acc.add(r);
  return acc.result();
}

/** regressionMetrics, fed one row at a time: three running sums. */
export class RegressionAccumulator {
  private n = 0;
  private absErr = 0;
  private sqErr = 0;
  private pctErr = 0;

  add(row: RegressionRow): void {
    const { label, prediction } = row;
    if (!Number.isFinite(label) || !Number.isFinite(prediction)) return;
    const e = Math.abs(prediction - label);
    this.n++;
    this.absErr += e;
    this.sqErr += e * e;
    this.pctErr += e / Math.max(Math.abs(label), MAPE_EPS);
  }

  get support(): number {
    return this.n;
  }

  result(): RegressionMetrics {
    const n = this.n;
    if (n === 0) return { mae: null, rmse: null, mape: null, support: 0 };
    return { mae: this.absErr / n, rmse: Math.sqrt(this.sqErr / n), mape: this.pctErr / n, support: n };
  }
}
