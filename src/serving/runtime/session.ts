/**
 * One loaded model: onnxruntime sessions in worker threads (session-worker.js), so inference never blocks the event
 * loop. With several workers, each call goes to the least busy one. A worker that dies fails the calls it had and is
 * replaced by a fresh one; a model that throws at inference fails only that call.
 *
 * Protocol with the worker (lean: it is the hot path). workerData carries the model bytes and thread counts; the
 * worker's first message is a LoadMessage; then each RunRequest [id, feeds, outputNames?] gets one RunReply
 * [id, true, outputs] or [id, false, message]. Typed array buffers travel by transfer, not by copy, both ways.
 */
import { Worker } from 'node:worker_threads';
import { KilnError, invalid } from '../../platform/errors.js';
import { type ElementType, type Tensor, type TensorData, type TensorSpec } from '../tensor.js';

/** @internal protocol with session-worker.js */
export interface SessionWorkerData {
  readonly bytes: Uint8Array;
  readonly intraOpThreads?: number;
  readonly interOpThreads?: number;
}
/** @internal */
export type LoadMessage = { readonly ready: true; readonly inputs: TensorSpec[]; readonly outputs: TensorSpec[] } | { readonly ready: false; readonly message: string };
/** @internal */
export interface WireTensor {
  readonly name: string;
  readonly type: ElementType;
  readonly dims: readonly number[];
  readonly data: TensorData;
}
/** @internal */
export type RunRequest = readonly [id: number, feeds: WireTensor[], outputNames: readonly string[] | undefined];
/** @internal */
export type RunReply = readonly [id: number, ok: true, outputs: WireTensor[]] | readonly [id: number, ok: false, message: string];

export interface SessionOptions {
  /** Threads onnxruntime uses inside one operator; default onnxruntime's (one per core). */
  readonly intraOpThreads?: number;
  /** Threads for running independent operators in parallel (sets parallel execution mode); default sequential. */
  readonly interOpThreads?: number;
  /** Worker threads, each with its own session (and its own copy of the weights); default 1. */
  readonly sessions?: number;
  /** Named in error messages; default 'model'. */
  readonly name?: string;
  /** How long loading may take before the workers are stopped; default 120 s. */
  readonly loadTimeoutMs?: number;
  /** Worker script; default session-worker.js beside this file. */
  readonly workerUrl?: URL;
}

interface Call {
  readonly resolve: (outputs: Tensor[]) => void;
  readonly reject: (e: Error) => void;
}

interface Slot {
  readonly worker: Worker;
  readonly pending: Map<number, Call>;
  /** Terminated on purpose (closing) or exited: takes no more calls. */
  gone: boolean;
  /** Its session loaded: only such a worker is replaced when it dies (no respawn loop for one that cannot load). */
  loaded: boolean;
}

type Loaded = { inputs: TensorSpec[]; outputs: TensorSpec[] };

export class ModelSession {
  readonly name: string;
  /** Inputs as onnxruntime reports them; symbolic dimensions by name, unknown ones as null. */
  readonly inputs: TensorSpec[];
  readonly outputs: TensorSpec[];
  /** Workers started to replace ones that died. */
  restarts = 0;
  private readonly slots: Slot[] = [];
  private nextId = 1;
  private running = 0;
  private closing: Promise<void> | null = null;
  private drained: (() => void) | null = null;

  private constructor(
    private readonly bytes: Uint8Array,
    private readonly opts: SessionOptions,
    loaded: Loaded,
  ) {
    this.name = opts.name ?? 'model';
    this.inputs = loaded.inputs;
    this.outputs = loaded.outputs;
  }

