/**
 * Keeps many models loaded under a memory budget. A model is loaded on first use (concurrent first uses share one
 * load), and when a new one does not fit, the least recently used idle ones (no lease held, no call in flight) are
 * unloaded to make room.
 *
 * Memory is estimated, not measured: model bytes × memoryFactor (default 2: the weights as onnxruntime holds them
 * plus working memory; the main thread also keeps the bytes to restart a worker) × the number of worker sessions,
 * each of which holds its own copy.
 *
 * A load that fails is remembered for failureBackoffMs (default 30 s): requests in that time fail at once with the
 * load error instead of loading a broken model again and again.
 */
import { KilnError } from '../../platform/errors.js';
import { ModelSession, type SessionOptions } from './session.js';

export interface LoadSpec {
  readonly bytes: Uint8Array;
  readonly opts?: SessionOptions;
}
export type Loader = () => Promise<LoadSpec>;

export interface ModelHostOptions {
  /** Memory the loaded models may take, by the estimate above. */
  readonly budgetBytes: number;
  /** Default 2. */
  readonly memoryFactor?: number;
  /** Default 30 000. */
  readonly failureBackoffMs?: number;
  /** Opens a session; default ModelSession.open. */
  readonly open?: (bytes: Uint8Array, opts: SessionOptions) => Promise<ModelSession>;
  /** Counters for metrics: a model loaded (with the time it took), a load failed, a model unloaded. */
  readonly onLoad?: (key: string, ms: number) => void;
  readonly onLoadFailure?: (key: string, error: Error) => void;
  readonly onUnload?: (key: string, reason: 'evicted' | 'unloaded') => void;
}

export type ModelState =
  | { readonly state: 'absent' | 'loading' | 'ready' }
  | { readonly state: 'failed'; readonly error: string; /** Epoch ms after which a request loads it again. */ readonly retryAt: number };

export interface Lease {
  readonly key: string;
  readonly session: ModelSession;
  /** Idempotent. A model is evicted only when no lease on it is held. */
  release(): void;
}

interface Entry {
  readonly key: string;
  state: 'loading' | 'ready' | 'failed';
  ready: Promise<ModelSession>;
  session?: ModelSession;
  error?: KilnError;
  failedAt: number;
  reserved: number;
  leases: number;
  lastUsed: number;
}

/** A load that could not go ahead now but may later (no room, unloaded meanwhile): not remembered as a failure. */
class Transient extends KilnError {}

const MB = (n: number) => `${(n / 2 ** 20).toFixed(1)} MB`;

export class ModelHost {
  private readonly entries = new Map<string, Entry>();
  private readonly factor: number;
  private readonly backoffMs: number;
  private used = 0;
  /** Loads that succeeded, loads that failed, models evicted to make room. */
  readonly counts = { loads: 0, loadFailures: 0, evictions: 0 };

  constructor(private readonly opts: ModelHostOptions) {
    this.factor = opts.memoryFactor ?? 2;
    this.backoffMs = opts.failureBackoffMs ?? 30_000;
  }

  /** Estimated bytes of the models loaded and loading. */
  get usedBytes(): number {
    return this.used;
  }

  state(key: string): ModelState {
    const e = this.entries.get(key);
    if (!e) return { state: 'absent' };
    if (e.state === 'failed') return { state: 'failed', error: e.error?.message ?? 'load failed', retryAt: e.failedAt + this.backoffMs };
    return { state: e.state };
  }

  /**
   * A lease on the model's session, loading it first if needed. With `timeoutMs`, waits at most that long for a load
   * in progress → TEMPORARILY_UNAVAILABLE "... is loading" (503, Retry-After). A load that fails, or failed less than
   * failureBackoffMs ago → TEMPORARILY_UNAVAILABLE "model 'key' failed to load: ...", retry after the backoff.
   */
  async acquire(key: string, load: Loader, opts: { timeoutMs?: number } = {}): Promise<Lease> {
    let e = this.entries.get(key);
    if (e?.state === 'failed' && Date.now() - e.failedAt >= this.backoffMs) {
      this.entries.delete(key);
      e = undefined;
    }
    e ??= this.startLoad(key, load);
    if (e.state === 'failed') throw this.failure(e);
    if (e.state === 'loading') await this.bounded(e, opts.timeoutMs);
    const entry = e;
    entry.leases++;
    entry.lastUsed = performance.now();
    let released = false;
    return {
      key,
      session: entry.session as ModelSession,
      release: () => {
        if (released) return;
        released = true;
        entry.leases--;
        entry.lastUsed = performance.now();
      },
    };
  }

  /** Loads the model ahead of requests; rejects as acquire would. */
  async warm(key: string, load: Loader): Promise<void> {
    (await this.acquire(key, load)).release();
  }

  /** Waits for a model being loaded (as acquire does), without starting a load: absent → RESOURCE_DOES_NOT_EXIST. */
  async whenReady(key: string, timeoutMs: number): Promise<void> {
    const e = this.entries.get(key);
    if (!e) throw new KilnError('RESOURCE_DOES_NOT_EXIST', `model '${key}' is not loaded`);
    if (e.state === 'failed') throw this.failure(e);
    if (e.state === 'loading') await this.bounded(e, timeoutMs);
  }

