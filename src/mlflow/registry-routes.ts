import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { RegistryService } from '../registry/service.js';
import type { ModelVersion, RegisteredModel } from '../registry/types.js';
import { actorFromHeaders } from '../platform/actor.js';
import { invalid } from '../platform/errors.js';
import { rule, type RouteRule } from '../platform/auth/rules.js';
import { Fields, badType, mlflowProject } from './fields.js';
import { readKeyValues } from './convert.js';

export interface MlflowRegistryDeps {
  readonly registry: RegistryService;
}

export function mlflowModelVersion(v: ModelVersion): Record<string, unknown> {
  return {
    name: v.name,
    version: v.version,
    creation_timestamp: v.creationTime,
    last_updated_timestamp: v.lastUpdateTime,
    ...(v.userId !== null ? { user_id: v.userId } : {}),
    current_stage: v.currentStage,
    description: v.description ?? '',
    source: v.source,
    ...(v.runId !== null ? { run_id: v.runId } : {}),
    status: v.status,
    ...(v.statusMessage !== null ? { status_message: v.statusMessage } : {}),
    tags: v.tags.map((t) => ({ key: t.key, value: t.value })),
    ...(v.runLink !== null ? { run_link: v.runLink } : {}),
    aliases: [...v.aliases],
    ...(v.loggedModelId !== null ? { model_id: v.loggedModelId } : {}),
  };
}

export function mlflowRegisteredModel(m: RegisteredModel): Record<string, unknown> {
  return {
    name: m.name,
    creation_timestamp: m.creationTime,
    last_updated_timestamp: m.lastUpdateTime,
    ...(m.userId !== null ? { user_id: m.userId } : {}),
    description: m.description ?? '',
    latest_versions: m.latestVersions.map(mlflowModelVersion),
    tags: m.tags.map((t) => ({ key: t.key, value: t.value })),
    aliases: m.aliases.map((a) => ({ alias: a.alias, version: a.version })),
  };
}

const isRead = (req: FastifyRequest) => req.method === 'GET' || req.method === 'DELETE';
/** Where a request's fields are, and whether they came as a query string. */
const located = (req: FastifyRequest): { readonly source: unknown; readonly query: boolean } => {
  // MLflow's Python client sends DELETE requests with a JSON body; others put the fields in the query string.
  if (req.method === 'DELETE' && req.body && typeof req.body === 'object' && Object.keys(req.body).length > 0) return { source: req.body, query: false };
  return { source: isRead(req) ? req.query : req.body, query: isRead(req) };
};
const fields = (req: FastifyRequest) => {
  const l = located(req);
  return new Fields(l.source, l.query);
};
/** The registered model a request names: its `name` field, read where `fields` reads it (a DELETE's body included). */
const model = (req: FastifyRequest): unknown => {
  const { source } = located(req);
  return source !== null && typeof source === 'object' && !Array.isArray(source) ? (source as Record<string, unknown>).name : undefined;
};
const version = (f: Fields) => {
  const v = f.raw('version');
  if (v === undefined || v === null || v === '') throw invalid(`Missing value for required parameter 'version'.`);
  if (typeof v !== 'string' && typeof v !== 'number') throw badType('version', v, 'a string');
  return String(v);
};

