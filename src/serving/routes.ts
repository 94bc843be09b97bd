/** The native deployments API under /api/v1: create, change, roll back, delete, history, payloads, live figures. */
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { ErrorBody } from '../platform/http/schemas.js';
import { from, rule } from '../platform/auth/rules.js';
import { actorFromHeaders } from '../platform/actor.js';
import type { ResourceDirectory } from '../platform/auth/resources.js';
import { invalid } from '../platform/errors.js';
import * as S from '@kiln-mlops/sdk/contract/serving-schemas';
import type { Deployment, DeploymentService, Revision } from './deployments.js';
import { modelNameOfUri } from './config.js';
import type { ServingPlane } from './plane.js';
import type { PayloadService } from './payloads.js';

export interface ServingRouteDeps {
  readonly deployments: DeploymentService;
  readonly plane: ServingPlane;
  readonly payloads: PayloadService;
  readonly resources: ResourceDirectory;
}

const err = { 400: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody };
const tags = ['deployments'];
const NameParams = Type.Object({ name: Type.String({ minLength: 1, maxLength: 128 }) });
const ListQuery = Type.Object({
  max_results: Type.Optional(Type.Integer({ minimum: 1 })),
  page_token: Type.Optional(Type.String({ maxLength: 100 })),
  project: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'only the deployments of this project' })),
});

/** The registered model a create request deploys first (whose project the deployment joins, and whose maintainers may deploy it). */
const firstModel = (req: FastifyRequest) => {
  const b = req.body as { model?: unknown; targets?: { model?: unknown }[] } | undefined;
  if (!b || typeof b !== 'object') return undefined;
  return modelNameOfUri(b.model ?? (Array.isArray(b.targets) ? b.targets[0]?.model : undefined));
};

export function revisionJson(r: Revision) {
  return { revision: r.revision, kind: r.kind, config: r.config, resolved: r.resolved, actor: r.actor, reason: r.reason, time: r.time };
}