  /** Unloads the model: new calls on its session fail, calls in flight finish first. */
  async unload(key: string): Promise<void> {
    const e = this.entries.get(key);
    if (!e) return;
    this.entries.delete(key);
    if (e.state === 'ready') await this.drop(e, 'unloaded');
    else if (e.state === 'loading') await e.ready.catch(() => undefined); // the load sees it was dropped and closes it
  }

  /** Unloads every model. */
  async close(): Promise<void> {
    await Promise.all([...this.entries.keys()].map((k) => this.unload(k)));
  }

  private startLoad(key: string, load: Loader): Entry {
    const e: Entry = { key, state: 'loading', ready: Promise.resolve(null as unknown as ModelSession), failedAt: 0, reserved: 0, leases: 0, lastUsed: performance.now() };
    this.entries.set(key, e);
    const started = performance.now();
    e.ready = (async () => {
      let spec: LoadSpec;
      try {
        spec = await load();
      } catch (err) {
        throw new KilnError('TEMPORARILY_UNAVAILABLE', `model '${key}' failed to load: ${(err as Error)?.message ?? String(err)}`);
      }
      const sessions = Math.max(1, Math.floor(spec.opts?.sessions ?? 1));
      const need = spec.bytes.byteLength * this.factor * sessions;
      if (need > this.opts.budgetBytes) {
        throw new KilnError(
          'TEMPORARILY_UNAVAILABLE',
          `model '${key}' failed to load: it needs about ${MB(need)} (${spec.bytes.byteLength} bytes × ${this.factor} × ${sessions} session(s)), more than the whole serving memory budget of ${MB(this.opts.budgetBytes)}`,
        );
      }
      this.makeRoom(key, need);
      e.reserved = need;
      this.used += need;
      let session: ModelSession;
      try {
        session = await (this.opts.open ?? ModelSession.open)(spec.bytes, { name: key, ...spec.opts });
      } catch (err) {
        throw new KilnError('TEMPORARILY_UNAVAILABLE', `model '${key}' failed to load: ${(err as Error)?.message ?? String(err)}`);
      }
      if (this.entries.get(key) !== e) {
        await session.close();
        throw new Transient('TEMPORARILY_UNAVAILABLE', `model '${key}' was unloaded while it loaded`, { retry_after_seconds: 1 });
      }
      e.session = session;
      e.state = 'ready';
      this.counts.loads++;
      this.opts.onLoad?.(key, performance.now() - started);
      return session;
    })();
    e.ready.catch((err: KilnError) => {
      this.used -= e.reserved;
      e.reserved = 0;
      if (err instanceof Transient || this.entries.get(key) !== e) {
        if (this.entries.get(key) === e) this.entries.delete(key);
        return;
      }
      e.state = 'failed';
      e.error = err;
      e.failedAt = Date.now();
      this.counts.loadFailures++;
      this.opts.onLoadFailure?.(key, err);
    });
    return e;
  }

  /** Evicts least recently used idle models until `need` more bytes fit; no room even so → Transient (503). */
  private makeRoom(key: string, need: number): void {
    const budget = this.opts.budgetBytes;
    if (this.used + need <= budget) return;
    const idle = [...this.entries.values()]
      .filter((x) => x.state === 'ready' && x.leases === 0 && (x.session?.inFlight ?? 0) === 0)
      .sort((a, b) => a.lastUsed - b.lastUsed);
    for (const victim of idle) {
      if (this.used + need <= budget) break;
      this.entries.delete(victim.key);
      this.counts.evictions++;
      void this.drop(victim, 'evicted');
    }
    if (this.used + need > budget) {
      throw new Transient(
        'TEMPORARILY_UNAVAILABLE',
        `no room to load model '${key}' (about ${MB(need)}): the models loaded use ${MB(this.used)} of ${MB(budget)} and are all in use; try again`,
        { retry_after_seconds: 1 },
      );
    }
  }

  private async drop(e: Entry, reason: 'evicted' | 'unloaded'): Promise<void> {
    this.used -= e.reserved;
    e.reserved = 0;
    this.opts.onUnload?.(e.key, reason);
    await e.session?.close();
  }

  private failure(e: Entry): KilnError {
    const wait = Math.max(1, Math.ceil((e.failedAt + this.backoffMs - Date.now()) / 1000));
    const msg = e.error?.message ?? `model '${e.key}' failed to load`;
    return new KilnError('TEMPORARILY_UNAVAILABLE', `${msg} (the next attempt is in ${wait} s)`, { retry_after_seconds: wait });
  }

  /** Waits for the entry's load, at most timeoutMs; its failure is reported as failure() does. */
  private async bounded(e: Entry, timeoutMs: number | undefined): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout =
      timeoutMs === undefined
        ? null
        : new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new KilnError('TEMPORARILY_UNAVAILABLE', `model '${e.key}' is loading; try again shortly`, { retry_after_seconds: 1 })), timeoutMs);
          });
    try {
      await (timeout ? Promise.race([e.ready, timeout]) : e.ready);
    } catch (err) {
      if (e.state === 'failed') throw this.failure(e);
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }
}
