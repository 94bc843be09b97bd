/**
 * Special functions behind the monitoring p-values, in plain double precision and without dependencies. Each matches
 * its SciPy counterpart to 1e-9 absolute, and to 1e-9 relative in the far tails where the value is still a normal
 * double (src/monitoring/stats/stats.test.ts checks them against scripts/fixtures/monitoring-stats.py).
 */

/** Lanczos coefficients for g = 671/128, n = 14 (Numerical Recipes, 3rd ed., §6.1, as doubles): ~1e-15 relative for x > 0. */
const LANCZOS = [
  57.15623566586292, -59.59796035547549, 14.136097974741746, -0.4919138160976202, 3.399464998481189e-5, 4.652362892704858e-5, -9.837447530487956e-5,
  1.580887032249125e-4, -2.1026444172410488e-4, 2.1743961811521265e-4, -1.643181065367639e-4, 8.441822398385275e-5, -2.6190838401581408e-5,
  3.6899182659531625e-6,
];

/**
 * ln|Γ(x)| (scipy.special.gammaln): Lanczos for x > 0, the reflection formula below; +Infinity at 0 and the negative
 * integers, NaN for NaN.
 */
export function logGamma(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x === Infinity) return Infinity;
  if (x <= 0) {
    if (Number.isInteger(x)) return Infinity;
    // Γ(x)Γ(1−x) = π / sin(πx)
    return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
  }
  let y = x;
  const t = x + 5.2421875;
  let ser = 0.9999999999999971;
  for (const c of LANCZOS) ser += c / ++y;
  return (x + 0.5) * Math.log(t) - t + Math.log((2.5066282746310007 * ser) / x);
}

/** Stirling's remainder lnΓ(a) − [(a − ½)ln a − a + ½ln 2π], by its asymptotic series (error < 2e-15 for a ≥ 20). */
function stirlingRemainder(a: number): number {
  const r = 1 / (a * a);
  return (1 / a) * (1 / 12 - r * (1 / 360 - r * (1 / 1260 - r * (1 / 1680 - r / 1188))));
}

/**
 * xᵃe⁻ˣ/Γ(a), the factor that the series and the continued fraction share. For large a it is written around x = a,
 * a·(log1p(t) − t) + ½ln(a/2π) − stirling(a) with t = (x − a)/a, so that no two large logarithms cancel.
 */
function gammaPrefactor(a: number, x: number): number {
  if (a < 20) return Math.exp(a * Math.log(x) - x - logGamma(a));
  const t = (x - a) / a;
  return Math.exp(a * (Math.log1p(t) - t) + 0.5 * Math.log(a / (2 * Math.PI)) - stirlingRemainder(a));
}

const EPS = 1e-16;
const FPMIN = 1e-300;
const MAX_ITER = 1_000_000;

/**
 * Upper regularized incomplete gamma Q(a, x) = Γ(a, x)/Γ(a) (scipy.special.gammaincc), for a > 0 and x ≥ 0:
 * 1 − P by its series for x < a + 1, else Q by Lentz's continued fraction (Numerical Recipes gser / gcf, eps 1e-16).
 * Q(a, 0) = 1, Q(a, ∞) = 0; NaN for a ≤ 0, x < 0, NaN arguments, or no convergence (a beyond ~1e10).
 */
export function regularizedGammaQ(a: number, x: number): number {
  if (!(a > 0) || !(x >= 0) || a === Infinity) return NaN;
  if (x === 0) return 1;
  if (x === Infinity) return 0;
  if (x < a + 1) {
    let ap = a;
    let del = 1 / a;
    let sum = del;
    for (let i = 0; i < MAX_ITER; i++) {
      ap += 1;
      del *= x / ap;
      sum += del;
      if (Math.abs(del) < Math.abs(sum) * EPS) return 1 - sum * gammaPrefactor(a, x);
    }
    return NaN;
  }
  let b = x + 1 - a;
  let c = 1 / FPMIN;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i <= MAX_ITER; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < FPMIN) d = FPMIN;
    c = b + an / c;
    if (Math.abs(c) < FPMIN) c = FPMIN;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) <= EPS) return h * gammaPrefactor(a, x);
  }
  return NaN;
}

/** Survival function of the χ² distribution, Q(df/2, x/2) (scipy.stats.chi2.sf): 1 for x ≤ 0, NaN for df ≤ 0. */
export function chi2Sf(x: number, df: number): number {
  if (Number.isNaN(x) || !(df > 0)) return NaN;
  if (x <= 0) return 1;
  return regularizedGammaQ(df / 2, x / 2);
}

/** Two-sided normal p-value P(|Z| ≥ |z|) = erfc(|z|/√2) = Q(½, z²/2) (2·scipy.stats.norm.sf(|z|)). */
export function normalTwoSidedP(z: number): number {
  if (Number.isNaN(z)) return NaN;
  return regularizedGammaQ(0.5, (z * z) / 2);
}

/** Below this λ the cdf's theta-function series converges faster than the alternating sf series (SciPy's cutover). */
const KOLMOGOROV_CUTOVER = 0.82;

/**
 * Survival function of the limiting Kolmogorov distribution (scipy.stats.kstwobign.sf, scipy.special.kolmogorov):
 * Q(λ) = 2 Σₖ₌₁ (−1)ᵏ⁻¹ e^(−2k²λ²) for λ > 0.82; below, 1 − (√(2π)/λ) Σₖ₌₁ e^(−(2k−1)²π²/(8λ²)). Q(λ ≤ 0) = 1.
 */
export function kolmogorovSf(lambda: number): number {
  if (Number.isNaN(lambda)) return NaN;
  if (lambda <= 0) return 1;
  if (lambda <= KOLMOGOROV_CUTOVER) {
    const w = -(Math.PI * Math.PI) / (8 * lambda * lambda);
    let sum = 0;
    for (let k = 1; k < 100; k++) {
      const term = Math.exp(w * (2 * k - 1) * (2 * k - 1));
      sum += term;
      if (term <= sum * EPS) break;
    }
    return 1 - (Math.sqrt(2 * Math.PI) / lambda) * sum;
  }
  const w = -2 * lambda * lambda;
  let sum = 0;
  let sign = 1;
  for (let k = 1; k < 100; k++) {
    const term = Math.exp(w * k * k);
    sum += sign * term;
    if (term <= Math.abs(sum) * EPS) break;
    sign = -sign;
  }
  return Math.min(1, Math.max(0, 2 * sum));
}