/** MLflow's model registry (model_registry.proto) as thin translations onto RegistryService. */
export async function mlflowRegistryRoutes(app: FastifyInstance, deps: MlflowRegistryDeps): Promise<void> {
  const r = deps.registry;
  type H = (f: Fields, req: FastifyRequest) => Promise<unknown>;
  // Each route names its rule (who may call it) next to its path.
  const route = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE' | ('GET' | 'POST')[], url: string, permission: RouteRule, h: H) =>
    app.route({ method, url, config: { permission }, handler: async (req) => (await h(fields(req), req)) ?? {} });
  const actor = (req: FastifyRequest) => actorFromHeaders(req.headers);

  // ------------------------------------------------------------------ registered models
  // In the project the request names (see mlflowProject), else the caller's default project.
  route('POST', '/registered-models/create', rule.edit('project', mlflowProject), async (f, req) => {
    const project = mlflowProject(req);
    return {
      registered_model: mlflowRegisteredModel(
        await r.createModel(
          { name: f.requiredString('name'), description: f.optionalString('description'), tags: readKeyValues(f.objectList('tags'), 'tags'), project: typeof project === 'string' ? project : undefined },
          actor(req),
        ),
      ),
    };
  });
  route('GET', '/registered-models/get', rule.read('registered-model', model), async (f) => ({ registered_model: mlflowRegisteredModel(await r.getModel(f.requiredString('name'))) }));
  route('POST', '/registered-models/rename', rule.edit('registered-model', model), async (f, req) => ({
    registered_model: mlflowRegisteredModel(await r.renameModel(f.requiredString('name'), f.requiredString('new_name'), actor(req))),
  }));
  // MLflow's update sets the description to what is sent (an absent one clears it).
  route('PATCH', '/registered-models/update', rule.edit('registered-model', model), async (f, req) => ({ registered_model: mlflowRegisteredModel(await r.updateModel(f.requiredString('name'), { description: f.optionalString('description') ?? null }, actor(req))) }));
  route('DELETE', '/registered-models/delete', rule.maintain('registered-model', model), async (f) => r.deleteModel(f.requiredString('name')));
  route(['GET', 'POST'], '/registered-models/search', rule.listed, async (f) => {
    const page = await r.searchModels({ filter: f.optionalString('filter'), orderBy: f.stringList('order_by'), maxResults: f.optionalInt('max_results'), pageToken: f.optionalString('page_token') });
    return { registered_models: page.items.map(mlflowRegisteredModel), ...(page.nextPageToken ? { next_page_token: page.nextPageToken } : {}) };
  });
  route(['GET', 'POST'], '/registered-models/get-latest-versions', rule.read('registered-model', model), async (f) => ({
    model_versions: (await r.getLatestVersions(f.requiredString('name'), f.stringList('stages'))).map(mlflowModelVersion),
  }));
  route('POST', '/registered-models/set-tag', rule.edit('registered-model', model), async (f) => {
    if (!f.has('value')) throw invalid(`Missing value for required parameter 'value'.`);
    await r.setModelTag(f.requiredString('name'), f.requiredString('key'), f.optionalString('value') ?? '');
  });
  route('DELETE', '/registered-models/delete-tag', rule.edit('registered-model', model), async (f) => r.deleteModelTag(f.requiredString('name'), f.requiredString('key')));
  route('POST', '/registered-models/alias', rule.maintain('registered-model', model), async (f, req) => {
    await r.setAlias(f.requiredString('name'), f.requiredString('alias'), version(f), actor(req));
  });
  route('DELETE', '/registered-models/alias', rule.maintain('registered-model', model), async (f, req) => r.deleteAlias(f.requiredString('name'), f.requiredString('alias'), actor(req)));
  route('GET', '/registered-models/alias', rule.read('registered-model', model), async (f) => ({ model_version: mlflowModelVersion(await r.getVersionByAlias(f.requiredString('name'), f.requiredString('alias'))) }));

  // ------------------------------------------------------------------ model versions
  route('POST', '/model-versions/create', rule.edit('registered-model', model), async (f, req) => ({
    model_version: mlflowModelVersion(
      await r.createVersion(
        {
          name: f.requiredString('name'),
          source: f.requiredString('source'),
          runId: f.optionalString('run_id'),
          runLink: f.optionalString('run_link'),
          description: f.optionalString('description'),
          tags: readKeyValues(f.objectList('tags'), 'tags'),
          modelId: f.optionalString('model_id'),
        },
        actor(req),
      ),
    ),
  }));
  route('GET', '/model-versions/get', rule.read('registered-model', model), async (f) => ({ model_version: mlflowModelVersion(await r.getVersion(f.requiredString('name'), version(f))) }));
  route('PATCH', '/model-versions/update', rule.edit('registered-model', model), async (f, req) => ({ model_version: mlflowModelVersion(await r.updateVersion(f.requiredString('name'), version(f), { description: f.optionalString('description') ?? null }, actor(req))) }));
  route('DELETE', '/model-versions/delete', rule.maintain('registered-model', model), async (f, req) => r.deleteVersion(f.requiredString('name'), version(f), actor(req)));
  route(['GET', 'POST'], '/model-versions/search', rule.listed, async (f) => {
    const page = await r.searchVersions({ filter: f.optionalString('filter'), orderBy: f.stringList('order_by'), maxResults: f.optionalInt('max_results'), pageToken: f.optionalString('page_token') });
    return { model_versions: page.items.map(mlflowModelVersion), ...(page.nextPageToken ? { next_page_token: page.nextPageToken } : {}) };
  });
  route('GET', '/model-versions/get-download-uri', rule.read('registered-model', model), async (f) => ({ artifact_uri: await r.getDownloadUri(f.requiredString('name'), version(f)) }));
  route('POST', '/model-versions/transition-stage', rule.maintain('registered-model', model), async (f, req) => {
    const archive = f.optionalBool('archive_existing_versions') ?? false;
    return { model_version: mlflowModelVersion(await r.transitionStage(f.requiredString('name'), version(f), f.requiredString('stage'), archive, actor(req))) };
  });
  route('POST', '/model-versions/set-tag', rule.edit('registered-model', model), async (f) => {
    if (!f.has('value')) throw invalid(`Missing value for required parameter 'value'.`);
    await r.setVersionTag(f.requiredString('name'), version(f), f.requiredString('key'), f.optionalString('value') ?? '');
  });
  route('DELETE', '/model-versions/delete-tag', rule.edit('registered-model', model), async (f) => r.deleteVersionTag(f.requiredString('name'), version(f), f.requiredString('key')));
}
