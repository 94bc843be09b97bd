/**
 * Counting what a Kiln deployment serves: every answered request (not only the payload log's sample) is counted in
 * memory into its monitor's open windows, and the counts are written every `flushMs` as one part per window, so
 * each replica adds its own parts and a report adds them up. The request ids of the requests the payload log samples
 * are kept with their prediction, for joining labels later.
 *
 * Columns come from the tensors: a feature is an input of the same name ([N] or [N, 1]), or column i of the model's
 * only input when it has as many columns as the monitor has features; a prediction is an output of the same name,
 * or `name[j]` for column j of a [N, C] output (the score of a probabilities output, say).
 */
import type { ServedRequest } from '../serving/payload-log.js';
import type { Tensor } from '../serving/tensor.js';
import { WindowAccumulator } from './ingest.js';
import type { Monitor } from './monitors.js';
import type { MonitorService } from './service.js';
import type { PredictionRow } from './store.js';
import { windowOf } from './windows.js';

interface Source {
  /** The counter's index in the window's accumulator. */
  readonly k: number;
  readonly from: 'in' | 'out';
  readonly tensor: number;
  readonly col: number;
  readonly width: number;
}

interface Watch {
  monitor: Monitor;
  /** Time windows: running counts since each window opened (kept until the window is over and written). */
  windows: Map<number, WindowAccumulator>;
  /** The part each running window was written to, and the windows counted into since the last flush. */
  parts: Map<number, number>;
  dirty: Set<number>;
  kept: PredictionRow[];
  /** The column sources per tensor layout (names and widths of inputs and outputs). */
  layouts: Map<string, Source[] | null>;
}

const width = (t: Tensor) => (t.dims.length >= 2 ? t.dims.slice(1).reduce((a, b) => a * b, 1) : 1);
const rowsOf = (t: Tensor) => (t.dims.length === 0 ? 1 : t.dims[0]!);

function valueAt(t: Tensor, i: number): unknown {
  const v = t.data[i];
  return typeof v === 'bigint' ? Number(v) : t.type === 'bool' ? v === 1 : v;
}

export class ServedCounter {
  private readonly watches = new Map<string, Watch[]>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private dropped = 0;

  constructor(
    private readonly service: MonitorService,
    private readonly now: () => number,
    private readonly flushMs: number,
    private readonly report: (e: unknown, what: string) => void,
  ) {}

  /** Reloads the monitors of deployments (keeping what was counted for those still there). */
  async reload(): Promise<void> {
    const monitors = await this.service.monitorsOfDeployments();
    const old = new Map([...this.watches.values()].flat().map((w) => [w.monitor.name, w]));
    this.watches.clear();
    for (const m of monitors) {
      const prev = old.get(m.name);
      const same = prev && prev.monitor.pk === m.pk && prev.monitor.lastUpdateTime === m.lastUpdateTime;
      const w: Watch = same ? prev : { monitor: m, windows: new Map(), parts: new Map(), dirty: new Set(), kept: [], layouts: new Map() };
      if (prev && !same && prev.monitor.pk === m.pk) {
        // Changed settings (rules, thresholds; the bins never change): the running windows carry on.
        w.windows = prev.windows;
        w.parts = prev.parts;
        w.dirty = prev.dirty;
        w.kept = prev.kept;
      }
      w.monitor = m;
      const list = this.watches.get(m.deployment!) ?? [];
      list.push(w);
      this.watches.set(m.deployment!, list);
    }
  }

  start(): void {
    this.timer = setInterval(() => void this.flush(), this.flushMs);
    this.timer.unref();
  }

  /** Whether requests of this deployment are watched (the serving plane keeps their tensors for us). */
  watches_(deployment: string): boolean {
    return this.watches.has(deployment);
  }

  count(r: ServedRequest): void {
    const list = this.watches.get(r.deployment);
    if (!list || r.outputs === null || r.status !== 200) return;
    for (const w of list) this.countInto(w, r);
  }

  private layout(w: Watch, r: ServedRequest): Source[] | null {
    const key = `${r.inputs.map((t) => `${t.name}:${width(t)}`).join(',')}|${r.outputs!.map((t) => `${t.name}:${width(t)}`).join(',')}`;
    let l = w.layouts.get(key);
    if (l !== undefined) return l;
    const refs = w.monitor.counted;
    const features = w.monitor.featureRefs.length;
    const sources: Source[] = [];
    const single = r.inputs.length === 1 && width(r.inputs[0]!) === features && !refs.some((f) => f.name === r.inputs[0]!.name) ? r.inputs[0]! : undefined;
    refs.forEach((ref, k) => {
      const isFeature = k < features;
      const list = isFeature ? r.inputs : r.outputs!;
      const exact = list.findIndex((t) => t.name === ref.name);
      if (exact >= 0) return void sources.push({ k, from: isFeature ? 'in' : 'out', tensor: exact, col: 0, width: width(list[exact]!) });
      if (isFeature && single) return void sources.push({ k, from: 'in', tensor: 0, col: k, width: width(single) });
      const m = /^(.+)\[(\d+)\]$/.exec(ref.name);
      if (!isFeature && m) {
        const t = list.findIndex((x) => x.name === m[1]);
        if (t >= 0 && Number(m[2]) < width(list[t]!)) return void sources.push({ k, from: 'out', tensor: t, col: Number(m[2]), width: width(list[t]!) });
      }
    });
    l = sources.length > 0 ? sources : null;
    w.layouts.set(key, l);
    return l;
  }