export const servingRoutes: FastifyPluginAsync<ServingRouteDeps> = async (root, deps) => {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const { deployments, plane, payloads, resources } = deps;
  const json = async (d: Deployment, withStatus = false) => ({
    name: d.name,
    project: await resources.projectName(d.projectId),
    description: d.description,
    revision: d.revision,
    config: d.config,
    resolved: d.resolved,
    created_by: d.createdBy,
    creation_time: d.creationTime,
    last_update_time: d.lastUpdateTime,
    ...(withStatus ? { status: plane.status(d.name) } : {}),
  });

  app.get(
    '/deployments',
    { config: { permission: rule.listed }, schema: { tags, summary: 'List deployments (only those of projects the caller reads)', querystring: ListQuery, response: { 200: Type.Object({ deployments: Type.Array(S.Deployment), next_page_token: Type.Optional(Type.String()) }), ...err } } },
    async (req) => {
      const page = await deployments.list({ maxResults: req.query.max_results, pageToken: req.query.page_token, project: req.query.project });
      return { deployments: await Promise.all(page.items.map((d) => json(d, true))), ...(page.nextPageToken ? { next_page_token: page.nextPageToken } : {}) };
    },
  );

  app.post(
    '/deployments',
    {
      config: { permission: rule.maintain('registered-model', firstModel) },
      schema: { tags, summary: 'Create a deployment of registered model versions (it joins the project of the first model)', body: S.CreateDeploymentBody, response: { 200: Type.Object({ deployment: S.Deployment }), ...err } },
    },
    async (req) => {
      const { name, description, reason, ...config } = req.body;
      const d = await deployments.create({ name, ...(description !== undefined ? { description } : {}), ...(reason !== undefined ? { reason } : {}), ...config }, actorFromHeaders(req.headers));
      // Routed here before the answer (its versions load in the background), so a request right after it is served.
      await plane.refresh(d.name);
      return { deployment: await json(d, true) };
    },
  );

  app.get(
    '/deployments/:name',
    { config: { permission: rule.read('deployment', from.params('name')) }, schema: { tags, summary: 'A deployment: its configuration in force, the versions it resolved to, and their load state here', params: NameParams, response: { 200: Type.Object({ deployment: S.Deployment }), ...err } } },
    async (req) => ({ deployment: await json(await deployments.get(req.params.name), true) }),
  );

  app.patch(
    '/deployments/:name',
    {
      config: { permission: rule.maintain('deployment', from.params('name')) },
      schema: { tags, summary: 'Change a deployment (a new revision; parts left out keep their value)', params: NameParams, body: S.UpdateDeploymentBody, response: { 200: Type.Object({ deployment: S.Deployment }), ...err } },
    },
    async (req) => {
      const { description, reason, ...config } = req.body;
      const d = await deployments.update(req.params.name, { ...(description !== undefined ? { description } : {}), ...(reason !== undefined ? { reason } : {}), ...config }, actorFromHeaders(req.headers));
      return { deployment: await json(d, true) };
    },
  );

  app.delete(
    '/deployments/:name',
    { config: { permission: rule.maintain('deployment', from.params('name')) }, schema: { tags, summary: 'Delete a deployment, its history and its payload log', params: NameParams, response: { 200: Type.Object({}), ...err } } },
    async (req) => {
      await deployments.delete(req.params.name, actorFromHeaders(req.headers));
      return {};
    },
  );

  app.get(
    '/deployments/:name/revisions',
    { config: { permission: rule.read('deployment', from.params('name')) }, schema: { tags, summary: 'Every configuration the deployment had, newest first (who, when, why)', params: NameParams, response: { 200: Type.Object({ revisions: Type.Array(S.Revision) }), ...err } } },
    async (req) => ({ revisions: (await deployments.history(req.params.name)).map(revisionJson) }),
  );

  app.post(
    '/deployments/:name/rollback',
    {
      config: { permission: rule.maintain('deployment', from.params('name')) },
      schema: { tags, summary: 'Restore an earlier revision (default: the one before the current) as a new revision', params: NameParams, body: Type.Optional(S.RollbackBody), response: { 200: Type.Object({ deployment: S.Deployment }), ...err } },
    },
    async (req) => {
      const d = await deployments.rollback(req.params.name, req.body?.to, actorFromHeaders(req.headers), req.body?.reason);
      return { deployment: await json(d, true) };
    },
  );

  app.get(
    '/deployments/:name/stats',
    {
      config: { permission: rule.read('deployment', from.params('name')) },
      schema: {
        tags,
        summary: "Per-version live figures from this server's own counters (request rate, error rate, p50/p99 latency, shadow disagreement)",
        params: NameParams,
        querystring: Type.Object({ window_seconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 600 })) }),
        response: { 200: Type.Object({ window_seconds: Type.Integer(), versions: Type.Array(S.VersionStats) }), ...err },
      },
    },
    async (req) => {
      await deployments.get(req.params.name);
      const seconds = req.query.window_seconds ?? 60;
      return { window_seconds: seconds, versions: plane.has(req.params.name) ? plane.stats(req.params.name, seconds) : [] };
    },
  );

  app.get(
    '/deployments/:name/payloads',
    {
      config: { permission: rule.read('deployment', from.params('name')) },
      schema: {
        tags,
        summary: 'The payload log: requests and responses, newest first, by version, time range and request id; format=jsonl or parquet exports every match',
        params: NameParams,
        querystring: S.PayloadQuery,
        response: { 200: Type.Object({ payloads: Type.Array(S.PayloadRecord), next_page_token: Type.Optional(Type.String()) }), ...err },
      },
    },
    async (req, reply) => {
      const q = req.query;
      if (q.start_time !== undefined && q.end_time !== undefined && q.end_time < q.start_time) throw invalid('end_time is before start_time.');
      const d = await deployments.get(req.params.name);
      const filter = { version: q.version, requestId: q.request_id, startTime: q.start_time, endTime: q.end_time };
      if (q.format === 'jsonl' || q.format === 'parquet') {
        const out = await payloads.export(d, filter, q.format);
        void reply.header('content-disposition', `attachment; filename="${d.name}-payloads.${q.format}"`);
        // The export is bytes, not the page the response schema describes.
        return reply.type(q.format === 'jsonl' ? 'application/x-ndjson' : 'application/vnd.apache.parquet').send(out as never);
      }
      const page = await payloads.page(d, { ...filter, maxResults: q.max_results, pageToken: q.page_token });
      return { payloads: [...page.items], ...(page.nextPageToken ? { next_page_token: page.nextPageToken } : {}) };
    },
  );
};
