/**
 * The serving plane of one process: for each deployment, a routing plan (targets with weights, shadow, sticky
 * header, batching) over loaded model versions. A changed deployment gets a new plan whose versions are loaded and
 * warmed first; then the plan is swapped in one assignment, so requests already routed finish on the old versions
 * and no request sees a half-built plan. Protocol routes (OIP REST and gRPC, MLflow scoring) call `infer`.
 */
import { createHash, randomUUID } from 'node:crypto';
import { KilnError, notFound } from '../platform/errors.js';
import type { Logger } from '../platform/logging.js';
import type { RegistryService } from '../registry/service.js';
import type { Deployment, DeploymentService } from './deployments.js';
import { notServableReason } from './deployments.js';
import type { ModelLoader } from './loader.js';
import type { ServingMetrics } from './metrics.js';
import type { PayloadLog, ServedRequest } from './payload-log.js';
import { RollingStats } from './stats.js';
import type { Tensor, TensorSpec } from './tensor.js';
import { checkInputs, selectOutputs, firstDimDynamic } from './protocol/check.js';
import { Batcher } from './runtime/batcher.js';
import type { Loader, ModelHost } from './runtime/host.js';
import type { Signature } from '../registry/schemas.js';

/** One model version as a deployment serves it: its inputs and outputs, and the batcher in front of its sessions. */
export class Unit {
  readonly stats = new RollingStats();
  private batcher: Batcher | undefined;
  private closed = false;

  constructor(
    readonly deployment: string,
    readonly name: string,
    readonly version: number,
    /** The host's key: the model file and the session settings. */
    readonly key: string,
    readonly inputs: readonly TensorSpec[],
    readonly outputs: readonly TensorSpec[],
    readonly signature: Signature | undefined,
    private readonly config: Deployment['config'],
    private readonly host: ModelHost,
    private readonly load: Loader,
    private readonly metrics: ServingMetrics,
    /** How long a request waits for its version to load before it answers 503 (Retry-After). */
    private readonly loadWaitMs: number,
  ) {}

  /** Loads the model (shared with other units of the same file and settings) and waits until it is ready. */
  async warm(timeoutMs: number): Promise<void> {
    (await this.host.acquire(this.key, this.load, { timeoutMs })).release();
  }

  state(): { state: string; error?: string } {
    const s = this.host.state(this.key);
    return s.state === 'failed' ? { state: 'failed', error: s.error } : { state: s.state };
  }

  private batcherOf(): Batcher {
    if (this.batcher) return this.batcher;
    const b = this.config.batching;
    const labels = this.metrics.unit(this.deployment, String(this.version));
    this.batcher = new Batcher(
      async (inputs, outputNames) => {
        const lease = await this.host.acquire(this.key, this.load);
        try {
          return await lease.session.run(inputs, outputNames);
        } finally {
          lease.release();
        }
      },
      {
        maxBatchSize: b.enabled ? b.max_batch_size : 1,
        maxQueueDelayMs: b.max_queue_delay_ms,
        maxQueueSize: b.max_queue_size,
        timeoutMs: b.timeout_ms,
        batchable: b.enabled && firstDimDynamic(this.inputs),
        maxConcurrentBatches: this.config.resources.sessions,
        onBatch: (rows) => labels.batchSize.observe(rows),
      },
    );
    return this.batcher;
  }

  get pending(): number {
    return this.batcher?.pending ?? 0;
  }

  async run(inputs: Tensor[], outputNames: readonly string[] | undefined): Promise<{ outputs: Tensor[]; queueMs: number; inferMs: number }> {
    if (this.closed) throw new KilnError('TEMPORARILY_UNAVAILABLE', `Version ${this.version} of '${this.name}' is being replaced; retry.`, { retry_after_seconds: 1 });
    // Loaded (or loading, waited for a bounded time: then 503 with Retry-After) before the request queues.
    if (this.host.state(this.key).state !== 'ready') (await this.host.acquire(this.key, this.load, { timeoutMs: this.loadWaitMs })).release();
    return this.batcherOf().submit(inputs, outputNames);
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.batcher?.close();
  }
}

/** How long a changed deployment's new versions may take to load before the change is given up (the old plan stays). */
const WARM_TIMEOUT_MS = 300_000;

