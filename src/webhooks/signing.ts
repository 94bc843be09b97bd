import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Webhook signatures: `x-kiln-signature: sha256=<hex>` where hex is HMAC-SHA256, keyed with the webhook's secret,
 * of `<x-kiln-timestamp>.<raw request body>`. Signing the timestamp with the body lets a receiver refuse replays.
 */
export function signatureOf(secret: string, timestamp: number | string, body: string): string {
  return 'sha256=' + createHmac('sha256', secret).update(`${timestamp}.${body}`, 'utf8').digest('hex');
}

/** Checks a signature header in constant time (what a receiver does; the tests use it too). */
export function verifySignature(secret: string, timestamp: number | string, body: string, header: string | undefined): boolean {
  if (typeof header !== 'string') return false;
  const expected = Buffer.from(signatureOf(secret, timestamp, body), 'utf8');
  const given = Buffer.from(header, 'utf8');
  return expected.length === given.length && timingSafeEqual(expected, given);
}

export interface BackoffOptions {
  /** Delay after the first failed attempt, in ms. */
  readonly baseDelayMs: number;
  /** The delay never exceeds this. */
  readonly maxDelayMs: number;
  /** Fraction of the delay added or removed at random (0.2: ±20 %), so that failing receivers are not hit in lockstep. */
  readonly jitter: number;
}

/**
 * How long to wait before the attempt that follows failed attempt `attempt` (1-based): base · 2^(attempt−1),
 * capped, ± jitter. With the defaults: about 1 s, 2 s, 4 s, 8 s …
 */
export function backoffDelay(attempt: number, opts: BackoffOptions, random: () => number = Math.random): number {
  const exp = Math.min(opts.maxDelayMs, opts.baseDelayMs * 2 ** Math.max(0, Math.min(attempt - 1, 30)));
  const spread = exp * opts.jitter * (2 * random() - 1);
  return Math.max(0, Math.round(Math.min(opts.maxDelayMs, exp + spread)));
}
