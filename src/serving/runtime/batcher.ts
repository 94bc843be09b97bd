/**
 * Dynamic batching for one model version, as Triton's dynamic batcher does it: requests that wait together are run
 * as one batch, concatenated along the first (rows) dimension, and each caller gets exactly its own rows back.
 *
 * A batch leaves the queue when it holds maxBatchSize rows, when its oldest request has waited maxQueueDelayMs, or,
 * with maxQueueDelayMs 0, as soon as a dispatch slot is free: then whatever queued while the previous batch ran forms
 * the next one (no added latency at low load, large batches under load). A request with more rows than
 * maxBatchSize runs alone, never split. Requests are mixed only when their input names, types and inner dimensions
 * and the outputs they ask for are the same.
 *
 * The model must keep the batch dimension: every output's first dimension must be the batch's row count. A model
 * that reduces over the batch (its output has one row for the whole batch) fails those calls with INVALID_STATE
 * and must be served with `batchable: false`, where each request runs alone (still queued and bounded).
 */
import { KilnError, invalid, isKilnError } from '../../platform/errors.js';
import { arrayTypeOf, elementCount, type ElementType, type Tensor, type TensorData } from '../tensor.js';

export type RunFn = (inputs: Tensor[], outputNames?: readonly string[]) => Promise<Tensor[]>;

export interface BatcherOptions {
  /** Most rows in one batch (a single larger request still runs, alone). */
  readonly maxBatchSize: number;
  /** How long the oldest request may wait for others; 0 = dispatch as soon as a slot is free. */
  readonly maxQueueDelayMs: number;
  /** Most requests waiting (not yet running); more → TEMPORARILY_UNAVAILABLE (503, Retry-After). */
  readonly maxQueueSize: number;
  /** Longest wait in the queue; a request that has started running is not cut off. */
  readonly timeoutMs: number;
  /** false: each request runs alone. */
  readonly batchable: boolean;
  /** Batches running at once; default 1 (give the session's worker count). */
  readonly maxConcurrentBatches?: number;
  /** Named in error messages; default 'model'. */
  readonly name?: string;
  /** Called as each batch starts (for metrics). */
  readonly onBatch?: (rows: number, requests: number) => void;
}

export interface BatchResult {
  readonly outputs: Tensor[];
  /** From submit to the start of its batch. */
  readonly queueMs: number;
  /** The batch's run. */
  readonly inferMs: number;
  /** Rows of the batch it ran in. */
  readonly batchRows: number;
}

interface Req {
  readonly inputs: Tensor[];
  readonly outputNames: readonly string[] | undefined;
  readonly rows: number;
  readonly enqueued: number;
  readonly resolve: (r: BatchResult) => void;
  readonly reject: (e: Error) => void;
  timer?: NodeJS.Timeout;
  group?: Group;
}

interface Group {
  readonly key: string;
  readonly reqs: Req[];
  rows: number;
}

const retryLater = (message: string) => new KilnError('TEMPORARILY_UNAVAILABLE', message, { retry_after_seconds: 1 });

export class Batcher {
  private readonly groups = new Map<string, Group>();
  private readonly slots: number;
  private readonly name: string;
  private queued = 0;
  private active = 0;
  private closing = false;
  private idle: (() => void) | null = null;
  private closed: Promise<void> | undefined;
  private delayTimer: NodeJS.Timeout | undefined;
  /** Batches run and requests answered, for measurements. */
  readonly counts = { batches: 0, requests: 0, rows: 0 };

  constructor(
    private readonly run: RunFn,
    private readonly opts: BatcherOptions,
  ) {
    if (!(opts.maxBatchSize >= 1)) throw invalid('maxBatchSize must be at least 1');
    if (!(opts.maxQueueDelayMs >= 0)) throw invalid('maxQueueDelayMs must be 0 or more');
    if (!(opts.maxQueueSize >= 1)) throw invalid('maxQueueSize must be at least 1');
    if (!(opts.timeoutMs > 0)) throw invalid('timeoutMs must be a positive number of milliseconds');
    this.slots = Math.max(1, Math.floor(opts.maxConcurrentBatches ?? 1));
    this.name = opts.name ?? 'model';
  }

  /** Requests waiting for a batch. */
  get pending(): number {
    return this.queued;
  }