interface Plan {
  readonly deployment: Deployment;
  readonly targets: readonly { readonly unit: Unit; readonly weight: number }[];
  readonly totalWeight: number;
  readonly shadow: { readonly unit: Unit; readonly fraction: number } | undefined;
}

export interface InferContext {
  readonly protocol: ServedRequest['protocol'];
  readonly requestId?: string;
  /** The value of the deployment's sticky header, when the request has it. */
  readonly header: (name: string) => string | undefined;
}

export interface InferResult {
  readonly requestId: string;
  readonly model: string;
  readonly version: number;
  readonly outputs: Tensor[];
}

/** What a served request hands to hooks after its response (the monitoring seam). */
export type ServedHook = (r: ServedRequest) => void;

export class ServingPlane {
  private readonly plans = new Map<string, Plan>();
  private readonly building = new Map<string, Promise<void>>();
  private readonly hooks = new Map<ServedHook, ((deployment: string) => boolean) | undefined>();
  private closed = false;

  constructor(
    private readonly deployments: DeploymentService,
    private readonly registry: RegistryService,
    private readonly host: ModelHost,
    private readonly loader: ModelLoader,
    private readonly payloads: PayloadLog,
    private readonly metrics: ServingMetrics,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
    /** How long a request waits for its version to load before it answers 503 with Retry-After. */
    private readonly loadWaitMs = 5_000,
  ) {}

  /**
   * Called after each answered request, with its decoded inputs and outputs (after the response was sent); only for
   * the deployments `wants` accepts, when given (the others' tensors are then not kept for it).
   */
  onServed(hook: ServedHook, wants?: (deployment: string) => boolean): () => void {
    this.hooks.set(hook, wants);
    return () => this.hooks.delete(hook);
  }

  /** Whether a hook wants the requests of this deployment. */
  private watched(deployment: string): boolean {
    for (const wants of this.hooks.values()) if (!wants || wants(deployment)) return true;
    return false;
  }

  /** Builds the plans of every deployment (models load lazily, at their first request). */
  async loadAll(): Promise<void> {
    const all = await this.deployments.all();
    for (const d of all) await this.refresh(d.name, false);
  }

  /** Rebuilds one deployment's plan after a change (warming its new versions first when `warm`). */
  refresh(name: string, warm = true): Promise<void> {
    const previous = this.building.get(name) ?? Promise.resolve();
    const next = previous.then(() => this.rebuild(name, warm)).catch((e) => this.logger.error({ err: e, deployment: name }, 'serving: could not apply the deployment change'));
    this.building.set(name, next);
    void next.finally(() => {
      if (this.building.get(name) === next) this.building.delete(name);
    });
    return next;
  }

  /** Resolves once every change handed to refresh so far has been applied (tests). */
  async settled(): Promise<void> {
    while (this.building.size > 0) await Promise.all([...this.building.values()]);
  }

