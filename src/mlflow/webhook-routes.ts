import type { FastifyInstance, FastifyRequest } from 'fastify';
import { invalid } from '../platform/errors.js';
import { rule } from '../platform/auth/rules.js';
import { Fields, badType } from './fields.js';
import type { ModelEventKind } from '../registry/types.js';
import type { Webhook, WebhookEventKind, WebhookService } from '../webhooks/service.js';

export interface MlflowWebhookDeps {
  readonly webhooks: WebhookService;
}

/**
 * MLflow's webhook events (webhooks.proto: an entity and an action) that Kiln records, and the registry event kind
 * each one is. MLflow's model_version_tag.* and prompt events have no Kiln counterpart.
 */
export const MLFLOW_WEBHOOK_EVENTS: readonly { entity: string; action: string; kind: ModelEventKind }[] = [
  { entity: 'REGISTERED_MODEL', action: 'CREATED', kind: 'model_created' },
  { entity: 'MODEL_VERSION', action: 'CREATED', kind: 'version_created' },
  { entity: 'MODEL_VERSION_ALIAS', action: 'CREATED', kind: 'alias_set' },
  { entity: 'MODEL_VERSION_ALIAS', action: 'DELETED', kind: 'alias_deleted' },
];

const accepted = MLFLOW_WEBHOOK_EVENTS.map((e) => `${e.entity.toLowerCase()}.${e.action.toLowerCase()}`).join(', ');

/** MLflow event objects ({entity, action}, either case; or "entity.action" strings) → Kiln kinds. */
export function kindsOfMlflowEvents(list: Record<string, unknown>[] | string[]): ModelEventKind[] {
  if (list.length === 0) throw invalid(`Webhook events cannot be empty: accepted events are ${accepted}.`);
  return list.map((e, i) => {
    let entity: unknown;
    let action: unknown;
    if (typeof e === 'string') [entity, action] = e.split('.');
    else ({ entity, action } = e);
    if (typeof entity !== 'string' || typeof action !== 'string') throw badType(`events[${i}]`, e, 'an object {entity, action}');
    const found = MLFLOW_WEBHOOK_EVENTS.find((m) => m.entity === entity.toUpperCase() && m.action === action.toUpperCase());
    if (!found) throw invalid(`Unsupported webhook event ${entity.toLowerCase()}.${action.toLowerCase()}: accepted events are ${accepted}.`, { field: 'events' });
    return found.kind;
  });
}

/** Kiln kinds → MLflow event objects (kinds without an MLflow counterpart are left out). */
export function mlflowEventsOf(kinds: readonly WebhookEventKind[]): { entity: string; action: string }[] {
  const all = kinds.includes('*');
  return MLFLOW_WEBHOOK_EVENTS.filter((m) => all || kinds.includes(m.kind)).map((m) => ({ entity: m.entity, action: m.action }));
}

export function mlflowWebhook(w: Webhook): Record<string, unknown> {
  return {
    webhook_id: w.id,
    name: w.name,
    ...(w.description ? { description: w.description } : {}),
    url: w.url,
    events: mlflowEventsOf(w.events),
    creation_timestamp: w.creationTime,
    last_updated_timestamp: w.lastUpdateTime,
    status: w.status,
  };
}

const isRead = (req: FastifyRequest) => req.method === 'GET' || req.method === 'DELETE';
const fieldsOf = (req: FastifyRequest) => new Fields(isRead(req) ? req.query : req.body, isRead(req));

function eventsField(f: Fields): ModelEventKind[] | undefined {
  if (!f.has('events')) return undefined;
  const raw = f.raw('events');
  if (!Array.isArray(raw)) throw badType('events', raw, 'a list of {entity, action} objects');
  return kindsOfMlflowEvents(raw.every((x) => typeof x === 'string') ? (raw as string[]) : f.objectList('events'));
}

/** MLflow 3's webhook API (webhooks.proto) as translations onto WebhookService. Register inside the /mlflow scope. */
export async function mlflowWebhookRoutes(app: FastifyInstance, deps: MlflowWebhookDeps): Promise<void> {
  const w = deps.webhooks;
  type P = { webhook_id: string };
  // As the native API's rules (webhooks/routes.ts): MLflow's webhooks watch every model, so creating and changing them
  // is a server admin's; acting on an existing one goes by the webhook.

  app.post('/webhooks', { config: { permission: rule.admin } }, async (req) => {
    const f = fieldsOf(req);
    const events = eventsField(f);
    if (events === undefined) throw invalid(`Missing value for required parameter 'events'. Accepted events are ${accepted}.`, { field: 'events' });
    const hook = await w.create({
      name: f.requiredString('name'),
      url: f.requiredString('url'),
      events,
      description: f.optionalString('description'),
      status: f.optionalString('status'),
      secret: f.optionalString('secret'),
    });
    return { webhook: mlflowWebhook(hook) };
  });
  app.get('/webhooks', { config: { permission: rule.admin } }, async (req) => {
    const f = fieldsOf(req);
    const page = await w.list({ maxResults: f.optionalInt('max_results'), pageToken: f.optionalString('page_token') });
    return { webhooks: page.items.map(mlflowWebhook), ...(page.nextPageToken ? { next_page_token: page.nextPageToken } : {}) };
  });
  app.get<{ Params: P }>('/webhooks/:webhook_id', { config: { permission: rule.admin } }, async (req) => ({ webhook: mlflowWebhook(await w.get(req.params.webhook_id)) }));
  app.patch<{ Params: P }>('/webhooks/:webhook_id', { config: { permission: rule.admin } }, async (req) => {
    const f = fieldsOf(req);
    const hook = await w.update(req.params.webhook_id, {
      name: f.optionalString('name'),
      url: f.optionalString('url'),
      events: eventsField(f),
      description: f.optionalString('description'),
      status: f.optionalString('status'),
      secret: f.optionalString('secret'),
    });
    return { webhook: mlflowWebhook(hook) };
  });
  app.delete<{ Params: P }>('/webhooks/:webhook_id', { config: { permission: rule.admin } }, async (req) => {
    await w.delete(req.params.webhook_id);
    return {};
  });
  app.post<{ Params: P }>('/webhooks/:webhook_id/test', { config: { permission: rule.admin } }, async (req) => {
    const f = fieldsOf(req);
    // MLflow lets the caller pick the event of the sample payload; Kiln always sends a ping, but checks the event.
    if (f.has('event')) {
      const e = f.raw('event');
      if (typeof e !== 'object' || e === null || Array.isArray(e)) throw badType('event', e, 'an object {entity, action}');
      kindsOfMlflowEvents([e as Record<string, unknown>]);
    }
    const r = await w.test(req.params.webhook_id);
    return {
      result: {
        success: r.success,
        ...(r.responseStatus !== null ? { response_status: r.responseStatus } : {}),
        ...(r.responseBody !== null ? { response_body: r.responseBody } : {}),
        ...(r.errorMessage !== null ? { error_message: r.errorMessage } : {}),
      },
    };
  });
}