  /** Batches running. */
  get running(): number {
    return this.active;
  }

  /**
   * Queues a request. Its inputs may be transferred (detached) when it runs in a batch of its own; see
   * ModelSession.run. Queue full or closing → TEMPORARILY_UNAVAILABLE (503); waiting past timeoutMs →
   * TEMPORARILY_UNAVAILABLE "... timed out in the queue"; inputs without a common first dimension (batchable) →
   * INVALID_PARAMETER_VALUE.
   */
  submit(inputs: Tensor[], outputNames?: readonly string[]): Promise<BatchResult> {
    if (this.closing) return Promise.reject(retryLater(`model '${this.name}' is shutting down`));
    if (this.queued >= this.opts.maxQueueSize) {
      return Promise.reject(retryLater(`the queue of model '${this.name}' is full (${this.opts.maxQueueSize} requests waiting); try again`));
    }
    let rows: number;
    let key = '';
    if (this.opts.batchable) {
      rows = inputs[0]?.dims[0] ?? 0;
      for (const t of inputs) {
        if (t.dims.length === 0 || t.dims[0] !== rows) {
          return Promise.reject(invalid(`model '${this.name}' batches along the first dimension: every input needs the same first dimension (input '${t.name}' has shape [${t.dims.join(', ')}], expected ${rows} rows)`));
        }
        if (t.data.length !== elementCount(t.dims)) {
          return Promise.reject(invalid(`input '${t.name}' has ${t.data.length} values for shape [${t.dims.join(', ')}]`));
        }
      }
      key = JSON.stringify([inputs.map((t) => [t.name, t.type, t.dims.slice(1)]), outputNames ?? null]);
    } else {
      rows = inputs[0]?.dims[0] ?? 1;
    }
    return new Promise<BatchResult>((resolve, reject) => {
      const req: Req = { inputs, outputNames, rows, enqueued: performance.now(), resolve, reject };
      let g = this.groups.get(key);
      if (!g) this.groups.set(key, (g = { key, reqs: [], rows: 0 }));
      g.reqs.push(req);
      g.rows += rows;
      req.group = g;
      this.queued++;
      if (Number.isFinite(this.opts.timeoutMs)) req.timer = setTimeout(() => this.expire(req), this.opts.timeoutMs);
      this.pump();
    });
  }

  /** Stops taking requests; resolves once everything queued has run. */
  close(): Promise<void> {
    if (!this.closed) {
      this.closing = true;
      this.closed = new Promise<void>((r) => (this.idle = r));
      this.pump();
    }
    return this.closed;
  }

  private expire(req: Req): void {
    const g = req.group;
    if (!g) return;
    const i = g.reqs.indexOf(req);
    if (i < 0) return;
    this.unqueue(g, i);
    req.reject(retryLater(`the request timed out in the queue of model '${this.name}' after ${this.opts.timeoutMs} ms`));
    this.pump();
  }

  private unqueue(g: Group, i: number): Req {
    const [req] = g.reqs.splice(i, 1) as [Req];
    g.rows -= req.rows;
    if (g.reqs.length === 0) this.groups.delete(g.key);
    this.queued--;
    if (req.timer) clearTimeout(req.timer);
    req.group = undefined;
    return req;
  }

  private pump(): void {
    if (this.delayTimer) {
      clearTimeout(this.delayTimer);
      this.delayTimer = undefined;
    }
    const { maxBatchSize, maxQueueDelayMs, batchable } = this.opts;
    while (this.active < this.slots && this.queued > 0) {
      const now = performance.now();
      let pick: Group | undefined;
      let nextDue = Infinity;
      for (const g of this.groups.values()) {
        const head = g.reqs[0] as Req;
        const due = head.enqueued + maxQueueDelayMs;
        if (!batchable || this.closing || maxQueueDelayMs <= 0 || g.rows >= maxBatchSize || due <= now) {
          if (!pick || head.enqueued < (pick.reqs[0] as Req).enqueued) pick = g;
        } else nextDue = Math.min(nextDue, due);
      }
      if (!pick) {
        this.delayTimer = setTimeout(() => this.pump(), Math.max(0, nextDue - now));
        return;
      }
      const batch: Req[] = [];
      let rows = 0;
      do {
        const next = pick.reqs[0] as Req;
        if (batch.length > 0 && (!batchable || rows + next.rows > maxBatchSize)) break;
        batch.push(this.unqueue(pick, 0));
        rows += next.rows;
      } while (pick.reqs.length > 0);
      this.dispatch(batch, rows);
    }
    if (this.closing && this.idle && this.queued === 0 && this.active === 0) {
      const idle = this.idle;
      this.idle = null;
      idle();
    }
  }