  /**
   * Loads the model in `sessions` workers. Bytes that are not a model onnxruntime loads → KilnError
   * INVALID_PARAMETER_VALUE "model 'name' does not load: ..."; no worker is left running.
   */
  static async open(bytes: Uint8Array, opts: SessionOptions = {}): Promise<ModelSession> {
    const n = Math.max(1, Math.floor(opts.sessions ?? 1));
    const started = Array.from({ length: n }, () => spawn(bytes, opts));
    const results = await Promise.allSettled(started.map((s) => s.ready));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      await Promise.all(started.map((s) => s.slot.worker.terminate()));
      throw failed.reason;
    }
    const session = new ModelSession(bytes, opts, (results[0] as PromiseFulfilledResult<Loaded>).value);
    for (const s of started) session.adopt(s.slot);
    return session;
  }

  /** Calls sent to a worker and not answered yet. */
  get inFlight(): number {
    return this.running;
  }

  /** Workers able to take calls. */
  get workers(): number {
    return this.slots.filter((s) => !s.gone).length;
  }

  /**
   * Runs the model. The buffers of the inputs' typed arrays are transferred to the worker, not copied, when an
   * array spans its whole ArrayBuffer: the caller's arrays are then detached (empty) once this returns; an array
   * that is a view into a larger buffer (a Node Buffer from the pool, a subarray) is copied instead. The outputs'
   * buffers are transferred back. onnxruntime failing (bad names, types, shapes or values) → INVALID_PARAMETER_VALUE
   * "model 'name' failed at inference: ..."; a worker that dies meanwhile → INTERNAL_ERROR.
   */
  run(inputs: readonly Tensor[], outputNames?: readonly string[]): Promise<Tensor[]> {
    if (this.closing) return Promise.reject(new KilnError('TEMPORARILY_UNAVAILABLE', `model '${this.name}' is being unloaded`, { retry_after_seconds: 1 }));
    let slot: Slot | undefined;
    for (const s of this.slots) if (!s.gone && (!slot || s.pending.size < slot.pending.size)) slot = s;
    if (!slot) return Promise.reject(new KilnError('INTERNAL_ERROR', `model '${this.name}' has no running inference worker`));
    const transfer: ArrayBuffer[] = [];
    const feeds = inputs.map((t) => wire(t, transfer));
    const id = this.nextId++;
    const req: RunRequest = [id, feeds, outputNames];
    const s = slot;
    return new Promise<Tensor[]>((resolve, reject) => {
      try {
        s.worker.postMessage(req, transfer);
      } catch (e) {
        reject(invalid(`model '${this.name}' cannot take these inputs: ${(e as Error).message}`));
        return;
      }
      if (s.pending.size === 0) s.worker.ref();
      s.pending.set(id, { resolve, reject });
      this.running++;
    });
  }

  /** Stops taking calls, waits for those in flight, then stops the workers. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.running > 0) await new Promise<void>((r) => (this.drained = r));
      await Promise.all(
        this.slots.map((s) => {
          s.gone = true;
          return s.worker.terminate();
        }),
      );
    })();
    return this.closing;
  }

  /**
   * @internal for tests: worker `i` exits with `code` when it reads this message, before any call sent after it.
   * (Worker.terminate() while onnxruntime computes aborts the whole process, so tests crash a worker this way.)
   */
  _crashWorker(i = 0, code = 70): void {
    this.slots[i]?.worker.postMessage(code);
  }

  private adopt(slot: Slot, at = this.slots.length): void {
    this.slots[at] = slot;
    slot.worker.unref();
    slot.worker.on('message', (msg: RunReply | LoadMessage) => {
      if (!Array.isArray(msg)) return;
      const [id, ok, payload] = msg as RunReply;
      const call = slot.pending.get(id);
      if (!call) return;
      this.settled(slot, id);
      if (ok) call.resolve(payload);
      else call.reject(invalid(`model '${this.name}' failed at inference: ${payload}`));
    });
    slot.worker.on('exit', (code) => {
      const wasGone = slot.gone;
      slot.gone = true;
      if (slot.pending.size > 0) {
        const err = new KilnError('INTERNAL_ERROR', `the inference worker of model '${this.name}' exited unexpectedly (code ${code}) while running this call`);
        for (const [id, call] of [...slot.pending]) {
          this.settled(slot, id);
          call.reject(err);
        }
      }
      if (!wasGone && slot.loaded && !this.closing) this.replace(slot);
    });
  }

  private replace(dead: Slot): void {
    const i = this.slots.indexOf(dead);
    const fresh = spawn(this.bytes, this.opts);
    this.restarts++;
    this.adopt(fresh.slot, i);
    fresh.ready.catch(() => {
      // The model loaded before; if it no longer does, this worker stays out (run() fails once none is left).
      fresh.slot.gone = true;
      void fresh.slot.worker.terminate();
    });
  }

  private settled(slot: Slot, id: number): void {
    slot.pending.delete(id);
    if (slot.pending.size === 0 && !slot.gone) slot.worker.unref();
    if (--this.running === 0 && this.drained) {
      const d = this.drained;
      this.drained = null;
      d();
    }
  }
}

