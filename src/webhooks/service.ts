import type { Transaction } from 'kysely';
import { KilnError, invalid, notFound } from '../platform/errors.js';
import type { EventLog } from '../platform/events/log.js';
import type { EventConsumerSpec, KilnEvent } from '../platform/events/types.js';
import { newId } from '../platform/ids.js';
import { offsetFromPageToken, offsetPage, validateMaxResults, type Page } from '../platform/pagination.js';
import { checkName } from '../platform/validation.js';
import { MODEL_EVENT_KINDS, REGISTRY_EVENT_PREFIX, registryNoticeOf, type ModelEventKind, type RegistryNotice } from '../registry/types.js';
import { MONITOR_ALERT_EVENT_PREFIX, MONITOR_EVENT_KINDS, type AlertNotice, type MonitorEventKind } from '@kiln-mlops/sdk/contract/monitoring-schemas';
import { DEFAULT_WEBHOOK_OPTIONS, sendWebhook, type WebhookOptions } from './dispatcher.js';
import { DestinationPolicy } from './destination.js';
import type { DeliveryRow, WebhookRow, WebhookStore } from './store.js';
import type { WebhookPayload } from './schemas.js';
import type { WebhookTables } from './tables.js';

export const WEBHOOK_STATUSES = ['ACTIVE', 'DISABLED'] as const;
export type WebhookStatus = (typeof WEBHOOK_STATUSES)[number];
/** A webhook subscribes to registry and monitor alert event kinds, or to all of them with `*`. */
export type WebhookEventKind = ModelEventKind | MonitorEventKind | '*';
const EVENT_KINDS: readonly string[] = [...MODEL_EVENT_KINDS, ...MONITOR_EVENT_KINDS];

export const WEBHOOK_LIMITS = { maxName: 256, maxUrl: 2048, maxSecret: 1024, maxDescription: 5000, maxModelName: 256 } as const;

export interface Webhook {
  readonly id: string;
  readonly name: string;
  readonly url: string;
  readonly events: readonly WebhookEventKind[];
  /** Only events of this registered model, when set. */
  readonly modelName: string | null;
  /** Whether a signing secret is set (the secret itself is never returned). */
  readonly hasSecret: boolean;
  readonly status: WebhookStatus;
  readonly description: string | null;
  readonly creationTime: number;
  readonly lastUpdateTime: number;
}

export interface CreateWebhookInput {
  readonly name: unknown;
  readonly url: unknown;
  readonly events: unknown;
  readonly modelName?: unknown;
  readonly secret?: unknown;
  readonly status?: unknown;
  readonly description?: unknown;
}

/** Fields left undefined are unchanged; `null` clears model_name, secret and description. */
export type UpdateWebhookInput = Partial<CreateWebhookInput>;

/** One attempt of the delivery log. */
export interface WebhookDelivery {
  readonly id: number;
  readonly webhookId: string;
  readonly eventId: string;
  readonly eventKind: string;
  readonly attempt: number;
  /** PENDING (queued), SUCCEEDED, RETRIED (failed; the next attempt is queued) or FAILED (failed; no more attempts). */
  readonly status: string;
  readonly creationTime: number;
  /** When the attempt was sent (null while PENDING). */
  readonly attemptTime: number | null;
  /** PENDING: when it is due; RETRIED: when the next attempt is due. */
  readonly nextAttemptTime: number | null;
  readonly responseStatus: number | null;
  /** A short excerpt of the response body (at most 200 characters, control characters removed). */
  readonly responseBody: string | null;
  readonly error: string | null;
  readonly durationMs: number | null;
  readonly payload: WebhookPayload;
}

/** What a synchronous test send found (MLflow's WebhookTestResult, plus the time taken). */
export interface WebhookTestResult {
  readonly success: boolean;
  readonly responseStatus: number | null;
  readonly responseBody: string | null;
  readonly errorMessage: string | null;
  readonly responseTimeMs: number;
}

/** The JSON body of every delivery. */
export type { WebhookPayload } from './schemas.js';

/** The name under which the webhooks keep their position in the event log. */
export const WEBHOOK_CONSUMER = 'webhooks';

/**
 * Webhooks on registry events: their definitions, the queue of deliveries and the delivery log. Deliveries are queued
 * by the webhooks' consumer of the platform's event log, in the transaction that moves its position (so each event
 * is queued exactly once, whichever replica committed it and whatever crashed meanwhile). Sending is the
 * WebhookDispatcher's job.
 */
export class WebhookService {
  readonly options: WebhookOptions;
  /** Which destinations webhooks may reach: checked when a URL is set and at every connection. */
  readonly destinations: DestinationPolicy;
  private readonly queuedListeners = new Set<() => void>();

