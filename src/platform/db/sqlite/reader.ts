import { Worker } from 'node:worker_threads';
import { KilnError } from '../../errors.js';
import type { ResultColumns } from '../types.js';
import type { ReadAnswer, ReadRequest, ReadWorkerData } from './read-worker.js';

/**
 * Runs the longest reads (MetadataStore.selectColumns: metric histories) on a worker thread with its own read-only
 * connection, so that reading 25,000 points does not hold the event loop: /health and every other request go on
 * meanwhile. better-sqlite3 runs a statement synchronously on the thread that calls it.
 *
 * The worker starts with the first read (or startEarly) and is restarted by the next read after it died: the reads it had not
 * answered fail with TEMPORARILY_UNAVAILABLE (503 with Retry-After), never hang. It does not keep the process alive
 * while no read is waiting for it.
 */
export class SqliteReadWorker {
  private running: Running | undefined;
  private nextId = 1;
  private closed = false;

  /** `rebuildError` turns a failure reported by the worker back into the driver's own error (its code kept). */
  constructor(
    private readonly file: string,
    private readonly rebuildError: (e: { name: string; message: string; code?: string }) => Error,
  ) {}

  read(sqlText: string, params: readonly unknown[]): Promise<ResultColumns> {
    if (this.closed) return Promise.reject(new KilnError('TEMPORARILY_UNAVAILABLE', 'The database is closed.'));
    const r = this.running ?? this.start();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      if (r.pending.size === 0) r.worker.ref();
      r.pending.set(id, { resolve, reject });
      r.worker.postMessage({ id, sql: sqlText, params } satisfies ReadRequest);
    });
  }

  /** Starts the worker now rather than with the first read (its start takes ~100 ms of CPU on a thread of its own). */
  startEarly(): void {
    if (!this.closed && !this.running) this.start();
  }

  /** Stops the worker; reads still waiting fail. Safe to call twice. */
  async close(): Promise<void> {
    this.closed = true;
    const r = this.running;
    if (!r) return;
    this.stopped(r, 'the database was closed');
    await r.worker.terminate();
  }

  /** The worker's thread id, or undefined when none runs (for tests). */
  get threadId(): number | undefined {
    return this.running?.worker.threadId;
  }

  /** Ends the worker as a crash would: the reads waiting fail, the next read starts another (for tests). */
  async stopWorker(): Promise<void> {
    await this.running?.worker.terminate();
  }

  private start(): Running {
    const worker = new Worker(new URL('./read-worker.js', import.meta.url), { workerData: { file: this.file } satisfies ReadWorkerData });
    const r: Running = { worker, pending: new Map() };
    worker.unref();
    worker.on('message', (a: ReadAnswer) => {
      const p = r.pending.get(a.id);
      if (!p) return;
      r.pending.delete(a.id);
      if (r.pending.size === 0) worker.unref();
      if ('error' in a) p.reject(this.rebuildError(a.error));
      else p.resolve({ rowCount: a.rowCount, columns: a.columns.map(withBuffers) });
    });
    worker.on('error', (e) => this.stopped(r, e.message));
    worker.on('messageerror', (e) => {
      this.stopped(r, `an answer could not be read: ${e.message}`);
      void worker.terminate();
    });
    worker.on('exit', (code) => this.stopped(r, `it exited with code ${code}`));
    this.running = r;
    return r;
  }

  /** The worker is gone (or going): the next read starts another one, the waiting ones fail now. */
  private stopped(r: Running, why: string): void {
    if (this.running === r) this.running = undefined;
    if (r.pending.size === 0) return;
    const waiting = [...r.pending.values()];
    r.pending.clear();
    for (const p of waiting) {
      const e = this.closed
        ? new KilnError('TEMPORARILY_UNAVAILABLE', 'The database was closed during the read.')
        : new KilnError('TEMPORARILY_UNAVAILABLE', 'The database read was interrupted (the SQLite read worker stopped); try again.');
      // Logged with the 503 (what stopped the worker), not shown to the client.
      Object.defineProperty(e, 'cause', { value: new Error(`SQLite read worker: ${why}`) });
      p.reject(e);
    }
  }
}

interface Running {
  readonly worker: Worker;
  readonly pending: Map<number, { resolve: (result: ResultColumns) => void; reject: (e: unknown) => void }>;
}

/** Blobs arrive as Uint8Arrays (structured clone): back to the Buffers better-sqlite3 gives. */
function withBuffers(c: Float64Array | unknown[]): Float64Array | unknown[] {
  if (c instanceof Float64Array) return c;
  for (let i = 0; i < c.length; i++) {
    const v = c[i];
    if (v instanceof Uint8Array && !Buffer.isBuffer(v)) c[i] = Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  }
  return c;
}
