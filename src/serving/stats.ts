/**
 * Rolling per-second counters of one served version: requests, failures, latencies (a log-scale histogram) and, for
 * a shadow, agreements. The canary guard and the deployment page read them; nothing here touches the database.
 */

const SLOTS = 600; // seconds kept: the longest window asked for (a guard's window may be longer: it is capped here)
// Latency buckets: upper bounds growing by 1.2 from 0.02 ms to ~10 min.
const BOUNDS: number[] = [];
for (let b = 0.02; b < 600_000; b *= 1.2) BOUNDS.push(b);

function bucketOf(ms: number): number {
  // Binary search: the first bound ≥ ms.
  let lo = 0;
  let hi = BOUNDS.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (BOUNDS[mid]! < ms) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

interface Slot {
  second: number;
  count: number;
  errors: number;
  agree: number;
  disagree: number;
  latency: Uint32Array;
}

export interface WindowFigures {
  readonly requests: number;
  readonly errors: number;
  readonly ratePerSecond: number;
  readonly errorRate: number;
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
  readonly disagreementRate: number | null;
}

export class RollingStats {
  private readonly slots: Slot[] = [];
  totalRequests = 0;
  totalErrors = 0;

  constructor(private readonly now: () => number = Date.now) {}

  private slot(): Slot {
    const second = Math.floor(this.now() / 1000);
    const i = second % SLOTS;
    let s = this.slots[i];
    if (!s) {
      s = { second, count: 0, errors: 0, agree: 0, disagree: 0, latency: new Uint32Array(BOUNDS.length + 1) };
      this.slots[i] = s;
    } else if (s.second !== second) {
      s.second = second;
      s.count = 0;
      s.errors = 0;
      s.agree = 0;
      s.disagree = 0;
      s.latency.fill(0);
    }
    return s;
  }

  record(ms: number, ok: boolean): void {
    const s = this.slot();
    s.count++;
    this.totalRequests++;
    if (!ok) {
      s.errors++;
      this.totalErrors++;
    }
    s.latency[bucketOf(ms)]!++;
  }

  /** A shadow's answer compared with the primary's. */
  compared(agrees: boolean): void {
    const s = this.slot();
    if (agrees) s.agree++;
    else s.disagree++;
  }

  /** Figures over the last `seconds` (at most 600), the current second included. */
  window(seconds: number): WindowFigures {
    const to = Math.floor(this.now() / 1000);
    const from = to - Math.min(seconds, SLOTS) + 1;
    let count = 0;
    let errors = 0;
    let agree = 0;
    let disagree = 0;
    const hist = new Float64Array(BOUNDS.length + 1);
    for (const s of this.slots) {
      if (!s || s.second < from || s.second > to) continue;
      count += s.count;
      errors += s.errors;
      agree += s.agree;
      disagree += s.disagree;
      for (let i = 0; i < hist.length; i++) hist[i]! += s.latency[i]!;
    }
    const quantile = (q: number): number | null => {
      if (count === 0) return null;
      const rank = Math.ceil(q * count);
      let seen = 0;
      for (let i = 0; i < hist.length; i++) {
        seen += hist[i]!;
        if (seen >= rank) return i < BOUNDS.length ? BOUNDS[i]! : BOUNDS[BOUNDS.length - 1]!;
      }
      return null;
    };
    const span = Math.max(1, Math.min(seconds, SLOTS));
    return {
      requests: count,
      errors,
      ratePerSecond: count / span,
      errorRate: count === 0 ? 0 : errors / count,
      p50Ms: quantile(0.5),
      p99Ms: quantile(0.99),
      disagreementRate: agree + disagree === 0 ? null : disagree / (agree + disagree),
    };
  }
}
