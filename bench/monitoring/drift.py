#!/usr/bin/env python3
"""The drift figures a monitoring report shows, computed the usual way on raw rows with NumPy, pandas and SciPy.

Reference: REF_ROWS rows x FEATURES float features; current windows of each size in SIZES (the same features, 10 of
them shifted by 0.3 standard deviations, 5 scaled by 1.5). Both are pandas DataFrames with contiguous float64
columns (as read_csv gives them), generated here from a fixed seed. Per feature:

- PSI on the reference's deciles (outer edges open), proportions floored at 1e-4, natural log;
- Jensen-Shannon distance (base 2) of the same decile histograms (scipy.spatial.distance.jensenshannon);
- two-sample Kolmogorov-Smirnov (scipy.stats.ks_2samp);
- Wasserstein distance (scipy.stats.wasserstein_distance) divided by the reference's standard deviation.

Only the drift computation is timed (the reference's deciles included, as a script computing drift from the raw
reference would); the median of `repeats` runs per size (3 below 5,000,000 rows, then 1 unless told). Windows of
5,000,000 rows or more time the first `large_features` features only (default all) and scale the time to FEATURES:
each feature is the same work (same sizes, same distribution), and all 50 at 10M rows take about 10 minutes here.
Prints one JSON document.

    python3 bench/monitoring/drift.py '{"features": 50, "ref_rows": 100000, "sizes": [10000, 1000000], "seed": 42}'
"""
import json
import sys
import time

import numpy as np
import pandas as pd
import scipy
from scipy import stats
from scipy.spatial import distance

opts = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
FEATURES = int(opts.get('features', 50))
REF_ROWS = int(opts.get('ref_rows', 100_000))
SIZES = [int(s) for s in opts.get('sizes', [10_000, 1_000_000, 10_000_000])]
SEED = int(opts.get('seed', 42))
BINS = int(opts.get('bins', 10))
LARGE = 5_000_000
LARGE_FEATURES = min(FEATURES, int(opts.get('large_features', FEATURES)))


def frame(rng: np.random.Generator, rows: int, features: int, drifted: bool) -> pd.DataFrame:
    # (features, rows) C-order, transposed: each column of the DataFrame is contiguous, as read_csv leaves them.
    x = rng.standard_normal((features, rows))
    if drifted:
        x[:10] += 0.3
        x[10:15] *= 1.5
    return pd.DataFrame(x.T, columns=[f'f{i}' for i in range(features)], copy=False)


def drift(ref: pd.DataFrame, cur: pd.DataFrame) -> dict:
    out = {}
    for c in cur.columns:
        r = ref[c].to_numpy()
        x = cur[c].to_numpy()
        edges = np.quantile(r, np.linspace(0, 1, BINS + 1))
        edges[0], edges[-1] = -np.inf, np.inf
        p = np.histogram(r, edges)[0] / len(r)
        q = np.histogram(x, edges)[0] / len(x)
        pf, qf = np.maximum(p, 1e-4), np.maximum(q, 1e-4)
        psi = float(np.sum((qf - pf) * np.log(qf / pf)))
        js = float(distance.jensenshannon(p, q, base=2))
        ks = stats.ks_2samp(r, x)
        w = float(stats.wasserstein_distance(r, x) / np.std(r))
        out[c] = (psi, js, float(ks.statistic), float(ks.pvalue), w)
    return out


rng = np.random.default_rng(SEED)
reference = frame(rng, REF_ROWS, FEATURES, False)
results = []
for n in SIZES:
    timed = FEATURES if n < LARGE else LARGE_FEATURES
    current = frame(rng, n, timed, True)
    repeats = int(opts.get('repeats', 3 if n < LARGE else 1))
    times = []
    figures = {}
    for _ in range(repeats):
        t0 = time.perf_counter()
        figures = drift(reference, current)
        times.append((time.perf_counter() - t0) * 1000)
    del current
    wass = [f[4] for f in figures.values()]
    results.append({
        'rows': n,
        'repeats': repeats,
        'timed_features': timed,
        'median_ms': round(float(np.median(times)) * FEATURES / timed, 1),
        'measured_ms': [round(t, 1) for t in times],
        # What was computed (the drifted features stand out).
        'timed_features_wasserstein_ge_0_1': sum(1 for v in wass if v >= 0.1),
        'max_psi': round(max(f[0] for f in figures.values()), 4),
        'f0': dict(zip(['psi', 'js', 'ks_statistic', 'ks_pvalue', 'wasserstein_norm'], [round(v, 6) for v in figures['f0']])),
    })

print(json.dumps({
    'python': sys.version.split()[0],
    'numpy': np.__version__,
    'pandas': pd.__version__,
    'scipy': scipy.__version__,
    'features': FEATURES,
    'reference_rows': REF_ROWS,
    'bins': BINS,
    'seed': SEED,
    'sizes': results,
}))
