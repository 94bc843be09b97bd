import type { FastifyInstance, FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { actorFromHeaders } from '../platform/actor.js';
import { notFound } from '../platform/errors.js';
import { artifactContentType } from '../platform/http/raw-body.js';
import { mapToTags } from '../platform/tags.js';
import { ErrorBody, ArtifactListing, ArtifactListQuery } from '../platform/http/schemas.js';
import { from, rule } from '../platform/auth/rules.js';
import { modelUriName, type RegistryService } from './service.js';
import type { ModelFiles } from './files.js';
import { eventJson, modelJson, outcomeJson, requestJson, versionJson } from './json.js';
import type { PromotionService } from './promotions.js';
import type { ReproduceService } from './reproduce.js';
import * as S from './schemas.js';

export interface RegistryRouteDeps {
  readonly registry: RegistryService;
  readonly promotions: PromotionService;
  readonly files: ModelFiles;
  readonly reproduce: ReproduceService;
}

const err = { 400: ErrorBody, 404: ErrorBody };
const conflict = { 409: ErrorBody };
const noContent = { 204: Type.Null(), ...err };
const tags = ['models'];

/** The native registry API under /api/v1. */
export const registryRoutes: FastifyPluginAsync<RegistryRouteDeps> = async (root, deps) => {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const r = deps.registry;
  const actor = (req: FastifyRequest) => actorFromHeaders(req.headers);
  // The registered model a route acts on (its project is the model's).
  const model = from.params('name');

  // ------------------------------------------------------------------ registered models
  app.post('/models', { config: { permission: rule.edit('project', from.body('project')) }, schema: { tags, summary: 'Register a model name', body: S.CreateModelBody, response: { 201: Type.Object({ model: S.RegisteredModel }), 409: ErrorBody, ...err } } }, async (req, reply) => {
    const m = await r.createModel({ name: req.body.name, description: req.body.description, tags: mapToTags(req.body.tags), project: req.body.project }, actor(req));
    return reply.status(201).send({ model: modelJson(m) });
  });
  app.get('/models', { config: { permission: rule.listed }, schema: { tags, summary: 'Search registered models (filter: name, tags.*, timestamps; project: one project’s)', querystring: S.ModelSearchQuery, response: { 200: Type.Object({ models: Type.Array(S.RegisteredModel), next_page_token: Type.Optional(Type.String()) }), ...err } } }, async (req) => {
    const q = req.query;
    const page = await r.searchModels({ project: q.project, filter: q.filter, orderBy: q.order_by, maxResults: q.max_results, pageToken: q.page_token });
    return { models: page.items.map(modelJson), next_page_token: page.nextPageToken };
  });
  app.get('/model-versions', { config: { permission: rule.listed }, schema: { tags, summary: 'Search model versions across models (filter: name, version_number, run_id, status, tags.*...)', querystring: S.SearchQuery, response: { 200: Type.Object({ versions: Type.Array(S.ModelVersion), next_page_token: Type.Optional(Type.String()) }), ...err } } }, async (req) => {
    const q = req.query;
    const page = await r.searchVersions({ filter: q.filter, orderBy: q.order_by, maxResults: q.max_results, pageToken: q.page_token });
    return { versions: page.items.map(versionJson), next_page_token: page.nextPageToken };
  });
  app.get('/model-versions/resolve', { config: { permission: rule.read('registered-model', (req) => modelUriName(from.query('uri')(req))) }, schema: { tags, summary: 'Resolve models:/name/3, models:/name@alias or models:/name/latest (the newest READY version) to a version', querystring: S.ResolveQuery, response: { 200: Type.Object({ version: S.ModelVersion }), ...err } } }, async (req) => ({
    version: versionJson(await r.resolveModelUri(req.query.uri)),
  }));
  app.get('/models/:name', { config: { permission: rule.read('registered-model', model) }, schema: { tags, summary: 'Get a registered model', params: S.NameParams, response: { 200: Type.Object({ model: S.RegisteredModel }), ...err } } }, async (req) => ({ model: modelJson(await r.getModel(req.params.name)) }));
  app.patch('/models/:name', { config: { permission: rule.edit('registered-model', model) }, schema: { tags, summary: 'Rename a model or change its description', params: S.NameParams, body: S.UpdateModelBody, response: { 200: Type.Object({ model: S.RegisteredModel }), 409: ErrorBody, ...err } } }, async (req) => {
    return { model: modelJson(await r.updateModel(req.params.name, { newName: req.body.name, description: req.body.description }, actor(req))) };
  });
  app.delete('/models/:name', { config: { permission: rule.maintain('registered-model', model) }, schema: { tags, summary: 'Delete a registered model with all its versions', params: S.NameParams, response: noContent } }, async (req, reply) => {
    await r.deleteModel(req.params.name);
    return reply.status(204).send(null);
  });
  const TagParams = Type.Object({ name: Type.String({ minLength: 1, maxLength: 256 }), key: Type.String() });
  app.put('/models/:name/tags/:key', { config: { permission: rule.edit('registered-model', model) }, schema: { tags, summary: 'Set a model tag', params: TagParams, body: S.TagValueBody, response: noContent } }, async (req, reply) => {
    await r.setModelTag(req.params.name, req.params.key, req.body.value);
    return reply.status(204).send(null);
  });
  app.delete('/models/:name/tags/:key', { config: { permission: rule.edit('registered-model', model) }, schema: { tags, summary: 'Delete a model tag', params: TagParams, response: noContent } }, async (req, reply) => {
    await r.deleteModelTag(req.params.name, req.params.key);
    return reply.status(204).send(null);
  });
  app.get('/models/:name/history', { config: { permission: rule.read('registered-model', model) }, schema: { tags, summary: 'The history of a model: versions, stage changes, alias moves, approvals, rejections', params: S.NameParams, querystring: S.HistoryQuery, response: { 200: Type.Object({ events: Type.Array(S.ModelEvent) }), ...err } } }, async (req) => ({
    events: (await r.history(req.params.name, { afterId: req.query.after_id, maxResults: req.query.max_results })).map(eventJson),
  }));

  // ------------------------------------------------------------------ aliases
  const AliasParams = Type.Object({ name: Type.String({ minLength: 1, maxLength: 256 }), alias: Type.String({ maxLength: 300 }) });
  app.get('/models/:name/aliases/:alias', { config: { permission: rule.read('registered-model', model) }, schema: { tags, summary: 'The version an alias points to (`latest`: the newest READY version)', params: AliasParams, response: { 200: Type.Object({ version: S.ModelVersion }), ...err } } }, async (req) => ({
    version: versionJson(await r.getVersionByAlias(req.params.name, req.params.alias)),
  }));
  app.put('/models/:name/aliases/:alias', { config: { permission: rule.maintain('registered-model', model) }, schema: { tags, summary: 'Point an alias at a READY version', params: AliasParams, body: S.SetAliasBody, response: { 200: Type.Object({ version: S.ModelVersion }), ...conflict, ...err } } }, async (req) => {
    // The version set, found by key: looking the alias up again by name could answer 404 (a rename meanwhile) or
    // another version (a later move) for a change that was made.
    return { version: versionJson(await r.setAlias(req.params.name, req.params.alias, req.body.version, actor(req), req.body.reason)) };
  });
  app.delete('/models/:name/aliases/:alias', { config: { permission: rule.maintain('registered-model', model) }, schema: { tags, summary: 'Remove an alias', params: AliasParams, response: noContent } }, async (req, reply) => {
    await r.deleteAlias(req.params.name, req.params.alias, actor(req));
    return reply.status(204).send(null);
  });

  // ------------------------------------------------------------------ promotion policies and promotions
  // A policy guards an alias, so changing one needs what moving the alias needs (maintainer); so do promotions and decisions.
  app.get('/models/:name/policies', { config: { permission: rule.read('registered-model', model) }, schema: { tags, summary: "A model's promotion policies, by alias", params: S.NameParams, response: { 200: Type.Object({ policies: Type.Array(S.AliasPolicy) }), ...err } } }, async (req) => ({
    policies: (await deps.promotions.listPolicies(req.params.name)).map((p) => ({ alias: p.alias, policy: p.policy, updated_by: p.updatedBy, update_time: p.updateTime })),
  }));
  app.put('/models/:name/policies/:alias', { config: { permission: rule.maintain('registered-model', model) }, schema: { tags, summary: 'Set the promotion policy guarding an alias', params: AliasParams, body: S.PolicyBody, response: { 200: Type.Object({ policy: S.Policy }), ...err } } }, async (req) => ({
    policy: await deps.promotions.setPolicy(req.params.name, req.params.alias, req.body, actor(req)),
  }));
  app.get('/models/:name/policies/:alias', { config: { permission: rule.read('registered-model', model) }, schema: { tags, summary: 'The promotion policy of an alias', params: AliasParams, response: { 200: Type.Object({ policy: S.Policy }), ...err } } }, async (req) => {
    const policy = await deps.promotions.getPolicy(req.params.name, req.params.alias);
    if (!policy) throw notFound(`No promotion policy for alias '${req.params.alias}' of '${req.params.name}'.`);
    return { policy };
  });
  app.delete('/models/:name/policies/:alias', { config: { permission: rule.maintain('registered-model', model) }, schema: { tags, summary: 'Remove the promotion policy of an alias', params: AliasParams, response: noContent } }, async (req, reply) => {
    await deps.promotions.deletePolicy(req.params.name, req.params.alias, actor(req));
    return reply.status(204).send(null);
  });
  app.post('/models/:name/versions/:version/promote', { config: { permission: rule.maintain('registered-model', model) }, schema: { tags, summary: "Promote a version to an alias through the alias's policy: every gate's result; PROMOTED, REJECTED or PENDING_APPROVAL", params: S.VersionParams, body: S.PromoteBody, response: { 200: S.PromotionOutcome, ...conflict, ...err } } }, async (req) =>
    outcomeJson(await deps.promotions.promote(req.params.name, req.params.version, req.body.alias, actor(req), { reason: req.body.reason, dryRun: req.body.dry_run })),
  );
  const RequestParams = Type.Object({ name: Type.String({ minLength: 1, maxLength: 256 }), request_id: Type.Integer({ minimum: 1 }) });
  app.get('/models/:name/promotions', { config: { permission: rule.read('registered-model', model) }, schema: { tags, summary: 'Promotion requests, newest first', params: S.NameParams, querystring: Type.Object({ status: Type.Optional(Type.Union([Type.Literal('PENDING_APPROVAL'), Type.Literal('PROMOTED'), Type.Literal('REJECTED')])) }), response: { 200: Type.Object({ requests: Type.Array(S.PromotionRequest) }), ...err } } }, async (req) => ({
    requests: (await deps.promotions.listRequests(req.params.name, req.query.status)).map(requestJson),
  }));
  app.post('/models/:name/promotions/:request_id/approve', { config: { permission: rule.maintain('registered-model', model) }, schema: { tags, summary: 'Approve a pending promotion (a user other than the requester); the gates are evaluated again', params: RequestParams, body: S.DecisionBody, response: { 200: S.PromotionOutcome, 403: ErrorBody, 409: ErrorBody, ...err } } }, async (req) =>
    outcomeJson(await deps.promotions.approve(req.params.name, req.params.request_id, actor(req), req.body.reason)),
  );
  app.post('/models/:name/promotions/:request_id/reject', { config: { permission: rule.maintain('registered-model', model) }, schema: { tags, summary: 'Reject a pending promotion, with a reason', params: RequestParams, body: S.DecisionBody, response: { 200: S.PromotionRequest, 409: ErrorBody, ...err } } }, async (req) =>
    requestJson(await deps.promotions.reject(req.params.name, req.params.request_id, actor(req), req.body.reason ?? '')),
  );

  // ------------------------------------------------------------------ reproduction
  app.get(
    '/models/:name/versions/:version/reproduce',
    {
      config: { permission: rule.read('registered-model', model) },
      schema: {
        tags,
        summary: 'Everything needed to reproduce a version: code commit and entry point, params, dataset versions with digests, environment',
        params: S.VersionParams,
        response: { 200: S.ReproductionRecipe, ...err },
      },
    },
    async (req) => deps.reproduce.recipe(req.params.name, req.params.version),
  );

  // ------------------------------------------------------------------ versions
  app.post('/models/:name/versions', { config: { permission: rule.edit('registered-model', model) }, schema: { tags, summary: 'Register a new version; its files are inspected within the request (READY or FAILED_REGISTRATION), or PENDING_REGISTRATION when that takes longer than the bound', params: S.NameParams, body: S.CreateVersionBody, response: { 201: Type.Object({ version: S.ModelVersion }), ...err } } }, async (req, reply) => {
    const b = req.body;
    const v = await r.createVersion({ name: req.params.name, source: b.source, runId: b.run_id, runLink: b.run_link, description: b.description, tags: mapToTags(b.tags) }, actor(req));
    return reply.status(201).send({ version: versionJson(v) });
  });
  app.get('/models/:name/versions', { config: { permission: rule.read('registered-model', model) }, schema: { tags, summary: "Search a model's versions (newest first by default)", params: S.NameParams, querystring: S.SearchQuery, response: { 200: Type.Object({ versions: Type.Array(S.ModelVersion), next_page_token: Type.Optional(Type.String()) }), ...err } } }, async (req) => {
    const page = await r.searchVersions({ model: req.params.name, filter: req.query.filter, orderBy: req.query.order_by ?? ['version_number DESC'], maxResults: req.query.max_results, pageToken: req.query.page_token });
    return { versions: page.items.map(versionJson), next_page_token: page.nextPageToken };
  });
  app.get('/models/:name/versions/:version', { config: { permission: rule.read('registered-model', model) }, schema: { tags, summary: 'Get a version', params: S.VersionParams, response: { 200: Type.Object({ version: S.ModelVersion }), ...err } } }, async (req) => ({
    version: versionJson(await r.getVersion(req.params.name, req.params.version)),
  }));
  // Changes the description (an editor's change) or the stage (a maintainer's, like aliases): the stricter rule, as one route does both.
  app.patch('/models/:name/versions/:version', { config: { permission: rule.maintain('registered-model', model) }, schema: { tags, summary: 'Change a version’s description or stage', params: S.VersionParams, body: S.UpdateVersionBody, response: { 200: Type.Object({ version: S.ModelVersion }), ...err } } }, async (req) => {
    const b = req.body;
    return { version: versionJson(await r.updateVersion(req.params.name, req.params.version, { description: b.description, stage: b.stage, archiveExisting: b.archive_existing_versions }, actor(req))) };
  });
  app.delete('/models/:name/versions/:version', { config: { permission: rule.maintain('registered-model', model) }, schema: { tags, summary: 'Delete a version (its aliases go with it)', params: S.VersionParams, response: noContent } }, async (req, reply) => {
    await r.deleteVersion(req.params.name, req.params.version, actor(req));
    return reply.status(204).send(null);
  });
  const VersionTagParams = Type.Object({ name: Type.String({ minLength: 1, maxLength: 256 }), version: Type.String({ maxLength: 12 }), key: Type.String() });
  app.put('/models/:name/versions/:version/tags/:key', { config: { permission: rule.edit('registered-model', model) }, schema: { tags, summary: 'Set a version tag', params: VersionTagParams, body: S.TagValueBody, response: noContent } }, async (req, reply) => {
    await r.setVersionTag(req.params.name, req.params.version, req.params.key, req.body.value);
    return reply.status(204).send(null);
  });
  app.delete('/models/:name/versions/:version/tags/:key', { config: { permission: rule.edit('registered-model', model) }, schema: { tags, summary: 'Delete a version tag', params: VersionTagParams, response: noContent } }, async (req, reply) => {
    await r.deleteVersionTag(req.params.name, req.params.version, req.params.key);
    return reply.status(204).send(null);
  });
  app.get('/models/:name/versions/:version/files', { config: { permission: rule.read('registered-model', model) }, schema: { tags, summary: "List a folder of a version's files", params: S.VersionParams, querystring: ArtifactListQuery, response: { 200: ArtifactListing, ...err } } }, async (req) => {
    const l = await deps.files.list(req.params.name, req.params.version, req.query.path ?? '');
    return { root_uri: l.rootUri, files: l.files.map((f) => ({ path: f.path, is_dir: f.isDir, size: f.size })) };
  });
  await app.register(async (raw: FastifyInstance) => {
    const params = Type.Object({ name: Type.String({ minLength: 1, maxLength: 256 }), version: Type.String({ maxLength: 12 }), '*': Type.String() });
    raw.get('/models/:name/versions/:version/files/*', { config: { permission: rule.read('registered-model', model) }, schema: { tags, summary: 'Download a file of a version', params } }, async (req, reply) => {
      const p = req.params as { name: string; version: string; '*': string };
      const obj = await deps.files.read(p.name, p.version, p['*']);
      return reply.header('content-type', artifactContentType(p['*'])).header('content-length', obj.size).header('x-content-type-options', 'nosniff').send(obj.body);
    });
  });
};
