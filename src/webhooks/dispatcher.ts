import type { Secrets } from '../platform/secrets.js';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { performance } from 'node:perf_hooks';
import { VERSION } from '../version.js';
import { PollLoop } from '../platform/poll-loop.js';
import { backoffDelay, signatureOf } from './signing.js';
import { DestinationRefused, type DestinationPolicy, type Resolver } from './destination.js';
import type { AttemptOutcome, DeliveryRow, WebhookStore } from './store.js';

export interface WebhookOptions {
  /** Encrypts signing secrets at rest with the server key (none: stored as given). */
  readonly secrets?: Secrets;
  /** Attempts per delivery before it is FAILED (default 8). */
  readonly maxAttempts: number;
  /** Delay after the first failed attempt; doubles after each (default 1000 ms). */
  readonly baseDelayMs: number;
  /** Longest delay between attempts (default 5 minutes). */
  readonly maxDelayMs: number;
  /** Random spread of each delay (default 0.2: ±20 %). */
  readonly jitter: number;
  /** How long one attempt may take, body included (default 10 s). */
  readonly timeoutMs: number;
  /** How often each server process looks for due deliveries queued elsewhere (default 2 s). */
  readonly pollIntervalMs: number;
  /** Attempts sent concurrently by one process (default 8). */
  readonly concurrency: number;
  /**
   * How much longer than the timeout a claimed attempt stays reserved for the process that claimed it (default 30 s):
   * an attempt whose process died mid-send is due again after timeout + margin.
   */
  readonly leaseMarginMs: number;
  /**
   * Hosts, IP addresses and CIDR ranges webhooks may reach although they are loopback, link-local or private
   * (default none; the server sets it from KILN_WEBHOOK_ALLOWED_HOSTS).
   */
  readonly allowedHosts: readonly string[];
  /** How host names are resolved (default: the system resolver; tests replace it). */
  readonly resolver?: Resolver;
}

export const DEFAULT_WEBHOOK_OPTIONS: WebhookOptions = {
  maxAttempts: 8,
  baseDelayMs: 1000,
  maxDelayMs: 5 * 60_000,
  jitter: 0.2,
  timeoutMs: 10_000,
  pollIntervalMs: 2000,
  concurrency: 8,
  leaseMarginMs: 30_000,
  allowedHosts: [],
};

/** Characters of a response body kept in the delivery log and shown by a test call: a short excerpt, not the body. */
export const RESPONSE_EXCERPT_LIMIT = 200;
/** Bytes of a response body read to make the excerpt; the rest is not read. */
const RESPONSE_READ_LIMIT = 1024;

export interface SendRequest {
  readonly url: string;
  readonly secret: string | null;
  readonly body: string;
  readonly kind: string;
  readonly deliveryId: string;
  /** The event's id: the same for every attempt and redelivery of one event (the receiver's idempotency key). */
  readonly eventId: string;
  readonly timeoutMs: number;
  /** Which destinations may be reached; the connection goes only to addresses it checked. */
  readonly policy: DestinationPolicy;
}

export interface SendResult {
  readonly success: boolean;
  readonly responseStatus: number | null;
  /** A short excerpt of the response body (control characters removed), never the body itself. */
  readonly responseBody: string | null;
  readonly error: string | null;
  readonly durationMs: number;
}

/**
 * POSTs one signed delivery. Never throws: every failure is described in the result. 2xx is success; redirects are
 * not followed. The host is resolved and checked by the destination policy at connection time, and the connection
 * goes to the checked address.
 */
export async function sendWebhook(req: SendRequest): Promise<SendResult> {
  const timestamp = Math.floor(Date.now() / 1000);
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(req.body)),
    'user-agent': `Kiln-Webhooks/${VERSION}`,
    'x-kiln-event': req.kind,
    'x-kiln-delivery': req.deliveryId,
    'x-kiln-event-id': req.eventId,
    'x-kiln-timestamp': String(timestamp),
  };
  if (req.secret) headers['x-kiln-signature'] = signatureOf(req.secret, timestamp, req.body);
  const started = performance.now();
  try {
    const u = new URL(req.url);
    // Addresses written in the URL are never looked up by the connection: check them here.
    if (isIP(u.hostname.replace(/^\[(.*)\]$/, '$1'))) await req.policy.resolve(u.hostname);
    const { status, text } = await post(u, headers, req.body, req.timeoutMs, req.policy);
    const ok = status >= 200 && status < 300;
    return { success: ok, responseStatus: status, responseBody: responseExcerpt(text), error: ok ? null : `The receiver answered HTTP ${status}.`, durationMs: performance.now() - started };
  } catch (e) {
    return { success: false, responseStatus: null, responseBody: null, error: describeError(e, req.timeoutMs), durationMs: performance.now() - started };
  }
}

/** One POST over a fresh connection (no pooling: each connection's address is checked); reads at most RESPONSE_READ_LIMIT bytes of the answer. */
function post(u: URL, headers: Record<string, string>, body: string, timeoutMs: number, policy: DestinationPolicy): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const send = u.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(
      u,
      { method: 'POST', headers, agent: false, lookup: policy.lookup as unknown as LookupFunction, signal: AbortSignal.timeout(timeoutMs) },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        const done = () => {
          res.destroy();
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).subarray(0, RESPONSE_READ_LIMIT).toString('utf8') });
        };
        res.on('data', (c: Buffer) => {
          chunks.push(c);
          size += c.byteLength;
          if (size >= RESPONSE_READ_LIMIT) done();
        });
        res.on('end', done);
        // keep what arrived before an error or an abort (a timeout while reading the body)
        res.on('error', done);
        res.on('close', done);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** A short, printable excerpt of a response body: control and invisible formatting characters removed, whitespace collapsed. */