  private countInto(w: Watch, r: ServedRequest): void {
    const sources = this.layout(w, r);
    if (!sources) return;
    const spec = w.monitor.window;
    const start = spec.kind === 'time' ? windowOf(spec, r.time) : -1;
    let acc = w.windows.get(start);
    if (!acc) w.windows.set(start, (acc = new WindowAccumulator(w.monitor.counted)));
    w.dirty.add(start);
    const n = rowsOf(r.inputs[0]!);
    acc.rows += n;
    const counters = acc.counters;
    for (const s of sources) {
      const t = (s.from === 'in' ? r.inputs : r.outputs!)[s.tensor]!;
      const c = counters[s.k]!;
      const data = t.data;
      if (typeof data[0] === 'number' && t.type !== 'bool') {
        const d = data as Float32Array;
        for (let i = 0; i < n; i++) c.addNumber(d[i * s.width + s.col]!);
      } else for (let i = 0; i < n; i++) c.addValue(valueAt(t, i * s.width + s.col));
    }
    if (r.sampled && w.monitor.spec.predictions.length > 0) {
      const p = sources.find((s) => s.k === w.monitor.featureRefs.length);
      const score = w.monitor.spec.score;
      const sc = score === null ? undefined : sources.find((s) => w.monitor.counted[s.k]!.name === score);
      for (let i = 0; i < n && w.kept.length < 100_000; i++) {
        const out = p ? (r.outputs![p.tensor]!) : undefined;
        const sout = sc ? r.outputs![sc.tensor] : undefined;
        const score = sout && sc ? Number(valueAt(sout, i * sc.width + sc.col)) : null;
        w.kept.push({
          monitor_pk: w.monitor.pk,
          request_id: n === 1 ? r.requestId : `${r.requestId}/${i}`,
          window_start: start,
          prediction: out && p ? String(valueAt(out, i * p.width + p.col)) : null,
          score: score !== null && Number.isFinite(score) ? score : null,
          label: null,
          label_time: null,
        });
      }
    }
  }

  /** Writes what was counted since the last flush (one part per window per monitor). */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.flushNow()).catch((e) => this.report(e, 'writing served-request counts'));
    return this.flushing;
  }

  private async flushNow(): Promise<void> {
    const now = this.now();
    for (const list of this.watches.values()) {
      for (const w of list) {
        if (w.dirty.size === 0) continue;
        const dirty = [...w.dirty];
        const kept = w.kept;
        w.dirty = new Set();
        w.kept = [];
        try {
          if (w.monitor.window.kind === 'rows') {
            const acc = w.windows.get(-1)!;
            w.windows.delete(-1);
            await this.writeRows(w.monitor, acc, kept);
            continue;
          }
          // One part per window per process, rewritten with the running counts at each flush.
          for (const [i, start] of dirty.entries()) {
            // The kept predictions (each with its own window) go with the first write.
            w.parts.set(start, await this.service.writeRunning(w.monitor, start, w.windows.get(start)!, w.parts.get(start), i === 0 ? kept : []));
          }
        } catch (e) {
          this.dropped++;
          // Counted again at the next flush (the running counts are still here); kept predictions are given up.
          for (const start of dirty) w.dirty.add(start);
          this.report(e, `writing the counts of monitor '${w.monitor.name}'`);
        }
        // Windows over (and written) leave memory.
        const spec = w.monitor.window;
        if (spec.kind === 'time') {
          for (const start of [...w.windows.keys()]) {
            if (start + spec.ms < now - 2 * this.flushMs && !w.dirty.has(start)) {
              w.windows.delete(start);
              w.parts.delete(start);
            }
          }
        }
      }
    }
  }

  /** Row-count windows: a flush goes to the open window, which closes once it holds its rows. */
  private async writeRows(m: Monitor, acc: WindowAccumulator, kept: PredictionRow[]): Promise<void> {
    const fresh = await this.service.get(m.name);
    let open = fresh.openWindow;
    let rows = fresh.openRows;
    if (m.window.kind === 'rows' && rows >= m.window.rows) {
      open++;
      rows = 0;
    }
    rows += acc.rows;
    for (const k of kept) k.window_start = open;
    await this.service.write(fresh, new Map([[open, acc]]), kept, { window: open, rows });
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.flush();
  }

  get droppedFlushes(): number {
    return this.dropped;
  }
}
