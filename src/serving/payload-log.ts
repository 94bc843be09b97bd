/**
 * The payload log: a sampled share of requests and responses, written without holding up any response. Records
 * wait in a bounded buffer and are written in batches (one transaction each); when the buffer is full a record is
 * dropped and counted, so serving never slows down for logging.
 */
import type { Tensor } from './tensor.js';
import { outputJson } from './protocol/oip-json.js';
import type { NewPayload, ServingStore } from './store.js';

/** One answered request, as the payload log and the per-request hooks (monitoring) see it. */
export interface ServedRequest {
  readonly deployment: string;
  readonly deploymentId: number;
  readonly requestId: string;
  readonly time: number;
  readonly model: string;
  readonly version: number;
  readonly protocol: 'oip-rest' | 'oip-grpc' | 'mlflow';
  readonly status: number;
  readonly latencyMs: number;
  /** The decoded inputs (in the model's input order). */
  readonly inputs: readonly Tensor[];
  readonly outputs: readonly Tensor[] | null;
  readonly error: string | null;
  /** Whether this request was sampled into the payload log. */
  readonly sampled: boolean;
  shadow?: { readonly version: number; readonly outputs: readonly Tensor[] | null; readonly agrees: boolean | null };
}

/** A tensor as OIP JSON (flat data; 64-bit integers as numbers; non-finite floats as null). */
export const tensorJson = (t: Tensor) => outputJson(t);

export interface PayloadLogOptions {
  readonly bufferSize: number;
  /** A batch is written when this many records wait, or after flushIntervalMs. */
  readonly batchSize: number;
  readonly flushIntervalMs: number;
}

export class PayloadLog {
  private buffer: ServedRequest[] = [];
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> | undefined;
  private closed = false;
  dropped = 0;
  written = 0;

  constructor(
    private readonly store: ServingStore,
    private readonly options: PayloadLogOptions,
    private readonly onDrop: (deployment: string) => void,
    private readonly report: (e: unknown, what: string) => void,
  ) {}

  /** Queues a record (false: the buffer was full and it was dropped). */
  add(r: ServedRequest): boolean {
    if (this.closed || this.buffer.length >= this.options.bufferSize) {
      this.dropped++;
      this.onDrop(r.deployment);
      return false;
    }
    this.buffer.push(r);
    if (this.buffer.length >= this.options.batchSize) this.kick();
    else this.timer ??= setTimeout(() => this.kick(), this.options.flushIntervalMs);
    return true;
  }

  get pending(): number {
    return this.buffer.length;
  }

  private kick(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.writing || this.buffer.length === 0) return;
    this.writing = this.writeAll().finally(() => {
      this.writing = undefined;
      if (this.buffer.length > 0 && !this.closed) this.timer ??= setTimeout(() => this.kick(), this.options.flushIntervalMs);
    });
  }

  private async writeAll(): Promise<void> {
    while (this.buffer.length > 0) {
      const batch = this.buffer.splice(0, this.options.batchSize);
      try {
        await this.store.insertPayloads(batch.map(toRow));
        this.written += batch.length;
      } catch (e) {
        // The records are lost (counted as dropped): the log must not grow without bound while the database is away.
        this.dropped += batch.length;
        for (const r of batch) this.onDrop(r.deployment);
        this.report(e, `payload log: ${batch.length} records could not be written`);
        return;
      }
    }
  }

  /** Writes what waits now (tests, shutdown). */
  async flush(): Promise<void> {
    while (this.writing || this.buffer.length > 0) {
      this.kick();
      await this.writing;
    }
  }

  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
  }
}

function toRow(r: ServedRequest): NewPayload {
  return {
    deployment_pk: r.deploymentId,
    request_id: r.requestId,
    time: r.time,
    model: r.model,
    version: r.version,
    protocol: r.protocol,
    status: r.status,
    latency_ms: Math.round(r.latencyMs * 1000) / 1000,
    request: JSON.stringify(r.inputs.map(tensorJson)),
    response: r.outputs ? JSON.stringify(r.outputs.map(tensorJson)) : null,
    error: r.error,
    shadow_version: r.shadow?.version ?? null,
    shadow_response: r.shadow?.outputs ? JSON.stringify(r.shadow.outputs.map(tensorJson)) : null,
    shadow_agrees: r.shadow?.agrees === undefined || r.shadow.agrees === null ? null : r.shadow.agrees ? 1 : 0,
  };
}
