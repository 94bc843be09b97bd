/**
 * Inspects ONNX model bytes: what the protobuf says (IR version, opsets, producer, graph, metadata), proof that
 * onnxruntime loads it, its inputs and outputs as onnxruntime sees them, its size and sha256.
 *
 * The work runs in worker threads (onnx-worker.js) from a small pool, so the event loop stays free while a model is
 * decoded and loaded, and a load that takes too long is cut off by terminating its worker. A warm worker answers a
 * small model in a few milliseconds; starting one costs far more (see docs/design/model-packaging.md), hence the pool.
 */
import { Worker } from 'node:worker_threads';
import { KilnError, invalid } from '../../platform/errors.js';
import type { OnnxInfo, OnnxTensor } from '../schemas.js';

/** An input or output of a model as onnxruntime sees it. */
export type OnnxTensorInfo = OnnxTensor;
export type { OnnxInfo } from '../schemas.js';

/** @internal protocol with onnx-worker.js */
export interface WorkerRequest {
  readonly id: number;
  readonly bytes: Uint8Array;
  readonly external?: Record<string, Uint8Array>;
}

/** @internal protocol with onnx-worker.js */
export type WorkerResponse =
  | { readonly id: number; readonly ok: true; readonly info: OnnxInfo }
  | { readonly id: number; readonly ok: false; readonly refused: boolean; readonly message: string; readonly missingExternal?: string[] };

export interface InspectOnnxOptions {
  /** How long the worker may take once it has the model; default 60 s. */
  readonly timeoutMs?: number;
  /** Contents of external data files the model names (location → bytes), for models saved with external data. */
  readonly externalData?: Readonly<Record<string, Uint8Array>>;
}

export const DEFAULT_INSPECT_TIMEOUT_MS = 60_000;

interface Job {
  readonly id: number;
  readonly req: WorkerRequest;
  readonly timeoutMs: number;
  readonly resolve: (info: OnnxInfo) => void;
  readonly reject: (e: Error) => void;
  timer?: NodeJS.Timeout;
}

interface Slot {
  readonly worker: Worker;
  job: Job | null;
  idleTimer?: NodeJS.Timeout;
  gone: boolean;
}

export interface OnnxInspectorPoolOptions {
  /** Most workers at once; default 2. */
  readonly size?: number;
  /** Worker script; default onnx-worker.js beside this file. */
  readonly workerUrl?: URL;
  /** An idle worker is stopped after this long; default 60 s. */
  readonly idleTimeoutMs?: number;
}

/**
 * A small pool of inspection workers. Idle workers do not keep the process alive. A worker that times out or dies
 * is replaced by a fresh one for the next model.
 */
export class OnnxInspectorPool {
  private readonly size: number;
  private readonly url: URL;
  private readonly idleTimeoutMs: number;
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private nextId = 1;
  private closed = false;
  /** Workers started so far (for measurements and tests). */
  spawned = 0;

  constructor(opts: OnnxInspectorPoolOptions = {}) {
    this.size = Math.max(1, opts.size ?? 2);
    this.url = opts.workerUrl ?? new URL('./onnx-worker.js', import.meta.url);
    this.idleTimeoutMs = opts.idleTimeoutMs ?? 60_000;
  }

  inspect(bytes: Uint8Array, opts: InspectOnnxOptions = {}): Promise<OnnxInfo> {
    if (this.closed) return Promise.reject(new KilnError('INVALID_STATE', 'the ONNX inspector is closed'));
    const timeoutMs = opts.timeoutMs ?? DEFAULT_INSPECT_TIMEOUT_MS;
    if (!(timeoutMs > 0)) return Promise.reject(invalid('timeoutMs must be a positive number of milliseconds'));
    return new Promise<OnnxInfo>((resolve, reject) => {
      const id = this.nextId++;
      const req: WorkerRequest = { id, bytes, ...(opts.externalData ? { external: { ...opts.externalData } } : {}) };
      this.queue.push({ id, req, timeoutMs, resolve, reject });
      this.dispatch();
    });
  }