  private async rebuild(name: string, warm: boolean): Promise<void> {
    if (this.closed) return;
    const d = await this.deployments.find(name);
    const old = this.plans.get(name);
    if (!d) {
      this.plans.delete(name);
      if (old) await this.retire(old, undefined);
      return;
    }
    if (old && old.deployment.revision === d.revision && old.deployment.lastUpdateTime === d.lastUpdateTime) return;
    const reuse = new Map<string, Unit>();
    if (old) for (const u of unitsOf(old)) reuse.set(unitKey(u.name, u.version, old.deployment.config), u);
    const unitFor = async (modelName: string, version: number): Promise<Unit> => {
      const k = unitKey(modelName, version, d.config);
      const kept = reuse.get(k);
      if (kept) return kept;
      const v = await this.registry.getVersion(modelName, version);
      const why = notServableReason(v);
      if (why) throw new KilnError('INVALID_STATE', why);
      const onnx = v.package!.onnx!;
      const hostKey = `${onnx.sha256}:${d.config.resources.sessions}:${d.config.resources.intra_op_threads}`;
      return new Unit(
        d.name,
        v.name,
        version,
        hostKey,
        onnx.inputs,
        onnx.outputs,
        v.package?.signature,
        d.config,
        this.host,
        async () => ({ bytes: await this.loader.bytes(v), opts: { intraOpThreads: d.config.resources.intra_op_threads, sessions: d.config.resources.sessions, name: `${v.name}/${v.version}` } }),
        this.metrics,
        this.loadWaitMs,
      );
    };
    const targets: { unit: Unit; weight: number }[] = [];
    for (const t of d.resolved.targets) targets.push({ unit: await unitFor(t.name, t.version), weight: t.weight });
    const shadow = d.resolved.shadow ? { unit: await unitFor(d.resolved.shadow.name, d.resolved.shadow.version), fraction: d.resolved.shadow.fraction } : undefined;
    const plan: Plan = { deployment: d, targets, totalWeight: targets.reduce((a, t) => a + t.weight, 0), shadow };
    const fresh = unitsOf(plan).filter((u) => !old || !unitsOf(old).includes(u));
    const routed = fresh.filter((u) => u === shadow?.unit || targets.some((t) => t.unit === u && t.weight > 0));
    if (warm && old) {
      // A change: every version the new plan routes to is loaded and warmed before the plan takes traffic.
      await Promise.all(routed.map((u) => u.warm(WARM_TIMEOUT_MS)));
    } else if (warm) {
      // A new deployment: routed at once; its versions start loading now (a request meanwhile waits for the load).
      for (const u of routed) void u.warm(WARM_TIMEOUT_MS).catch((e: unknown) => this.logger.warn({ err: e, deployment: name }, 'serving: a version failed to load'));
    }
    if (this.closed) return;
    this.plans.set(name, plan);
    this.logger.info({ deployment: name, revision: d.revision, targets: d.resolved.targets.map((t) => `${t.name}/${t.version}:${t.weight}`) }, 'serving: deployment plan in force');
    if (old) await this.retire(old, plan);
  }

  /** Closes the units of an old plan that the new one does not use, once their queued requests are answered. */
  private async retire(old: Plan, next: Plan | undefined): Promise<void> {
    const kept = new Set(next ? unitsOf(next) : []);
    await Promise.all(unitsOf(old).filter((u) => !kept.has(u)).map((u) => u.close()));
  }

  /** The plan of a deployment, or a 404. */
  plan(name: string): Plan {
    const p = this.plans.get(name);
    if (!p) throw notFound(`Deployment '${name}' does not exist.`);
    return p;
  }

  has(name: string): boolean {
    return this.plans.has(name);
  }

  names(): string[] {
    return [...this.plans.keys()].sort();
  }

  /** The unit a request for `version` (or, without one, the one the traffic split picks) goes to. */
  pick(name: string, version: string | undefined, ctx: Pick<InferContext, 'header'>): Unit {
    const p = this.plan(name);
    if (version !== undefined) {
      const all = unitsOf(p);
      const u = all.find((x) => String(x.version) === version);
      if (!u) throw notFound(`Deployment '${name}' serves no version ${version} (it serves ${all.map((x) => `${x.name} version ${x.version}`).join(', ')}).`);
      return u;
    }
    if (p.targets.length === 1) return p.targets[0]!.unit;
    const sticky = p.deployment.config.sticky_header;
    const key = sticky ? ctx.header(sticky) : undefined;
    let x = (key !== undefined ? hashUnit(key) : Math.random()) * p.totalWeight;
    for (const t of p.targets) {
      if (t.weight <= 0) continue;
      x -= t.weight;
      if (x < 0) return t.unit;
    }
    return p.targets.filter((t) => t.weight > 0).at(-1)!.unit;
  }