  constructor(
    private readonly store: WebhookStore,
    private readonly events: EventLog,
    options: Partial<WebhookOptions> = {},
    private readonly now: () => number = Date.now,
    private readonly onError: (e: unknown, what: string) => void = () => {},
  ) {
    this.options = { ...DEFAULT_WEBHOOK_OPTIONS, ...options };
    this.destinations = new DestinationPolicy(this.options.allowedHosts, this.options.resolver);
  }

  /** A signing secret as it is stored: sealed with the server key. */
  private sealed(secret: string | null): string | null {
    return secret === null || !this.options.secrets ? secret : this.options.secrets.seal(secret);
  }

  /** Seals the signing secrets stored in clear before they were encrypted at rest (once, at start); returns how many. */
  async sealStoredSecrets(): Promise<number> {
    const secrets = this.options.secrets;
    if (!secrets) return 0;
    let n = 0;
    for (const row of await this.store.withPlainSecrets()) {
      if (await this.store.replaceSecret(row.webhook_id, row.secret, secrets.seal(row.secret))) n++;
    }
    return n;
  }

  // ------------------------------------------------------------------ definitions
  async create(input: CreateWebhookInput): Promise<Webhook> {
    const now = this.now();
    const row: WebhookRow = {
      webhook_id: newId(),
      name: validateName(input.name),
      url: await this.validateDestination(input.url),
      events: JSON.stringify(validateEvents(input.events)),
      model_name: validateModelName(input.modelName),
      secret: this.sealed(validateSecret(input.secret)),
      status: validateStatus(input.status ?? 'ACTIVE'),
      description: validateDescription(input.description),
      creation_time: now,
      last_update_time: now,
    };
    await this.events.transaction(this.store.db, async (trx, _emit, audit) => {
      await this.store.insert(row, trx);
      audit({ action: 'webhooks.webhook_created', resourceType: 'webhook', resourceId: row.webhook_id, details: { name: row.name, url: row.url, events: JSON.parse(row.events) as unknown, model_name: row.model_name, signed: row.secret !== null } });
    });
    return webhookOf(row);
  }

  async get(id: string): Promise<Webhook> {
    return webhookOf(await this.require(id));
  }

  async list(opts: { maxResults?: number; pageToken?: string } = {}): Promise<Page<Webhook>> {
    const limit = validateMaxResults(opts.maxResults, 100, 1000);
    const offset = offsetFromPageToken(opts.pageToken);
    const rows = await this.store.list(offset, limit + 1);
    return offsetPage(rows, limit, offset, async (r) => r.map(webhookOf));
  }

  async update(id: string, input: UpdateWebhookInput): Promise<Webhook> {
    await this.require(id);
    const patch: Partial<WebhookRow> = {};
    if (input.name !== undefined) patch.name = validateName(input.name);
    if (input.url !== undefined) patch.url = await this.validateDestination(input.url);
    if (input.events !== undefined) patch.events = JSON.stringify(validateEvents(input.events));
    if (input.modelName !== undefined) patch.model_name = validateModelName(input.modelName);
    if (input.secret !== undefined) patch.secret = this.sealed(validateSecret(input.secret));
    if (input.status !== undefined) patch.status = validateStatus(input.status);
    if (input.description !== undefined) patch.description = validateDescription(input.description);
    patch.last_update_time = this.now();
    const changed = Object.keys(patch).filter((k) => k !== 'last_update_time');
    await this.events.transaction(this.store.db, async (trx, _emit, audit) => {
      await this.store.update(id, patch, trx);
      // The fields changed are named; a new secret's value never is.
      audit({ action: 'webhooks.webhook_updated', resourceType: 'webhook', resourceId: id, details: { changed, ...(patch.url !== undefined ? { url: patch.url } : {}), ...(patch.status !== undefined ? { status: patch.status } : {}) } });
    });
    return this.get(id);
  }

  /** Deletes a webhook with its delivery log; queued attempts are dropped. */
  async delete(id: string): Promise<void> {
    const webhookId = requireId(id);
    await this.events.transaction(this.store.db, async (trx, _emit, audit) => {
      if (!(await this.store.delete(webhookId, trx))) throw notFound(`Webhook with id=${id} not found.`);
      audit({ action: 'webhooks.webhook_deleted', resourceType: 'webhook', resourceId: webhookId });
    });
  }

