import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type, type TSchema } from '@sinclair/typebox';
import { ErrorBody } from '../platform/http/schemas.js';
import { rule } from '../platform/auth/rules.js';
import type { Webhook, WebhookDelivery, WebhookService, WebhookTestResult } from './service.js';
import { WebhookPayload } from './schemas.js';

export interface WebhookRouteDeps {
  readonly webhooks: WebhookService;
}

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);

export const WebhookSchema = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    url: Type.String(),
    events: Type.Array(Type.String(), { description: "registry event kinds and monitor_alert_firing, monitor_alert_resolved; or ['*'] for all" }),
    model_name: Nullable(Type.String({ description: 'only events of this registered model' })),
    status: Type.String({ description: 'ACTIVE or DISABLED' }),
    description: Nullable(Type.String()),
    has_secret: Type.Boolean({ description: 'whether deliveries are signed (the secret is never returned)' }),
    creation_time: Type.Integer(),
    last_update_time: Type.Integer(),
  },
  { $id: 'Webhook' },
);

export const WebhookDeliverySchema = Type.Object(
  {
    id: Type.Integer(),
    webhook_id: Type.String(),
    event_id: Type.String({ description: 'evt_<n>: the same for every attempt and redelivery of one event' }),
    event_kind: Type.String(),
    attempt: Type.Integer({ description: '1 for the first attempt' }),
    status: Type.String({ description: 'PENDING, SUCCEEDED, RETRIED (failed; the next attempt is queued) or FAILED (no more attempts)' }),
    creation_time: Type.Integer(),
    attempt_time: Nullable(Type.Integer()),
    next_attempt_time: Nullable(Type.Integer({ description: 'when this (PENDING) or the next (RETRIED) attempt is due' })),
    response_status: Nullable(Type.Integer()),
    response_body: Nullable(Type.String({ description: 'a short excerpt of the answer (at most 200 characters, control characters removed)' })),
    error: Nullable(Type.String()),
    duration_ms: Nullable(Type.Integer()),
    payload: WebhookPayload,
  },
  { $id: 'WebhookDelivery' },
);

export const WebhookTestResultSchema = Type.Object({
  success: Type.Boolean(),
  response_status: Nullable(Type.Integer()),
  response_body: Nullable(Type.String({ description: 'a short excerpt of the answer (at most 200 characters, control characters removed)' })),
  error_message: Nullable(Type.String()),
  response_time_ms: Type.Integer(),
});

const CreateBody = Type.Object(
  {
    name: Type.String(),
    url: Type.String({ description: 'http:// or https://, without credentials' }),
    events: Type.Array(Type.String(), { description: "event kinds, or ['*']" }),
    model_name: Type.Optional(Nullable(Type.String())),
    secret: Type.Optional(Nullable(Type.String({ description: 'signs deliveries (x-kiln-signature); write-only' }))),
    status: Type.Optional(Type.String({ description: 'ACTIVE (default) or DISABLED' })),
    description: Type.Optional(Nullable(Type.String())),
  },
  { additionalProperties: false },
);
const UpdateBody = Type.Partial(CreateBody, { additionalProperties: false });
const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
const DeliveryParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }), delivery: Type.String({ maxLength: 20 }) });
const PageQuery = Type.Object({ max_results: Type.Optional(Type.Integer({ minimum: 1 })), page_token: Type.Optional(Type.String()) });

export function webhookJson(w: Webhook) {
  return {
    id: w.id,
    name: w.name,
    url: w.url,
    events: [...w.events],
    model_name: w.modelName,
    status: w.status,
    description: w.description,
    has_secret: w.hasSecret,
    creation_time: w.creationTime,
    last_update_time: w.lastUpdateTime,
  };
}

export function deliveryJson(d: WebhookDelivery) {
  return {
    id: d.id,
    webhook_id: d.webhookId,
    event_id: d.eventId,
    event_kind: d.eventKind,
    attempt: d.attempt,
    status: d.status,
    creation_time: d.creationTime,
    attempt_time: d.attemptTime,
    next_attempt_time: d.nextAttemptTime,
    response_status: d.responseStatus,
    response_body: d.responseBody,
    error: d.error,
    duration_ms: d.durationMs,
    payload: d.payload,
  };
}