export function responseExcerpt(text: string): string {
  // eslint-disable-next-line no-control-regex
  const clean = text.replace(/[\u0000-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]+/g, ' ').replace(/\s+/g, ' ').trim();
  const chars = [...clean];
  return chars.length <= RESPONSE_EXCERPT_LIMIT ? clean : chars.slice(0, RESPONSE_EXCERPT_LIMIT - 1).join('') + '…';
}

function describeError(e: unknown, timeoutMs: number): string {
  const err = e as { name?: string; message?: string; code?: string; cause?: { code?: string; message?: string } };
  if (err?.name === 'TimeoutError' || err?.name === 'AbortError') return `No answer within ${timeoutMs} ms.`;
  if (e instanceof DestinationRefused) return `Refused to send: ${e.message}`.slice(0, 500);
  const cause = err?.cause;
  if (cause && (cause.code || cause.message)) return `Could not reach the receiver: ${[cause.code, cause.message].filter(Boolean).join(' ')}`.slice(0, 500);
  return `Could not reach the receiver: ${[err?.code, err?.message ?? String(e)].filter(Boolean).join(' ')}`.slice(0, 500);
}

/**
 * Sends queued deliveries. Every server process runs one: it polls for due attempts (and wakes as soon as its own
 * process queues one), claims each with a guarded UPDATE so that replicas never send the same attempt twice, sends
 * it, and records the outcome, queuing the next attempt with exponential backoff and jitter until the last one.
 */
export class WebhookDispatcher {
  private readonly loop: PollLoop;
  /** Attempts being sent by this process, by delivery id: each runs on its own, so a slow receiver holds up only its own. */
  private readonly inFlight = new Map<number, Promise<void>>();

  constructor(
    private readonly store: WebhookStore,
    private readonly opts: WebhookOptions,
    private readonly policy: DestinationPolicy,
    private readonly now: () => number = Date.now,
    private readonly onError: (e: unknown, what: string) => void = () => {},
  ) {
    this.loop = new PollLoop(
      () => this.round(),
      () => this.idleMs(),
      (e) => this.onError(e, 'looking for due webhook deliveries'),
    );
  }

  start(): void {
    this.loop.start();
  }

  /** Looks for due attempts now instead of at the next poll. */
  wake(): void {
    this.loop.wake();
  }

  /** Stops polling and waits for the attempts in flight to be sent and recorded. Safe to call twice. */
  async close(): Promise<void> {
    await this.loop.stop();
    await Promise.allSettled([...this.inFlight.values()]);
  }

  /** Starts due attempts up to the concurrency limit; false when none was started. */
  private async round(): Promise<boolean> {
    const free = this.opts.concurrency - this.inFlight.size;
    if (free <= 0) return false; // a finishing attempt wakes the loop
    // Rows this process is sending stay due until their claim lands: ask for enough to find `free` others.
    const rows = (await this.store.due(this.now(), free + this.inFlight.size)).filter((r) => !this.inFlight.has(Number(r.delivery_pk))).slice(0, free);
    for (const r of rows) {
      const pk = Number(r.delivery_pk);
      const p = this.attempt(r)
        .catch((e) => this.onError(e, `webhook delivery ${pk}`))
        .finally(() => {
          this.inFlight.delete(pk);
          this.loop.wake();
        });
      this.inFlight.set(pk, p);
    }
    return rows.length > 0;
  }

  /** How long to sleep when nothing is due: until the earliest queued attempt, at most the poll interval. */
  private async idleMs(): Promise<number> {
    const due = await this.store.nextDueTime();
    return due === undefined ? this.opts.pollIntervalMs : Math.min(this.opts.pollIntervalMs, Math.max(5, due - this.now()));
  }

  private async attempt(row: DeliveryRow): Promise<void> {
    const claimedAt = this.now();
    const leaseUntil = claimedAt + this.opts.timeoutMs + this.opts.leaseMarginMs;
    if (!(await this.store.claim(Number(row.delivery_pk), Number(row.next_attempt_time), claimedAt, leaseUntil))) return;
    const hook = await this.store.get(row.webhook_id);
    if (!hook) return; // deleted meanwhile, with its deliveries
    const attempt = Number(row.attempts);
    let outcome: AttemptOutcome;
    if (hook.status !== 'ACTIVE') {
      outcome = { status: 'FAILED', responseStatus: null, responseBody: null, error: 'The webhook was disabled before this attempt was sent.', durationMs: 0, retryTime: null };
    } else {
      const r = await sendWebhook({ url: hook.url, secret: hook.secret === null ? null : (this.opts.secrets?.open(hook.secret) ?? hook.secret), body: row.payload, kind: row.event_kind, deliveryId: String(row.delivery_pk), eventId: row.event_id, timeoutMs: this.opts.timeoutMs, policy: this.policy });
      const retry = !r.success && attempt < this.opts.maxAttempts;
      outcome = {
        status: r.success ? 'SUCCEEDED' : retry ? 'RETRIED' : 'FAILED',
        responseStatus: r.responseStatus,
        responseBody: r.responseBody,
        error: r.success ? null : attempt >= this.opts.maxAttempts ? `${r.error} Gave up after ${attempt} attempts.` : r.error,
        durationMs: r.durationMs,
        retryTime: retry ? this.now() + backoffDelay(attempt, this.opts) : null,
      };
    }
    await this.store.finish(row, leaseUntil, outcome, this.now());
  }
}