function spawn(bytes: Uint8Array, opts: SessionOptions): { slot: Slot; ready: Promise<Loaded> } {
  const data: SessionWorkerData = { bytes, intraOpThreads: opts.intraOpThreads, interOpThreads: opts.interOpThreads };
  const worker = new Worker(opts.workerUrl ?? new URL('./session-worker.js', import.meta.url), { workerData: data });
  const slot: Slot = { worker, pending: new Map(), gone: false, loaded: false };
  const name = opts.name ?? 'model';
  const timeoutMs = opts.loadTimeoutMs ?? 120_000;
  const ready = new Promise<Loaded>((resolve, reject) => {
    const timer = setTimeout(() => {
      // A load that hangs has no other way out; note that stopping a worker while onnxruntime works natively can
      // abort the process, which is why nothing else here terminates a worker with a call in flight.
      reject(invalid(`model '${name}' does not load: loading took longer than ${timeoutMs} ms`));
      void worker.terminate();
    }, timeoutMs);
    const done = () => {
      clearTimeout(timer);
      worker.off('message', onMessage);
      worker.off('exit', onExit);
      worker.off('error', onError);
    };
    const onMessage = (msg: LoadMessage | RunReply) => {
      if (Array.isArray(msg)) return;
      const m = msg as LoadMessage;
      done();
      slot.loaded = m.ready;
      if (m.ready) resolve({ inputs: m.inputs, outputs: m.outputs });
      else reject(invalid(`model '${name}' does not load: ${m.message}`));
    };
    let lastError = '';
    const onError = (e: Error) => (lastError = e.message);
    const onExit = (code: number) => {
      done();
      reject(invalid(`model '${name}' does not load: its worker exited (code ${code})${lastError ? `: ${lastError}` : ''}`));
    };
    worker.on('message', onMessage);
    worker.on('exit', onExit);
    worker.on('error', onError);
  });
  // A worker whose uncaught error was already reported by 'exit' must not surface as an unhandled 'error' event.
  worker.on('error', () => {});
  return { slot, ready };
}

const ARRAY_KINDS = [Uint8Array, Int8Array, Uint16Array, Int16Array, Uint32Array, Int32Array, BigUint64Array, BigInt64Array, Float32Array, Float64Array] as const;

/** The tensor as sent: a typed array that spans its whole ArrayBuffer is transferred; a view into a larger one is copied. */
function wire(t: Tensor, transfer: ArrayBuffer[]): WireTensor {
  const d = t.data;
  if (!ArrayBuffer.isView(d) || !(d.buffer instanceof ArrayBuffer)) return t; // strings are cloned; shared memory is shared
  if (d.byteOffset === 0 && d.byteLength === d.buffer.byteLength) {
    if (!transfer.includes(d.buffer)) transfer.push(d.buffer);
    return t;
  }
  const Kind = ARRAY_KINDS.find((k) => d instanceof k) as new (b: ArrayBuffer) => TensorData;
  const copy = new Uint8Array(d.buffer, d.byteOffset, d.byteLength).slice().buffer;
  transfer.push(copy);
  return { name: t.name, type: t.type, dims: t.dims, data: new Kind(copy) };
}
