import type { Metric } from './contract/tracking-types.js';
import { isTransient } from './http.js';

export interface MetricBufferOptions {
  /** Send a batch when this many points are waiting (default 1000, MLflow's batch limit). */
  readonly maxBatch?: number;
  /** Send what is waiting at least this often, in ms (default 1000). */
  readonly flushIntervalMs?: number;
  /** Retry a failed batch this long before giving up, in ms (default 120000). */
  readonly retryForMs?: number;
  /** Points kept in memory while the server is unreachable; past this, logging waits (default 1,000,000). */
  readonly maxQueued?: number;
}

type Sender = (metrics: Metric[]) => Promise<void>;

/**
 * Non-blocking metric logging: `add` returns at once; batches go out in the background, one at a time
 * and in order. A batch that fails with a transient error (server restarting, 503, connection refused)
 * is retried with exponential backoff; since the server stores identical points once, a retry after an
 * unseen success stores nothing twice.
 */
export class MetricBuffer {
  private queue: Metric[] = [];
  private sending: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private failure: unknown;
  private readonly maxBatch: number;
  private readonly interval: number;
  private readonly retryForMs: number;
  private readonly maxQueued: number;

  constructor(private readonly send: Sender, opts: MetricBufferOptions = {}) {
    this.maxBatch = opts.maxBatch ?? 1000;
    this.interval = opts.flushIntervalMs ?? 1000;
    this.retryForMs = opts.retryForMs ?? 120_000;
    this.maxQueued = opts.maxQueued ?? 1_000_000;
  }

  /** Queues points; throws the last permanent failure (e.g. the run was deleted) so it is not silent. */
  add(...points: Metric[]): void {
    if (this.failure) throw this.failure;
    this.queue.push(...points);
    if (this.queue.length >= this.maxBatch) this.kick();
    else this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.kick();
    }, this.interval).unref();
  }

  get pending(): number {
    return this.queue.length;
  }

  /** Resolves once everything queued so far is stored; rejects with a permanent failure. */
  async flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    while (this.queue.length > 0 || this.sending) {
      this.kick();
      await this.sending;
    }
    if (this.failure) throw this.failure;
  }

  /** True while more points are queued than the buffer should hold (the caller may await flush()). */
  get isFull(): boolean {
    return this.queue.length >= this.maxQueued;
  }

  private kick(): void {
    if (this.sending || this.queue.length === 0 || this.failure) return;
    const batch = this.queue.splice(0, this.maxBatch);
    this.sending = this.sendWithRetry(batch)
      .catch((e) => {
        this.failure = e;
      })
      .finally(() => {
        this.sending = undefined;
        if (this.queue.length >= this.maxBatch) this.kick();
        else if (this.queue.length > 0 && !this.timer && !this.failure) this.timer = setTimeout(() => {
          this.timer = undefined;
          this.kick();
        }, this.interval).unref();
      });
  }

  private async sendWithRetry(batch: Metric[]): Promise<void> {
    const deadline = Date.now() + this.retryForMs;
    let delay = 100;
    for (;;) {
      try {
        await this.send(batch);
        return;
      } catch (e) {
        if (!isTransient(e) || Date.now() + delay > deadline) throw e;
        await new Promise((r) => setTimeout(r, delay * (0.5 + Math.random())));
        delay = Math.min(delay * 2, 5000);
      }
    }
  }
}
