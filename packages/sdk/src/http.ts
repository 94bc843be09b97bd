/** A small JSON-over-HTTP client with retries for transient failures (connection refused, 429, 502-504). */

export class KilnApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'KilnApiError';
  }
}

export interface HttpOptions {
  readonly baseUrl: string;
  readonly headers?: Record<string, string>;
  /** Attempts for a transient failure, including the first (default 5). */
  readonly maxAttempts?: number;
  /** First backoff delay in ms, doubled each attempt with jitter (default 200). */
  readonly backoffMs?: number;
  readonly timeoutMs?: number;
}

const TRANSIENT_STATUS = new Set([429, 502, 503, 504]);

export function isTransient(e: unknown): boolean {
  if (e instanceof KilnApiError) return TRANSIENT_STATUS.has(e.status);
  // fetch() throws TypeError('fetch failed') with a cause for network errors (refused, reset, DNS).
  return e instanceof TypeError || (e instanceof Error && e.name === 'TimeoutError');
}

export class HttpClient {
  readonly baseUrl: string;
  constructor(private readonly opts: HttpOptions) {
    this.baseUrl = opts.baseUrl.replace(/\/+$/, '');
  }

  async json<T>(method: string, path: string, body?: unknown, query?: Record<string, unknown>): Promise<T> {
    const res = await this.send(method, path, body === undefined ? undefined : JSON.stringify(body), query, body === undefined ? {} : { 'content-type': 'application/json' });
    if (res.status === 204) return undefined as T;
    const text = await res.text();
    return (text === '' ? undefined : JSON.parse(text)) as T;
  }

  /** Sends a request, retrying transient failures with exponential backoff; throws KilnApiError for error statuses. */
  async send(method: string, path: string, body?: string | Uint8Array, query?: Record<string, unknown>, headers: Record<string, string> = {}): Promise<Response> {
    const url = new URL(this.baseUrl + path);
    for (const [k, v] of Object.entries(query ?? {})) {
      if (v === undefined || v === null) continue;
      if (Array.isArray(v)) for (const x of v) url.searchParams.append(k, String(x));
      else url.searchParams.set(k, String(v));
    }
    const attempts = this.opts.maxAttempts ?? 5;
    let delay = this.opts.backoffMs ?? 200;
    for (let attempt = 1; ; attempt++) {
      try {
        const res = await fetch(url, {
          method,
          headers: { ...this.opts.headers, ...headers },
          body,
          signal: AbortSignal.timeout(this.opts.timeoutMs ?? 60_000),
        });
        if (res.ok) return res;
        throw await apiError(res);
      } catch (e) {
        if (attempt >= attempts || !isTransient(e)) throw e;
        await new Promise((r) => setTimeout(r, delay * (0.5 + Math.random())));
        delay *= 2;
      }
    }
  }
}

async function apiError(res: Response): Promise<KilnApiError> {
  const text = await res.text().catch(() => '');
  try {
    const b = JSON.parse(text) as { error_code?: string; message?: string; details?: Record<string, unknown> };
    return new KilnApiError(res.status, b.error_code ?? `HTTP_${res.status}`, b.message ?? res.statusText, b.details);
  } catch {
    return new KilnApiError(res.status, `HTTP_${res.status}`, text.slice(0, 500) || res.statusText);
  }
}