  /** Stops every worker; jobs still waiting fail. */
  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) job.reject(new KilnError('INVALID_STATE', 'the ONNX inspector was closed'));
    await Promise.all(
      [...this.slots].map((s) => {
        if (s.job) this.finish(s, new KilnError('INVALID_STATE', 'the ONNX inspector was closed'));
        return this.retire(s);
      }),
    );
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      let slot = this.slots.find((s) => !s.job && !s.gone);
      if (!slot) {
        if (this.slots.length >= this.size) return;
        slot = this.spawn();
      }
      const job = this.queue.shift() as Job;
      this.run(slot, job);
    }
  }

  private spawn(): Slot {
    const worker = new Worker(this.url);
    this.spawned++;
    const slot: Slot = { worker, job: null, gone: false };
    this.slots.push(slot);
    worker.on('message', (res: WorkerResponse) => {
      const job = slot.job;
      if (!job || job.id !== res.id) return;
      if (res.ok) this.finish(slot, null, res.info);
      else if (res.refused) {
        this.finish(slot, invalid(res.message, res.missingExternal ? { missing_external_data: res.missingExternal } : undefined));
      } else this.finish(slot, new KilnError('INTERNAL_ERROR', res.message));
    });
    worker.on('error', (e) => {
      if (slot.job) this.finish(slot, new KilnError('INTERNAL_ERROR', `ONNX inspection worker crashed: ${e.message}`));
      void this.retire(slot);
    });
    worker.on('exit', (code) => {
      if (slot.job) this.finish(slot, new KilnError('INTERNAL_ERROR', `ONNX inspection worker exited unexpectedly (code ${code})`));
      slot.gone = true;
      this.remove(slot);
      this.dispatch();
    });
    return slot;
  }

  private run(slot: Slot, job: Job): void {
    if (slot.idleTimer) clearTimeout(slot.idleTimer);
    slot.job = job;
    slot.worker.ref();
    job.timer = setTimeout(() => {
      if (slot.job !== job) return;
      this.finish(
        slot,
        invalid(`ONNX model inspection timed out after ${job.timeoutMs} ms: the model took too long to decode and load; the worker was stopped`),
      );
      void this.retire(slot);
    }, job.timeoutMs);
    slot.worker.postMessage(job.req);
  }

  /** Settles the slot's job and makes the slot idle (unless it is being retired). */
  private finish(slot: Slot, err: Error | null, info?: OnnxInfo): void {
    const job = slot.job;
    if (!job) return;
    slot.job = null;
    if (job.timer) clearTimeout(job.timer);
    if (err) job.reject(err);
    else job.resolve(info as OnnxInfo);
    if (!slot.gone) {
      slot.worker.unref();
      slot.idleTimer = setTimeout(() => void this.retire(slot), this.idleTimeoutMs);
      slot.idleTimer.unref();
      setImmediate(() => this.dispatch());
    }
  }

  private async retire(slot: Slot): Promise<void> {
    if (slot.idleTimer) clearTimeout(slot.idleTimer);
    if (slot.gone) return;
    slot.gone = true;
    this.remove(slot);
    await slot.worker.terminate();
    this.dispatch();
  }

  private remove(slot: Slot): void {
    const i = this.slots.indexOf(slot);
    if (i >= 0) this.slots.splice(i, 1);
  }
}

let shared: OnnxInspectorPool | undefined;

/** The process-wide pool `inspectOnnx` uses. */
export function sharedOnnxInspector(): OnnxInspectorPool {
  shared ??= new OnnxInspectorPool();
  return shared;
}

/**
 * Inspects ONNX model bytes in a worker thread. A file that is not ONNX, is truncated, is empty or does not load in
 * onnxruntime → KilnError INVALID_PARAMETER_VALUE ("not an ONNX model: ...", "ONNX model does not load: ...");
 * too slow → INVALID_PARAMETER_VALUE "... timed out ..."; a worker that dies → INTERNAL_ERROR.
 */
export function inspectOnnx(bytes: Uint8Array, opts?: InspectOnnxOptions): Promise<OnnxInfo> {
  return sharedOnnxInspector().inspect(bytes, opts);
}
