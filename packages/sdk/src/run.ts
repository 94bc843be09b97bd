import { readdir, stat } from 'node:fs/promises';
import { basename, join, relative } from 'node:path';
import type { KilnClient } from './client.js';
import { MetricBuffer, type MetricBufferOptions } from './metric-buffer.js';
import { mlflowDatasetOf } from './data.js';
import type { Dataset, Run, RunStatus } from './contract/tracking-types.js';
import type { ModelVersion, Signature } from './contract/registry-schemas.js';
import { buildOnnxModelPackage, MODEL_DATA_FILE, type PackageFile } from './contract/write-package.js';

const str = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));

/**
 * A run being logged to. Every method follows one rule: the write is queued and sent in the background, in the order
 * the calls were made (metrics in batches, everything else one request after the other), so a call need not be
 * awaited. Awaiting a method's promise waits until that write is stored and rejects if the server refused it; a write
 * that fails is also kept, and `flush()`/`end()` (and so `Kiln.withRun`) throw it: the run is then marked FAILED,
 * never FINISHED. A promise nobody awaits never becomes an unhandled rejection.
 */
export class ActiveRun {
  private readonly metrics: MetricBuffer;
  private ended = false;
  /** The writes other than metrics, chained so they reach the server in call order. */
  private writes: Promise<void> = Promise.resolve();
  private readonly failures: unknown[] = [];

  constructor(
    private readonly client: KilnClient,
    readonly run: Run,
    bufferOptions: MetricBufferOptions = {},
    private readonly onEnd: (r: ActiveRun) => void = () => {},
  ) {
    this.metrics = new MetricBuffer((batch) => client.logBatch({ runId: this.id, metrics: batch }), bufferOptions);
  }

  /** Queues a write after the ones before it; its failure is kept for flush()/end(). */
  private enqueue<T>(write: () => Promise<T>): Promise<T> {
    const done = this.writes.then(write);
    this.writes = done.then(
      () => {},
      (e: unknown) => {
        this.failures.push(e);
      },
    );
    // A caller that awaits sees the rejection; one that does not must not crash the script with an unhandled one.
    done.catch(() => {});
    return done;
  }

  /** The writes that failed so far (metric batches included once flush() or end() has run). */
  get errors(): readonly unknown[] {
    return [...this.failures];
  }

  get id(): string {
    return this.run.info.runId;
  }

  /** Queues a metric point (value may be NaN or ±Infinity); returns at once. */
  logMetric(key: string, value: number, step = 0, timestamp = Date.now()): void {
    this.metrics.add({ key, value, step, timestamp });
  }

  /** Queues several metrics at one step. */
  logMetrics(values: Record<string, number>, step = 0, timestamp = Date.now()): void {
    this.metrics.add(...Object.entries(values).map(([key, value]) => ({ key, value, step, timestamp })));
  }

  /** Queues a parameter (a value that is not a string is stored as JSON). */
  logParam(key: string, value: unknown): Promise<void> {
    return this.logParams({ [key]: value });
  }

  logParams(params: Record<string, unknown>): Promise<void> {
    const entries = Object.entries(params);
    return this.enqueue(async () => {
      for (let i = 0; i < entries.length; i += 100) {
        await this.client.logBatch({ runId: this.id, params: entries.slice(i, i + 100).map(([key, value]) => ({ key, value: str(value) })) });
      }
    });
  }

  setTag(key: string, value: string): Promise<void> {
    return this.enqueue(() => this.client.setTag(this.id, key, value));
  }

  setTags(tags: Record<string, string>): Promise<void> {
    return this.enqueue(() => this.client.logBatch({ runId: this.id, tags: Object.entries(tags).map(([key, value]) => ({ key, value })) }));
  }

  /** Records a dataset the run used, with a context such as 'training' or 'evaluation'. */
  logInput(dataset: Dataset, context?: string): Promise<void> {
    return this.enqueue(() => this.client.logInputs(this.id, [{ dataset, tags: context ? [{ key: 'mlflow.data.context', value: context }] : [] }]));
  }

  /** Records a Kiln dataset version (`weather@v3`, `weather@latest`) as an input, linked to it by its digest. */
  logDatasetInput(ref: string, context?: string): Promise<void> {
    return this.enqueue(async () => {
      const dataset = mlflowDatasetOf(await this.client.data.get(ref));
      await this.client.logInputs(this.id, [{ dataset, tags: context ? [{ key: 'mlflow.data.context', value: context }] : [] }]);
    });
  }

  /** Uploads a local file under `artifactPath` (a folder inside the run's artifacts; default the root). */
  logArtifact(localPath: string, artifactPath = ''): Promise<void> {
    const target = artifactPath ? `${artifactPath.replace(/\/+$/, '')}/${basename(localPath)}` : basename(localPath);
    return this.enqueue(() => this.client.uploadArtifact(this.id, target, { file: localPath }));
  }

  /** Uploads a whole local folder, keeping its layout. */
  logArtifacts(localDir: string, artifactPath = ''): Promise<void> {
    return this.enqueue(() => this.uploadFolder(localDir, artifactPath));
  }

  private async uploadFolder(localDir: string, artifactPath: string): Promise<void> {
    const walk = async (dir: string): Promise<string[]> => {
      const out: string[] = [];
      for (const e of await readdir(dir, { withFileTypes: true })) {
        const p = join(dir, e.name);
        if (e.isDirectory()) out.push(...(await walk(p)));
        else if (e.isFile()) out.push(p);
      }
      return out;
    };
    if (!(await stat(localDir)).isDirectory()) throw new Error(`${localDir} is not a folder`);
    for (const file of await walk(localDir)) {
      const rel = relative(localDir, file).split(/[\\/]/).join('/');
      await this.client.uploadArtifact(this.id, artifactPath ? `${artifactPath.replace(/\/+$/, '')}/${rel}` : rel, { file });
    }
  }