  // ------------------------------------------------------------------ events → deliveries
  /** How the webhooks read the event log: registry and monitor alert events, from the beginning (none existed before webhooks could). */
  consumer(): EventConsumerSpec {
    return {
      name: WEBHOOK_CONSUMER,
      startAt: 'beginning',
      accepts: (type) => type.startsWith(REGISTRY_EVENT_PREFIX) || type.startsWith(MONITOR_ALERT_EVENT_PREFIX),
      handle: (events, trx) => this.enqueue(events, trx as unknown as Transaction<WebhookTables>),
      afterCommit: () => this.notifyQueued(),
    };
  }

  /** Calls `listener` whenever deliveries were queued (the dispatcher wakes up). */
  onQueued(listener: () => void): () => void {
    this.queuedListeners.add(listener);
    return () => this.queuedListeners.delete(listener);
  }

  /** Queues, inside the consumer's transaction, one delivery per matching ACTIVE webhook of each event. */
  private async enqueue(events: readonly KilnEvent[], trx: Transaction<WebhookTables>): Promise<void> {
    const hooks = await this.store.active(trx);
    if (hooks.length === 0) return;
    const now = this.now();
    for (const e of events) {
      const notice = registryNoticeOf(e) ?? alertNoticeOf(e);
      if (!notice) continue;
      const body = payloadOf(notice);
      const payload = JSON.stringify(body);
      for (const h of hooks.filter((x) => matches(x, notice))) {
        await this.store.queue({ webhookId: h.webhook_id, eventId: body.id, eventKind: notice.kind, payload, attempt: 1, dueTime: now, now }, trx);
      }
    }
  }

  /** Resolves once the deliveries of every event committed so far are queued (tests, orderly shutdown). */
  async whenSettled(timeoutMs?: number): Promise<void> {
    await this.events.whenConsumed(WEBHOOK_CONSUMER, timeoutMs);
  }

  // ------------------------------------------------------------------ delivery log
  async deliveries(id: string, opts: { maxResults?: number; pageToken?: string } = {}): Promise<Page<WebhookDelivery>> {
    await this.require(id);
    const limit = validateMaxResults(opts.maxResults, 100, 1000);
    const offset = offsetFromPageToken(opts.pageToken);
    const rows = await this.store.deliveries(id, offset, limit + 1);
    return offsetPage(rows, limit, offset, async (r) => r.map(deliveryOf));
  }

  async delivery(id: string, deliveryId: string | number): Promise<WebhookDelivery> {
    return deliveryOf(await this.requireDelivery(id, deliveryId));
  }

  /** Queues the payload of a past attempt again, as the first attempt of a new series. */
  async redeliver(id: string, deliveryId: string | number): Promise<WebhookDelivery> {
    const row = await this.requireDelivery(id, deliveryId);
    if (row.status === 'PENDING') throw new KilnError('INVALID_STATE', `Delivery ${row.delivery_pk} is still queued; redeliver it once it has been sent.`);
    const now = this.now();
    const pk = await this.store.queue({ webhookId: row.webhook_id, eventId: row.event_id, eventKind: row.event_kind, payload: row.payload, attempt: 1, dueTime: now, now });
    this.notifyQueued();
    return this.delivery(id, pk);
  }

  // ------------------------------------------------------------------ test
  /** Sends a `ping` event now (whatever the webhook's status) and returns what the receiver answered. Not logged. */
  async test(id: string): Promise<WebhookTestResult> {
    const hook = await this.require(id);
    const payload: WebhookPayload = {
      id: `evt_ping_${newId().slice(0, 16)}`,
      kind: 'ping',
      time: this.now(),
      model: null,
      version: null,
      alias: null,
      actor: 'kiln',
      reason: null,
      details: { webhook_id: hook.webhook_id, webhook_name: hook.name },
    };
    const r = await sendWebhook({ url: hook.url, secret: hook.secret === null ? null : (this.options.secrets?.open(hook.secret) ?? hook.secret), body: JSON.stringify(payload), kind: 'ping', deliveryId: `test_${newId().slice(0, 16)}`, eventId: payload.id, timeoutMs: this.options.timeoutMs, policy: this.destinations });
    return { success: r.success, responseStatus: r.responseStatus, responseBody: r.responseBody, errorMessage: r.error, responseTimeMs: Math.round(r.durationMs) };
  }

  // ------------------------------------------------------------------ helpers
  /** A valid URL whose host is not (and does not resolve to) an internal address outside the allow-list. */
  private async validateDestination(v: unknown): Promise<string> {
    const url = validateUrl(v);
    await this.destinations.checkUrl(url);
    return url;
  }

  private notifyQueued(): void {
    for (const l of this.queuedListeners) {
      try {
        l();
      } catch (e) {
        this.onError(e, 'a webhook queue listener failed');
      }
    }
  }