export function testResultJson(r: WebhookTestResult) {
  return { success: r.success, response_status: r.responseStatus, response_body: r.responseBody, error_message: r.errorMessage, response_time_ms: r.responseTimeMs };
}

const err = { 400: ErrorBody, 404: ErrorBody };
const tags = ['webhooks'];

/** The native webhook API under /api/v1. */
export const webhookRoutes: FastifyPluginAsync<WebhookRouteDeps> = async (root, deps) => {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const w = deps.webhooks;
  // A webhook watches one registered model (model_name) or every model of the server. Rules are fixed per route, not
  // per body, and a body can ask for every model, so creating and changing webhooks is a server admin's. Acting on an
  // existing one goes by the webhook: maintainers of what it watches (only admins for one that watches every model).

  app.post('/webhooks', { config: { permission: rule.admin }, schema: { tags, summary: 'Create a webhook on registry events and monitor alerts (the secret is write-only)', body: CreateBody, response: { 201: Type.Object({ webhook: WebhookSchema }), ...err } } }, async (req, reply) => {
    const b = req.body;
    const hook = await w.create({ name: b.name, url: b.url, events: b.events, modelName: b.model_name, secret: b.secret, status: b.status, description: b.description });
    return reply.status(201).send({ webhook: webhookJson(hook) });
  });
  app.get('/webhooks', { config: { permission: rule.admin }, schema: { tags, summary: 'List webhooks (newest first)', querystring: PageQuery, response: { 200: Type.Object({ webhooks: Type.Array(WebhookSchema), next_page_token: Type.Optional(Type.String()) }), ...err } } }, async (req) => {
    const page = await w.list({ maxResults: req.query.max_results, pageToken: req.query.page_token });
    return { webhooks: page.items.map(webhookJson), next_page_token: page.nextPageToken };
  });
  app.get('/webhooks/:id', { config: { permission: rule.admin }, schema: { tags, summary: 'Get a webhook', params: IdParams, response: { 200: Type.Object({ webhook: WebhookSchema }), ...err } } }, async (req) => ({
    webhook: webhookJson(await w.get(req.params.id)),
  }));
  app.patch('/webhooks/:id', { config: { permission: rule.admin }, schema: { tags, summary: 'Change a webhook (null clears model_name, secret, description)', params: IdParams, body: UpdateBody, response: { 200: Type.Object({ webhook: WebhookSchema }), ...err } } }, async (req) => {
    const b = req.body;
    return { webhook: webhookJson(await w.update(req.params.id, { name: b.name, url: b.url, events: b.events, modelName: b.model_name, secret: b.secret, status: b.status, description: b.description })) };
  });
  app.delete('/webhooks/:id', { config: { permission: rule.admin }, schema: { tags, summary: 'Delete a webhook and its delivery log', params: IdParams, response: { 204: Type.Null(), ...err } } }, async (req, reply) => {
    await w.delete(req.params.id);
    return reply.status(204).send(null);
  });
  app.post('/webhooks/:id/test', { config: { permission: rule.admin }, schema: { tags, summary: 'Send a ping event now and return what the receiver answered', params: IdParams, response: { 200: WebhookTestResultSchema, ...err } } }, async (req) =>
    testResultJson(await w.test(req.params.id)),
  );
  app.get('/webhooks/:id/deliveries', { config: { permission: rule.admin }, schema: { tags, summary: 'The delivery log: one entry per attempt, newest first', params: IdParams, querystring: PageQuery, response: { 200: Type.Object({ deliveries: Type.Array(WebhookDeliverySchema), next_page_token: Type.Optional(Type.String()) }), ...err } } }, async (req) => {
    const page = await w.deliveries(req.params.id, { maxResults: req.query.max_results, pageToken: req.query.page_token });
    return { deliveries: page.items.map(deliveryJson), next_page_token: page.nextPageToken };
  });
  app.post('/webhooks/:id/deliveries/:delivery/redeliver', { config: { permission: rule.admin }, schema: { tags, summary: 'Queue the payload of a past delivery again', params: DeliveryParams, response: { 202: Type.Object({ delivery: WebhookDeliverySchema }), 409: ErrorBody, ...err } } }, async (req, reply) => {
    const d = await w.redeliver(req.params.id, req.params.delivery);
    return reply.status(202).send({ delivery: deliveryJson(d) });
  });
};