  /** Checks the inputs against the model, runs them, records the outcome. */
  async infer(name: string, version: string | undefined, inputs: Tensor[], requestedOutputs: readonly { name: string }[] | undefined, ctx: InferContext): Promise<InferResult> {
    const started = performance.now();
    const requestId = ctx.requestId ?? randomUUID();
    const plan = this.plan(name);
    const unit = this.pick(name, version, ctx);
    const labels = this.metrics.unit(name, String(unit.version));
    const sampled = Math.random() < plan.deployment.config.payload_log.sample_rate;
    let ordered: Tensor[] = inputs;
    let outputs: Tensor[] | null = null;
    let status = 200;
    let error: string | null = null;
    // Refused by the checks (the caller's fault) or failed once accepted (the version's: the guard counts those).
    let accepted = false;
    try {
      ordered = checkInputs(inputs, unit.inputs);
      const outputNames = selectOutputs(requestedOutputs, unit.outputs);
      accepted = true;
      const shadow = plan.shadow && Math.random() < plan.shadow.fraction ? plan.shadow.unit : undefined;
      // What the session is given may be moved to its worker thread: keep what the log and the shadow need.
      const keep = sampled || shadow !== undefined || (this.hooks.size > 0 && this.watched(name));
      labels.pending.inc();
      let r: Awaited<ReturnType<Unit['run']>>;
      try {
        r = await unit.run(keep ? ordered.map(copyTensor) : ordered, outputNames);
      } finally {
        labels.pending.dec();
      }
      outputs = r.outputs;
      labels.queue.observe(r.queueMs / 1000);
      labels.inference.observe(r.inferMs / 1000);
      const result: InferResult = { requestId, model: unit.name, version: unit.version, outputs: r.outputs };
      this.finish(plan, unit, { ordered, outputs, status, error, failed: false, sampled, requestId, started, ctx }, shadow);
      return result;
    } catch (e) {
      const ke = e instanceof KilnError ? e : undefined;
      status = ke?.status ?? 500;
      error = (e as Error).message;
      this.finish(plan, unit, { ordered, outputs, status, error, failed: accepted || status >= 500, sampled, requestId, started, ctx }, undefined);
      throw e;
    }
  }

  private finish(
    plan: Plan,
    unit: Unit,
    r: { ordered: Tensor[]; outputs: Tensor[] | null; status: number; error: string | null; failed: boolean; sampled: boolean; requestId: string; started: number; ctx: InferContext },
    shadow: Unit | undefined,
  ): void {
    const ms = performance.now() - r.started;
    // A request the checks refused is the caller's fault: answered, not a failure of the version.
    unit.stats.record(ms, !r.failed);
    const labels = this.metrics.unit(plan.deployment.name, String(unit.version));
    labels.requests(r.status).inc();
    labels.duration.observe(ms / 1000);
    if (!r.sampled && !shadow && (this.hooks.size === 0 || !this.watched(plan.deployment.name))) return;
    const served: ServedRequest = {
      deployment: plan.deployment.name,
      deploymentId: plan.deployment.id,
      requestId: r.requestId,
      time: this.now(),
      model: unit.name,
      version: unit.version,
      protocol: r.ctx.protocol,
      status: r.status,
      latencyMs: ms,
      inputs: r.ordered,
      outputs: r.outputs,
      error: r.error,
      sampled: r.sampled,
    };
    const done = () => {
      if (served.sampled) this.payloads.add(served);
      for (const [h, wants] of this.hooks) {
        if (wants && !wants(served.deployment)) continue;
        try {
          h(served);
        } catch (e) {
          this.logger.error({ err: e }, 'serving: a served-request hook failed');
        }
      }
    };
    if (!shadow || r.outputs === null) {
      done();
      return;
    }
    // The shadow runs after the primary answered; its answer is logged beside the primary's, never returned.
    const outputNames = r.outputs.map((t) => t.name);
    const shadowStarted = performance.now();
    void shadow
      .run(r.ordered.map(copyTensor), outputNames.filter((n) => shadow.outputs.some((o) => o.name === n)))
      .then(
        (s) => {
          shadow.stats.record(performance.now() - shadowStarted, true);
          const agrees = sameOutputs(r.outputs!, s.outputs);
          shadow.stats.compared(agrees);
          this.metrics.shadow(plan.deployment.name, agrees);
          served.shadow = { version: shadow.version, outputs: s.outputs, agrees };
        },
        (e: unknown) => {
          shadow.stats.record(performance.now() - shadowStarted, false);
          served.shadow = { version: shadow.version, outputs: null, agrees: null };
          this.logger.debug({ err: e, deployment: plan.deployment.name }, 'serving: shadow request failed');
        },
      )
      .finally(done);
  }

  /** Per-version figures of this process's traffic (the deployment page). */
  stats(name: string, seconds = 60) {
    const p = this.plan(name);
    const rows = [];
    for (const t of p.targets) rows.push({ unit: t.unit, role: 'target', weight: t.weight });
    if (p.shadow) rows.push({ unit: p.shadow.unit, role: 'shadow', weight: p.shadow.fraction });
    return rows.map(({ unit, role, weight }) => {
      const w = unit.stats.window(seconds);
      return {
        name: unit.name,
        version: unit.version,
        role,
        weight,
        requests: unit.stats.totalRequests,
        errors: unit.stats.totalErrors,
        rate_per_second: w.ratePerSecond,
        error_rate: w.errorRate,
        p50_ms: w.p50Ms,
        p99_ms: w.p99Ms,
        ...(role === 'shadow' ? { disagreement_rate: w.disagreementRate } : {}),
      };
    });
  }