  private async require(id: string): Promise<WebhookRow> {
    const row = await this.store.get(requireId(id));
    if (!row) throw notFound(`Webhook with id=${id} not found.`);
    return row;
  }

  private async requireDelivery(id: string, deliveryId: string | number): Promise<DeliveryRow> {
    await this.require(id);
    const pk = typeof deliveryId === 'number' ? deliveryId : /^\d{1,15}$/.test(deliveryId) ? Number(deliveryId) : NaN;
    if (!Number.isSafeInteger(pk) || pk <= 0) throw invalid(`Invalid delivery id '${String(deliveryId).slice(0, 40)}': expected a positive integer.`);
    const row = await this.store.delivery(id, pk);
    if (!row) throw notFound(`Delivery ${pk} of webhook ${id} not found.`);
    return row;
  }
}

// ------------------------------------------------------------------ mapping
/** A monitor alert's notice, as a webhook sees it: the kind, the model it watches, the monitor and rule in the details. */
interface MonitorNotice {
  readonly id: string;
  readonly kind: MonitorEventKind;
  readonly model: string | null;
  readonly alert: AlertNotice;
}

function alertNoticeOf(e: KilnEvent): MonitorNotice | undefined {
  if (!e.type.startsWith(MONITOR_ALERT_EVENT_PREFIX)) return undefined;
  const a = e.data as unknown as AlertNotice;
  if (!(MONITOR_EVENT_KINDS as readonly string[]).includes(a.kind)) return undefined;
  return { id: `evt_monitor_${a.id}_${a.kind === 'monitor_alert_firing' ? 'firing' : 'resolved'}`, kind: a.kind, model: a.model, alert: a };
}

export function payloadOf(n: RegistryNotice | MonitorNotice): WebhookPayload {
  if ('alert' in n) {
    const a = n.alert;
    return { id: n.id, kind: n.kind, time: a.time, model: a.model, version: null, alias: null, actor: 'kiln', reason: a.rule, details: { monitor: a.monitor, deployment: a.deployment, rule: a.rule, value: a.value, window_start: a.window_start, alert_id: a.id } };
  }
  return { id: `evt_${n.id}`, kind: n.kind, time: n.time, model: n.model, version: n.version, alias: n.alias, actor: n.actor, reason: n.reason, details: n.details };
}

function matches(h: WebhookRow, n: RegistryNotice | MonitorNotice): boolean {
  if (h.model_name !== null && h.model_name !== n.model) return false;
  const events = parseEvents(h.events);
  return events.includes('*') || events.includes(n.kind);
}

function parseEvents(text: string): WebhookEventKind[] {
  try {
    const v: unknown = JSON.parse(text);
    return Array.isArray(v) ? (v.filter((x) => typeof x === 'string') as WebhookEventKind[]) : [];
  } catch {
    return [];
  }
}

function webhookOf(r: WebhookRow): Webhook {
  return {
    id: r.webhook_id,
    name: r.name,
    url: r.url,
    events: parseEvents(r.events),
    modelName: r.model_name,
    hasSecret: r.secret !== null && r.secret !== '',
    status: r.status as WebhookStatus,
    description: r.description,
    creationTime: Number(r.creation_time),
    lastUpdateTime: Number(r.last_update_time),
  };
}

function deliveryOf(r: DeliveryRow): WebhookDelivery {
  // Written by this server from a WebhookPayload (payloadOf), so it parses back into one.
  const payload = JSON.parse(r.payload) as WebhookPayload;
  const n = (v: number | string | null) => (v === null ? null : Number(v));
  return {
    id: Number(r.delivery_pk),
    webhookId: r.webhook_id,
    eventId: r.event_id,
    eventKind: r.event_kind,
    attempt: Number(r.attempts),
    status: r.status,
    creationTime: Number(r.creation_time),
    attemptTime: n(r.last_attempt_time),
    nextAttemptTime: r.status === 'PENDING' || r.status === 'RETRIED' ? n(r.next_attempt_time) : null,
    responseStatus: n(r.response_status),
    responseBody: r.response_body,
    error: r.error,
    durationMs: n(r.duration_ms),
    payload,
  };
}

// ------------------------------------------------------------------ validation
function requireId(id: unknown): string {
  if (typeof id !== 'string' || id === '') throw invalid(`Missing value for required parameter 'webhook_id'.`);
  if (id.length > 64) throw notFound(`Webhook with id=${id.slice(0, 64)}… not found.`);
  return id;
}