  private dispatch(batch: Req[], rows: number): void {
    this.active++;
    this.counts.batches++;
    this.counts.requests += batch.length;
    this.counts.rows += rows;
    this.opts.onBatch?.(rows, batch.length);
    const first = batch[0] as Req;
    void this.execute(batch, rows, first.outputNames).finally(() => {
      this.active--;
      this.pump();
    });
  }

  private async execute(batch: Req[], rows: number, outputNames: readonly string[] | undefined): Promise<void> {
    const started = performance.now();
    let outputs: Tensor[];
    try {
      outputs = await this.run(batch.length === 1 ? (batch[0] as Req).inputs : concat(batch, rows), outputNames);
    } catch (e) {
      // One caller's values may be what the model cannot compute: run each alone so that only that caller fails.
      if (batch.length > 1 && isKilnError(e) && e.code === 'INVALID_PARAMETER_VALUE') return this.isolate(batch);
      for (const r of batch) r.reject(e as Error);
      return;
    }
    this.deliver(batch, rows, outputs, started, performance.now() - started);
  }

  private async isolate(batch: Req[]): Promise<void> {
    for (const r of batch) {
      const started = performance.now();
      try {
        const outputs = await this.run(r.inputs, r.outputNames);
        this.deliver([r], r.rows, outputs, started, performance.now() - started);
      } catch (e) {
        r.reject(e as Error);
      }
    }
  }

  private deliver(batch: Req[], rows: number, outputs: Tensor[], started: number, inferMs: number): void {
    if (this.opts.batchable) {
      const odd = outputs.find((o) => o.dims[0] !== rows);
      if (odd) {
        const err = new KilnError(
          'INVALID_STATE',
          `model '${this.name}' cannot be batched: its output '${odd.name}' has shape [${odd.dims.join(', ')}] for a batch of ${rows} rows (the first dimension must be the rows); serve it with batching off`,
        );
        for (const r of batch) r.reject(err);
        return;
      }
    }
    if (batch.length === 1) {
      const r = batch[0] as Req;
      r.resolve({ outputs, queueMs: started - r.enqueued, inferMs, batchRows: rows });
      return;
    }
    let offset = 0;
    for (const r of batch) {
      const own = outputs.map((o) => rowsOf(o, offset, r.rows));
      offset += r.rows;
      r.resolve({ outputs: own, queueMs: started - r.enqueued, inferMs, batchRows: rows });
    }
  }
}

/** The batch's inputs: each request's tensors concatenated along the first dimension (one allocation per input). */
function concat(batch: readonly Req[], rows: number): Tensor[] {
  const first = (batch[0] as Req).inputs;
  return first.map((t, i) => {
    const inner = t.dims.slice(1);
    const rowSize = elementCount(inner);
    let data: TensorData;
    if (t.type === 'string') {
      const out: string[] = [];
      for (const r of batch) for (const s of (r.inputs[i] as Tensor).data as string[]) out.push(s);
      data = out;
    } else {
      const Ctor = arrayTypeOf(t.type as Exclude<ElementType, 'string'>);
      const out = new Ctor(rows * rowSize) as TensorData & { set(a: ArrayLike<unknown>, offset: number): void };
      let at = 0;
      for (const r of batch) {
        const d = (r.inputs[i] as Tensor).data;
        out.set(d as ArrayLike<unknown>, at);
        at += d.length;
      }
      data = out;
    }
    return { name: t.name, type: t.type, dims: [rows, ...inner], data };
  });
}

/** Rows [from, from + count) of an output, in a buffer of their own. */
function rowsOf(t: Tensor, from: number, count: number): Tensor {
  const rowSize = elementCount(t.dims.slice(1));
  const data = t.data.slice(from * rowSize, (from + count) * rowSize) as TensorData;
  return { name: t.name, type: t.type, dims: [count, ...t.dims.slice(1)], data };
}
