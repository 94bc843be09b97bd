import { isIP } from 'node:net';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { KilnError } from '../errors.js';
import { errorBody } from './error-handler.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** A route whose answers only programs read (inference): it gets no document security headers (CSP, framing, referrer). */
    machineOnly?: boolean;
  }
}

/**
 * How long the server gives a client, in milliseconds. Slow or idle clients must not hold connections forever:
 * a connection that has not sent its request headers within `headersMs` is answered 408 and closed (idle and
 * slowloris connections), an idle keep-alive connection is closed after `keepAliveMs`, a socket with no traffic
 * either way for `idleMs` is closed, and a whole request (headers and body: large artifact uploads) must arrive
 * within `requestMs`.
 */
export interface HttpTimeouts {
  readonly headersMs: number;
  readonly requestMs: number;
  readonly keepAliveMs: number;
  readonly idleMs: number;
}

/** The Fastify options that apply the timeouts (Node checks headers and request timeouts once per second). */
export function timeoutOptions(t: HttpTimeouts): { connectionTimeout: number; keepAliveTimeout: number; requestTimeout: number; http: { headersTimeout: number; connectionsCheckingInterval: number } } {
  // Node requires headersTimeout <= requestTimeout when the latter is set.
  const headers = t.requestMs > 0 ? Math.min(t.headersMs, t.requestMs) : t.headersMs;
  return {
    connectionTimeout: t.idleMs,
    keepAliveTimeout: t.keepAliveMs,
    requestTimeout: t.requestMs,
    http: { headersTimeout: headers, connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(headers / 4) || 1000)) },
  };
}

/** True for names and addresses that only reach this machine: localhost (and *.localhost), 127.0.0.0/8, ::1. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1' || h === '0:0:0:0:0:0:0:1' || h.startsWith('::ffff:127.');
  return false;
}

/** The host name of a Host header value, without its port ("[::1]:5000" → "[::1]", "a.b:80" → "a.b"). */
function hostName(header: string): string {
  const h = header.trim().toLowerCase();
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    return end < 0 ? h : h.slice(0, end + 1);
  }
  const colon = h.lastIndexOf(':');
  return colon < 0 ? h : h.slice(0, colon);
}

/**
 * DNS rebinding protection. A server without authentication that listens on a loopback address trusts that only
 * this machine reaches it; a web page on another origin can still make the browser send it requests through a
 * name that resolves to 127.0.0.1, and those carry that name in Host. So on a loopback address the server answers
 * only requests whose Host names a loopback name or address (any port: SSH tunnels forward other ports), or one of
 * `allowedHosts`; others get 403. With `allowedHosts` set the check applies on any address.
 */
export function installHostCheck(app: FastifyInstance, listenHost: string, allowedHosts: readonly string[]): void {
  const allowed = new Set(allowedHosts.map((h) => hostName(h)));
  if (!isLoopbackHost(listenHost) && allowed.size === 0) return;
  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    const header = req.headers.host;
    // HTTP/1.0 clients may send none; browsers (what rebinding abuses) always do.
    if (header === undefined || header === '') return;
    const name = hostName(header);
    if (isLoopbackHost(name) || allowed.has(name) || allowed.has('*')) return;
    const err = new KilnError(
      'PERMISSION_DENIED',
      `Host '${header.slice(0, 255)}' is not allowed: this server listens on ${listenHost} without authentication and answers only requests addressed to localhost, 127.0.0.1 or [::1] (protection against DNS rebinding). To reach it under another name, list the name in --allowed-hosts (KILN_ALLOWED_HOSTS).`,
    );
    const mlflow = /^\/(ajax-)?api\/[23]\.0\//.test(req.url);
    return reply.status(403).send(errorBody(err, mlflow));
  });
}

/**
 * The Content-Security-Policy of every answer. The web UI is served from the server's own origin as built files:
 * scripts and style sheets come only from there (no inline script, no inline `<style>`; React and uPlot set styles
 * through the DOM's style properties, which the policy does not govern); images may also be `data:` (the icon,
 * images in Markdown descriptions) and `blob:`; the UI only calls its own origin; nothing embeds it. On API answers
 * and served artifacts it is the same: an HTML artifact opened in the browser runs no inline script either.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * Security headers on every answer: `X-Content-Type-Options: nosniff` (a browser never guesses a type other than
 * the one sent), the Content-Security-Policy above, `X-Frame-Options: DENY` (frame-ancestors for older browsers),
 * and `Referrer-Policy: same-origin` (the UI's URLs, which name runs and models, are not sent to other sites).
 * No CORS header is ever sent: other origins' pages cannot read the API's answers.
 */
export function installSecurityHeaders(app: FastifyInstance): void {
  app.addHook('onRequest', async (req, reply) => {
    void reply.header('x-content-type-options', 'nosniff');
    // Inference answers (tensors as JSON or bytes) are never documents a browser renders: the document headers would
    // be ~300 bytes on every one of thousands of answers a second.
    if (req.routeOptions.config?.machineOnly) return;
    void reply.header('content-security-policy', CONTENT_SECURITY_POLICY);
    void reply.header('x-frame-options', 'DENY');
    void reply.header('referrer-policy', 'same-origin');
  });
}