  /** Load states of a deployment's versions in this process. */
  status(name: string): { name: string; version: number; state: string; error?: string }[] {
    const p = this.plans.get(name);
    if (!p) return [];
    return unitsOf(p).map((u) => ({ name: u.name, version: u.version, ...u.state() }));
  }

  /**
   * The canary guard: every candidate (a target after the first) with traffic whose error rate or p99 latency over
   * the guard's window passes its threshold loses its weight (a new revision, recorded and published).
   */
  async checkGuards(): Promise<void> {
    for (const p of this.plans.values()) {
      const g = p.deployment.config.guard;
      if (!g) continue;
      for (let i = 1; i < p.targets.length; i++) {
        const t = p.targets[i]!;
        if (t.weight <= 0) continue;
        const w = t.unit.stats.window(g.window_seconds);
        if (w.requests < g.min_requests) continue;
        const reasons: string[] = [];
        if (g.max_error_rate !== undefined && w.errorRate > g.max_error_rate) reasons.push(`error rate ${(w.errorRate * 100).toFixed(1)}% > ${(g.max_error_rate * 100).toFixed(1)}%`);
        if (g.max_p99_ms !== undefined && w.p99Ms !== null && w.p99Ms > g.max_p99_ms) reasons.push(`p99 latency ${w.p99Ms.toFixed(1)} ms > ${g.max_p99_ms} ms`);
        if (reasons.length === 0) continue;
        const reason = `canary guard: ${t.unit.name} version ${t.unit.version} over the last ${g.window_seconds} s (${w.requests} requests): ${reasons.join(', ')}; its weight is now 0`;
        if (await this.deployments.tripGuard(p.deployment.name, p.deployment.revision, i, reason)) {
          this.metrics.guardTrips.inc({ deployment: p.deployment.name });
          this.logger.warn({ deployment: p.deployment.name, version: t.unit.version }, reason);
        }
      }
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.settled();
    const units = new Set<Unit>();
    for (const p of this.plans.values()) for (const u of unitsOf(p)) units.add(u);
    this.plans.clear();
    await Promise.all([...units].map((u) => u.close()));
  }
}

function unitsOf(p: Plan): Unit[] {
  const out = p.targets.map((t) => t.unit);
  if (p.shadow && !out.includes(p.shadow.unit)) out.push(p.shadow.unit);
  return out;
}

/** Units are kept across plans while the version and everything that shapes its batcher and sessions stay the same. */
function unitKey(name: string, version: number, c: Deployment['config']): string {
  return JSON.stringify([name, version, c.batching, c.resources]);
}

/** A number in [0, 1) from a sticky header's value: the same value always lands on the same target. */
function hashUnit(s: string): number {
  return createHash('sha1').update(s).digest().readUInt32BE(0) / 2 ** 32;
}

function copyTensor(t: Tensor): Tensor {
  return { name: t.name, type: t.type, dims: t.dims, data: Array.isArray(t.data) ? [...t.data] : (t.data.slice() as Tensor['data']) };
}

/** Whether two answers agree: same outputs, same shapes, numbers within 1e-5 (relative) of each other, the rest equal. */
export function sameOutputs(a: readonly Tensor[], b: readonly Tensor[]): boolean {
  for (const x of a) {
    const y = b.find((t) => t.name === x.name);
    if (!y) continue;
    if (x.dims.length !== y.dims.length || x.dims.some((d, i) => d !== y.dims[i])) return false;
    const xs = x.data as ArrayLike<unknown>;
    const ys = y.data as ArrayLike<unknown>;
    if (xs.length !== ys.length) return false;
    for (let i = 0; i < xs.length; i++) {
      const p = xs[i];
      const q = ys[i];
      if (typeof p === 'number' && typeof q === 'number') {
        if (p === q || (Number.isNaN(p) && Number.isNaN(q))) continue;
        if (Math.abs(p - q) > 1e-5 * Math.max(1, Math.abs(p), Math.abs(q))) return false;
      } else if (p !== q) return false;
    }
  }
  return true;
}
