import type { FastifyRequest } from 'fastify';

/**
 * The browser session's cookie. Over TLS it is `__Host-kiln_session`: the prefix makes browsers accept it only with
 * Secure, Path=/ and no Domain, so no other host (a sibling subdomain) and no plain-HTTP page can set or shadow it.
 * Browsers refuse a `__Host-` cookie without Secure, and a Secure cookie is not kept from a plain-HTTP origin, so
 * over plain HTTP (a laptop, a test) it is `kiln_session`, without Secure. Always HttpOnly (no script reads it) and
 * SameSite=Lax (not sent with cross-site writes).
 */
export const SESSION_COOKIE = 'kiln_session';
export const SECURE_SESSION_COOKIE = '__Host-kiln_session';
/** The header cookie-authenticated writes must carry, equal to the session's CSRF token. */
export const CSRF_HEADER = 'x-kiln-csrf';
/** Methods that change nothing: no CSRF token needed. */
export const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Whether the browser reached the server over TLS: the server's own TLS, or a proxy in front that terminated it and
 * says so in `X-Forwarded-Proto` (a client that lies about it only gets a Secure cookie its browser will not keep).
 */
export function overTls(req: FastifyRequest): boolean {
  if (req.protocol === 'https') return true;
  const fwd = req.headers['x-forwarded-proto'];
  const first = (Array.isArray(fwd) ? fwd[0] : fwd)?.split(',')[0]?.trim().toLowerCase();
  return first === 'https';
}

export function sessionCookieName(req: FastifyRequest): string {
  return overTls(req) ? SECURE_SESSION_COOKIE : SESSION_COOKIE;
}

/** The session id the request's cookie carries (only the name for its protocol counts), or undefined. */
export function readSessionCookie(req: FastifyRequest): string | undefined {
  return readCookie(req, sessionCookieName(req));
}

/**
 * The cookie that ties a single sign-on under way to the browser that started it (its id names the PKCE verifier,
 * state and nonce kept on the server): `__Host-kiln_sso` over TLS, `kiln_sso` over plain HTTP, like the session's.
 * SameSite=Lax: the provider sends the browser back with a top-level GET, which carries it.
 */
export function ssoCookieName(req: FastifyRequest): string {
  return overTls(req) ? '__Host-kiln_sso' : 'kiln_sso';
}

export function readSsoCookie(req: FastifyRequest): string | undefined {
  return readCookie(req, ssoCookieName(req));
}

export function setSsoCookie(req: FastifyRequest, id: string, maxAgeMs: number): string {
  return `${ssoCookieName(req)}=${id}; ${attributes(req, Math.max(0, Math.floor(maxAgeMs / 1000)))}`;
}

export function clearSsoCookie(req: FastifyRequest): string {
  return `${ssoCookieName(req)}=; ${attributes(req, 0)}`;
}

function readCookie(req: FastifyRequest, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) {
      const v = part.slice(eq + 1).trim();
      return v === '' ? undefined : v;
    }
  }
  return undefined;
}

function attributes(req: FastifyRequest, maxAgeSeconds: number): string {
  return `Path=/; Max-Age=${maxAgeSeconds}; HttpOnly; SameSite=Lax${overTls(req) ? '; Secure' : ''}`;
}

/** The Set-Cookie value that stores a session id (ids are base64url: no quoting needed). */
export function setSessionCookie(req: FastifyRequest, id: string, maxAgeMs: number): string {
  return `${sessionCookieName(req)}=${id}; ${attributes(req, Math.max(0, Math.floor(maxAgeMs / 1000)))}`;
}

/** The Set-Cookie value that removes it. */
export function clearSessionCookie(req: FastifyRequest): string {
  return `${sessionCookieName(req)}=; ${attributes(req, 0)}`;
}