  /**
   * Logs an ONNX model as an MLflow model folder (MLmodel with the onnx and python_function flavors, model.onnx, the
   * signature, an input example, requirements) under `artifactPath`, so MLflow's Python client can load it too. The
   * server inspects model.onnx (it has onnxruntime; the SDK does not): bytes that do not load are refused with a 400
   * and nothing stays behind. With `registeredModelName`, registers it as a new version and waits until the registry
   * has inspected it.
   */
  logOnnxModel(
    artifactPath: string,
    onnx: Uint8Array,
    opts: { signature?: Signature; inputExample?: unknown; registeredModelName?: string; pipRequirements?: string[]; metadata?: Record<string, unknown> } = {},
  ): Promise<{ artifactPath: string; modelUri: string; version?: ModelVersion }> {
    return this.enqueue(() => this.writeOnnxModel(artifactPath, onnx, opts));
  }

  private async writeOnnxModel(
    artifactPath: string,
    onnx: Uint8Array,
    opts: { signature?: Signature; inputExample?: unknown; registeredModelName?: string; pipRequirements?: string[]; metadata?: Record<string, unknown> },
  ): Promise<{ artifactPath: string; modelUri: string; version?: ModelVersion }> {
    const dir = artifactPath.replace(/^\/+|\/+$/g, '');
    if (dir === '') throw new Error('logOnnxModel needs an artifact path such as "model"');
    const modelFile = `${dir}/${MODEL_DATA_FILE}`;
    await this.client.uploadArtifact(this.id, modelFile, onnx);
    let files: PackageFile[];
    try {
      files = await buildOnnxModelPackage({
        onnx,
        inspect: () => this.client.inspectOnnxArtifact(this.id, modelFile),
        runId: this.id,
        artifactPath: dir,
        ...(opts.signature ? { signature: opts.signature } : {}),
        ...(opts.inputExample !== undefined ? { inputExample: opts.inputExample } : {}),
        ...(opts.pipRequirements ? { pipRequirements: opts.pipRequirements } : {}),
        ...(opts.metadata ? { metadata: opts.metadata } : {}),
      });
    } catch (e) {
      await this.client.deleteArtifact(this.id, modelFile).catch(() => {});
      throw e;
    }
    for (const f of files) if (f.path !== MODEL_DATA_FILE) await this.client.uploadArtifact(this.id, `${dir}/${f.path}`, f.bytes);
    const modelUri = `runs:/${this.id}/${dir}`;
    // MLflow's record of the models a run logged (its UI lists them from this tag).
    const current = (await this.client.getRun(this.id)).data.tags.find((t) => t.key === 'mlflow.log-model.history')?.value;
    let history: unknown[] = [];
    try {
      history = current ? (JSON.parse(current) as unknown[]) : [];
    } catch {
      history = [];
    }
    const entry = { run_id: this.id, artifact_path: dir, flavors: { onnx: {}, python_function: {} }, utc_time_created: new Date().toISOString().replace('T', ' ').replace('Z', '') };
    await this.client.setTag(this.id, 'mlflow.log-model.history', JSON.stringify([...(Array.isArray(history) ? history : []), entry]));
    if (!opts.registeredModelName) return { artifactPath: dir, modelUri };
    await this.client.registry.ensureModel(opts.registeredModelName);
    const version = await this.client.registry.createVersion(opts.registeredModelName, modelUri, { runId: this.id });
    return { artifactPath: dir, modelUri, version };
  }

  /** Uploads text or bytes as an artifact file. */
  logText(text: string | Uint8Array, artifactFile: string): Promise<void> {
    return this.enqueue(() => this.client.uploadArtifact(this.id, artifactFile, text));
  }

  /** Waits until every queued write is stored; throws if any failed (see the class comment). */
  async flush(): Promise<void> {
    await this.settle();
    const error = this.failure();
    if (error) throw error;
  }

  /**
   * Sends what is queued and ends the run: FINISHED (or the status given), but FAILED when a write failed, and then
   * throws that failure. Safe to call twice.
   */
  async end(status: RunStatus = 'FINISHED'): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    await this.settle();
    this.onEnd(this);
    const error = this.failure();
    await this.client.updateRun({ runId: this.id, status: error && status === 'FINISHED' ? 'FAILED' : status, endTime: Date.now() });
    if (error) throw error;
  }

  /** Waits for the queued writes and metrics; a failure is recorded, never thrown. */
  private async settle(): Promise<void> {
    let writes: Promise<void>;
    do {
      writes = this.writes;
      await writes;
    } while (writes !== this.writes);
    try {
      await this.metrics.flush();
    } catch (e) {
      if (!this.failures.includes(e)) this.failures.push(e);
    }
  }

  /** The failure to report: the only one, or all of them. */
  private failure(): Error | undefined {
    if (this.failures.length === 0) return undefined;
    const describe = (e: unknown) => (e instanceof Error ? e.message : String(e));
    if (this.failures.length === 1) {
      const e = this.failures[0];
      return e instanceof Error ? e : new Error(`run ${this.id}: a write failed: ${describe(e)}`);
    }
    return new AggregateError(this.failures, `run ${this.id}: ${this.failures.length} writes failed: ${this.failures.map(describe).join('; ')}`);
  }
}
