/** A small JSON-over-HTTP client with retries for transient failures (connection refused, 429, 502-504). */
import type { ClientRequest, IncomingMessage, OutgoingHttpHeaders } from 'node:http';

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
  // Network errors (refused, reset, DNS) are TypeError('fetch failed') with the cause, from fetch() and from exchange().
  return e instanceof TypeError || (e instanceof Error && e.name === 'TimeoutError');
}

/** The statuses fetch() follows; json() hands such an answer to fetch(), which follows it. */
const REDIRECT_STATUS = new Set([301, 302, 303, 307, 308]);

export class HttpClient {
  readonly baseUrl: string;
  constructor(private readonly opts: HttpOptions) {
    this.baseUrl = opts.baseUrl.replace(/\/+$/, '');
  }

  /**
   * Sends a JSON request and parses the JSON answer; throws KilnApiError for error statuses. It goes through
   * node:http rather than fetch(), whose first use loads undici (tens of milliseconds, which `kiln` commands would
   * spend on every start), and behaves as send() does: the same retries, the same timeout (the whole exchange,
   * body included) and the same errors. A redirect is the exception: it is sent again through fetch(), which follows it.
   */
  async json<T>(method: string, path: string, body?: unknown, query?: Record<string, unknown>): Promise<T> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string> = payload === undefined ? {} : { 'content-type': 'application/json' };
    const url = this.url(path, query);
    const answer = await this.retrying(async () => {
      const signal = AbortSignal.timeout(this.timeoutMs);
      const res = await exchange(url, method, { ...this.opts.headers, ...headers }, payload, signal);
      const status = res.statusCode ?? 0;
      if (status >= 200 && status < 300) return { res, signal };
      if (REDIRECT_STATUS.has(status) && res.headers.location !== undefined) {
        res.resume();
        return undefined;
      }
      throw apiError(status, res.statusMessage ?? '', await readText(res, signal).catch(() => ''));
    });
    let text: string;
    if (answer === undefined) {
      const res = await this.send(method, path, payload, query, headers);
      if (res.status === 204) return undefined as T;
      text = await res.text();
    } else {
      if (answer.res.statusCode === 204) {
        answer.res.resume();
        return undefined as T;
      }
      text = await readText(answer.res, answer.signal);
    }
    return (text === '' ? undefined : JSON.parse(text)) as T;
  }

  /** Sends a request, retrying transient failures with exponential backoff; throws KilnApiError for error statuses. */
  async send(method: string, path: string, body?: string | Uint8Array, query?: Record<string, unknown>, headers: Record<string, string> = {}): Promise<Response> {
    const url = this.url(path, query);
    return this.retrying(async () => {
      const res = await fetch(url, {
        method,
        headers: { ...this.opts.headers, ...headers },
        body,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      if (res.ok) return res;
      throw apiError(res.status, res.statusText, await res.text().catch(() => ''));
    });
  }

  /**
   * Streams a local file as the request body (node:http: never held in memory, no retry since the body is a stream)
   * and parses the JSON answer (undefined when there is none); throws KilnApiError for error statuses.
   */
  async uploadFile<T = unknown>(method: string, path: string, file: string, contentType: string, query?: Record<string, unknown>): Promise<T> {
    const [{ createReadStream }, { stat }] = await Promise.all([import('node:fs'), import('node:fs/promises')]);
    const bytes = (await stat(file)).size;
    const url = this.url(path, query);
    const { request: send } = url.protocol === 'https:' ? await import('node:https') : await import('node:http');
    return new Promise<T>((resolveUpload, reject) => {
      const req = send(url, { method, headers: { ...this.opts.headers, 'content-type': contentType, 'content-length': String(bytes) } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          const text = Buffer.concat(chunks).toString('utf8');
          if (status >= 200 && status < 300) {
            try {
              return resolveUpload((text === '' ? undefined : JSON.parse(text)) as T);
            } catch {
              return resolveUpload(undefined as T);
            }
          }
          try {
            const b = JSON.parse(text) as { error_code?: string; message?: string; details?: Record<string, unknown> };
            reject(new KilnApiError(status, b.error_code ?? `HTTP_${status}`, b.message ?? text, b.details));
          } catch {
            reject(new KilnApiError(status, `HTTP_${status}`, text.slice(0, 500)));
          }
        });
      });
      req.on('error', reject);
      const body = createReadStream(file, { highWaterMark: 1 << 20 });
      body.on('error', (e) => req.destroy(e));
      body.pipe(req);
    });
  }

  private get timeoutMs(): number {
    return this.opts.timeoutMs ?? 60_000;
  }

  private url(path: string, query?: Record<string, unknown>): URL {
    const url = new URL(this.baseUrl + path);
    for (const [k, v] of Object.entries(query ?? {})) {
      if (v === undefined || v === null) continue;
      if (Array.isArray(v)) for (const x of v) url.searchParams.append(k, String(x));
      else url.searchParams.set(k, String(v));
    }
    return url;
  }

  /** Runs one attempt, and again after a transient failure with exponential backoff, up to maxAttempts in all. */
  private async retrying<R>(attempt: () => Promise<R>): Promise<R> {
    const attempts = this.opts.maxAttempts ?? 5;
    let delay = this.opts.backoffMs ?? 200;
    for (let n = 1; ; n++) {
      try {
        return await attempt();
      } catch (e) {
        if (n >= attempts || !isTransient(e)) throw e;
        await new Promise((r) => setTimeout(r, delay * (0.5 + Math.random())));
        delay *= 2;
      }
    }
  }
}

function apiError(status: number, statusText: string, text: string): KilnApiError {
  try {
    const b = JSON.parse(text) as { error_code?: string; message?: string; details?: Record<string, unknown> };
    return new KilnApiError(status, b.error_code ?? `HTTP_${status}`, b.message ?? statusText, b.details);
  } catch {
    return new KilnApiError(status, `HTTP_${status}`, text.slice(0, 500) || statusText);
  }
}

/**
 * One request over node:http(s), answered once the response's head has arrived. It fails as fetch() fails: with the
 * signal's reason (a TimeoutError) when the signal ends it, else with TypeError('fetch failed') whose cause is the
 * network error (ECONNREFUSED, ECONNRESET, ENOTFOUND, …).
 */
async function exchange(url: URL, method: string, headers: Record<string, string>, body: string | undefined, signal: AbortSignal): Promise<IncomingMessage> {
  // Loaded on first use, so that importing the SDK (or `kiln --help`) costs neither.
  const { request: send } = url.protocol === 'https:' ? await import('node:https') : await import('node:http');
  const head: OutgoingHttpHeaders = body === undefined ? headers : { ...headers, 'content-length': Buffer.byteLength(body) };
  return new Promise((resolve, reject) => {
    let req: ClientRequest;
    try {
      req = send(url, { method, headers: head, signal }, resolve);
    } catch (e) {
      // A URL or header node:http refuses (fetch() refuses them with a TypeError too).
      return reject(new TypeError('fetch failed', { cause: e }));
    }
    req.on('error', (e) => reject(signal.aborted ? signal.reason : new TypeError('fetch failed', { cause: e })));
    req.end(body);
  });
}

/** A response's body as text (UTF-8, as Response.text() decodes it); fails with the signal's reason once it has ended. */
async function readText(res: IncomingMessage, signal: AbortSignal): Promise<string> {
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of res) chunks.push(chunk as Buffer);
  } catch (e) {
    throw signal.aborted ? signal.reason : new TypeError('terminated', { cause: e });
  }
  return new TextDecoder().decode(Buffer.concat(chunks));
}
