import { csrfToken, sessionEnded } from './session';

/**
 * The native API from the browser: JSON in and out, errors as ApiError with the server's code, message and details.
 * Writes carry the session's CSRF token (X-Kiln-CSRF); a 401 means the session ended, and the app shows the login page.
 */

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

type Query = Record<string, string | number | boolean | readonly (string | number)[] | undefined | null>;

export function apiUrl(path: string, query?: Query): string {
  const u = new URL(`/api/v1${path}`, window.location.origin);
  for (const [k, v] of Object.entries(query ?? {})) {
    if (v === undefined || v === null || v === '') continue;
    if (Array.isArray(v)) for (const x of v) u.searchParams.append(k, String(x));
    else u.searchParams.set(k, String(v));
  }
  return u.pathname + u.search;
}

export async function api<T>(method: string, path: string, opts: { query?: Query; body?: unknown; signal?: AbortSignal } = {}): Promise<T> {
  const headers: Record<string, string> = opts.body === undefined ? {} : { 'content-type': 'application/json' };
  const csrf = csrfToken();
  if (csrf !== null && method !== 'GET' && method !== 'HEAD') headers['x-kiln-csrf'] = csrf;
  const res = await fetch(apiUrl(path, opts.query), {
    method,
    headers,
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
    signal: opts.signal,
  });
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let body: unknown;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (!res.ok) {
    // The sign-in routes answer 401 themselves (a wrong password, no session yet): the login page handles those.
    if (res.status === 401 && !path.startsWith('/auth/')) sessionEnded();
    const b = (body ?? {}) as { error_code?: string; message?: string; details?: Record<string, unknown> };
    throw new ApiError(res.status, b.error_code ?? `HTTP_${res.status}`, b.message ?? (text.slice(0, 300) || res.statusText), b.details);
  }
  return body as T;
}

export const get = <T>(path: string, query?: Query, signal?: AbortSignal) => api<T>('GET', path, { query, signal });
export const post = <T>(path: string, body?: unknown) => api<T>('POST', path, { body });
export const patch = <T>(path: string, body?: unknown) => api<T>('PATCH', path, { body });
export const put = <T>(path: string, body?: unknown) => api<T>('PUT', path, { body });
export const del = <T>(path: string) => api<T>('DELETE', path);

export const enc = encodeURIComponent;