function validateName(v: unknown): string {
  if (v === undefined || v === null || v === '') throw invalid(`Missing value for required parameter 'name'.`, { field: 'name' });
  if (typeof v !== 'string') throw invalid(`Invalid value for parameter 'name': expected a string.`, { field: 'name' });
  const name = v.trim();
  if (name === '') throw invalid(`Invalid value for parameter 'name': it is blank.`, { field: 'name' });
  if (name.length > WEBHOOK_LIMITS.maxName) throw invalid(`Invalid value for parameter 'name': longer than ${WEBHOOK_LIMITS.maxName} characters.`, { field: 'name' });
  return checkName('webhook name', 'name', name);
}

/** http(s) URLs only, without credentials (they would be shown to everyone who can list webhooks: use a secret). */
export function validateUrl(v: unknown): string {
  if (v === undefined || v === null || v === '') throw invalid(`Missing value for required parameter 'url'.`, { field: 'url' });
  if (typeof v !== 'string') throw invalid(`Invalid value for parameter 'url': expected a string.`, { field: 'url' });
  if (v.length > WEBHOOK_LIMITS.maxUrl) throw invalid(`Invalid webhook URL: longer than ${WEBHOOK_LIMITS.maxUrl} characters.`, { field: 'url' });
  let u: URL;
  try {
    u = new URL(v.trim());
  } catch {
    throw invalid(`Invalid webhook URL '${v.slice(0, 100)}': expected an absolute http:// or https:// URL.`, { field: 'url' });
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw invalid(`Invalid webhook URL '${v.slice(0, 100)}': only http:// and https:// URLs are supported.`, { field: 'url' });
  if (u.hostname === '') throw invalid(`Invalid webhook URL '${v.slice(0, 100)}': it has no host.`, { field: 'url' });
  if (u.username !== '' || u.password !== '') {
    throw invalid('Invalid webhook URL: credentials in the URL are not accepted (they would be shown in webhook listings); set a secret to sign deliveries instead.', { field: 'url' });
  }
  return u.toString();
}

export function validateEvents(v: unknown): WebhookEventKind[] {
  const accepted = `'*' or ${EVENT_KINDS.join(', ')}`;
  if (v === undefined || v === null) throw invalid(`Missing value for required parameter 'events': a list of event kinds (${accepted}).`, { field: 'events' });
  const list = typeof v === 'string' ? [v] : v;
  if (!Array.isArray(list) || list.length === 0) throw invalid(`Invalid value for parameter 'events': expected a non-empty list of event kinds (${accepted}).`, { field: 'events' });
  const out = new Set<WebhookEventKind>();
  for (const k of list) {
    if (k !== '*' && !(EVENT_KINDS as readonly unknown[]).includes(k)) {
      throw invalid(`Unknown webhook event ${JSON.stringify(k)?.slice(0, 80)}: accepted events are ${accepted}.`, { field: 'events' });
    }
    out.add(k as WebhookEventKind);
  }
  return out.has('*') ? ['*'] : [...out];
}

function validateModelName(v: unknown): string | null {
  if (v === undefined || v === null || v === '') return null;
  if (typeof v !== 'string') throw invalid(`Invalid value for parameter 'model_name': expected a string.`, { field: 'model_name' });
  if (v.length > WEBHOOK_LIMITS.maxModelName) throw invalid(`Invalid value for parameter 'model_name': longer than ${WEBHOOK_LIMITS.maxModelName} characters.`, { field: 'model_name' });
  return v;
}

function validateSecret(v: unknown): string | null {
  if (v === undefined || v === null || v === '') return null;
  if (typeof v !== 'string') throw invalid(`Invalid value for parameter 'secret': expected a string.`, { field: 'secret' });
  if (v.length > WEBHOOK_LIMITS.maxSecret) throw invalid(`Invalid value for parameter 'secret': longer than ${WEBHOOK_LIMITS.maxSecret} characters.`, { field: 'secret' });
  return v;
}

function validateStatus(v: unknown): WebhookStatus {
  if (typeof v === 'string' && (WEBHOOK_STATUSES as readonly string[]).includes(v.toUpperCase())) return v.toUpperCase() as WebhookStatus;
  throw invalid(`Invalid value ${JSON.stringify(v)?.slice(0, 40)} for parameter 'status': expected ACTIVE or DISABLED.`, { field: 'status' });
}

function validateDescription(v: unknown): string | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string') throw invalid(`Invalid value for parameter 'description': expected a string.`, { field: 'description' });
  if (v.length > WEBHOOK_LIMITS.maxDescription) throw invalid(`Invalid value for parameter 'description': longer than ${WEBHOOK_LIMITS.maxDescription} characters.`, { field: 'description' });
  return v;
}
