import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { LoggedModelService } from '../tracking/logged-model-service.js';
import type { LoggedModel } from '../tracking/logged-model-types.js';
import type { RunArtifactService } from '../tracking/artifact-service.js';
import type { ArtifactStore } from '../platform/artifacts/types.js';
import { normalizeArtifactPath, joinArtifactPath } from '../platform/artifacts/path.js';
import { KilnError, invalid } from '../platform/errors.js';
import { from, rule } from '../platform/auth/rules.js';
import { storePrefixOf } from '../platform/artifacts/path.js';
import { Fields, badType, parseInt64 } from './fields.js';
import { mlflowMetric, readKeyValues } from './convert.js';
import { download } from './artifact-routes.js';

export interface MlflowLoggedModelDeps {
  readonly loggedModels: LoggedModelService;
  readonly runArtifacts: RunArtifactService;
  readonly artifacts: ArtifactStore;
}

export function mlflowLoggedModel(m: LoggedModel): Record<string, unknown> {
  return {
    info: {
      model_id: m.modelId,
      experiment_id: m.experimentId,
      name: m.name,
      creation_timestamp_ms: m.creationTime,
      last_updated_timestamp_ms: m.lastUpdateTime,
      artifact_uri: m.artifactUri,
      status: m.status,
      ...(m.modelType ? { model_type: m.modelType } : {}),
      ...(m.sourceRunId ? { source_run_id: m.sourceRunId } : {}),
      ...(m.statusMessage ? { status_message: m.statusMessage } : {}),
      tags: m.tags.map((t) => ({ key: t.key, value: t.value })),
      registrations: [],
    },
    data: {
      params: m.params.map((p) => ({ key: p.key, value: p.value })),
      metrics: m.metrics.map((x) => ({
        ...mlflowMetric(x, x.runId),
        model_id: x.modelId,
        ...(x.datasetName !== undefined ? { dataset_name: x.datasetName } : {}),
        ...(x.datasetDigest !== undefined ? { dataset_digest: x.datasetDigest } : {}),
      })),
    },
  };
}

const body = (req: FastifyRequest) => new Fields(req.body, false);
const query = (req: FastifyRequest) => new Fields(req.query, true);
const modelIdOf = (req: FastifyRequest) => (req.params as { model_id: string }).model_id;

/** MLflow 3 logged models (service.proto LoggedModel RPCs) and runs/outputs. */
export async function mlflowLoggedModelRoutes(app: FastifyInstance, deps: MlflowLoggedModelDeps): Promise<void> {
  const lm = deps.loggedModels;
  // The logged model a route acts on (its project is its experiment's).
  const loggedModel = from.params('model_id');

  app.post('/logged-models', { config: { permission: rule.edit('experiment', from.body('experiment_id')) } }, async (req) => {
    const f = body(req);
    const model = await lm.create({
      experimentId: f.idString('experiment_id', true),
      name: f.optionalString('name'),
      modelType: f.optionalString('model_type'),
      sourceRunId: f.optionalString('source_run_id'),
      params: readKeyValues(f.objectList('params'), 'params'),
      tags: readKeyValues(f.objectList('tags'), 'tags'),
    });
    return { model: mlflowLoggedModel(model) };
  });
  app.post('/logged-models/search', { config: { permission: rule.listed } }, async (req) => {
    const f = body(req);
    const orderBy = f.objectList('order_by').map((o, i) => {
      if (typeof o.field_name !== 'string') throw badType(`order_by[${i}].field_name`, o.field_name, 'a string');
      if (o.ascending !== undefined && typeof o.ascending !== 'boolean') throw badType(`order_by[${i}].ascending`, o.ascending, 'a boolean');
      return { fieldName: o.field_name, ascending: o.ascending !== false };
    });
    const page = await lm.search({
      experimentIds: f.stringList('experiment_ids') ?? [],
      filter: f.optionalString('filter'),
      orderBy,
      maxResults: f.optionalInt('max_results'),
      pageToken: f.optionalString('page_token'),
    });
    return { models: page.items.map(mlflowLoggedModel), ...(page.nextPageToken ? { next_page_token: page.nextPageToken } : {}) };
  });
  app.get('/logged-models/:model_id', { config: { permission: rule.read('logged-model', loggedModel) } }, async (req) => ({ model: mlflowLoggedModel(await lm.get(modelIdOf(req))) }));
  app.patch('/logged-models/:model_id', { config: { permission: rule.edit('logged-model', loggedModel) } }, async (req) => {
    const f = body(req);
    return { model: mlflowLoggedModel(await lm.finalize(modelIdOf(req), f.requiredString('status'), f.optionalString('status_message'))) };
  });
  // Like deleting a run: an editor's change.
  app.delete('/logged-models/:model_id', { config: { permission: rule.edit('logged-model', loggedModel) } }, async (req) => {
    await lm.delete(modelIdOf(req));
    return {};
  });
  app.patch('/logged-models/:model_id/tags', { config: { permission: rule.edit('logged-model', loggedModel) } }, async (req) => ({
    model: mlflowLoggedModel(await lm.setTags(modelIdOf(req), readKeyValues(body(req).objectList('tags'), 'tags'))),
  }));
  app.delete('/logged-models/:model_id/tags/:tag_key', { config: { permission: rule.edit('logged-model', loggedModel) } }, async (req) => {
    await lm.deleteTag(modelIdOf(req), (req.params as { tag_key: string }).tag_key);
    return {};
  });
  app.post('/logged-models/:model_id/params', { config: { permission: rule.edit('logged-model', loggedModel) } }, async (req) => {
    await lm.logParams(modelIdOf(req), readKeyValues(body(req).objectList('params'), 'params'));
    return {};
  });

  const modelPrefix = async (modelId: string) => {
    const model = await lm.get(modelId);
    const prefix = storePrefixOf(model.artifactUri);
    if (prefix === undefined) throw new KilnError('INVALID_PARAMETER_VALUE', `The artifacts of logged model ${modelId} live at ${model.artifactUri}, outside this server's artifact store.`);
    return { model, prefix };
  };
  app.get('/logged-models/:model_id/artifacts/directories', { config: { permission: rule.read('logged-model', loggedModel) } }, async (req) => {
    const { model, prefix } = await modelPrefix(modelIdOf(req));
    const rel = normalizeArtifactPath(query(req).optionalString('artifact_directory_path') ?? '', { allowEmpty: true });
    const entries = await deps.artifacts.list(joinArtifactPath(prefix, rel));
    const strip = prefix.length + 1;
    return {
      root_uri: model.artifactUri,
      files: entries.map((e) => (e.isDir ? { path: e.path.slice(strip), is_dir: true } : { path: e.path.slice(strip), is_dir: false, file_size: e.size ?? 0 })),
    };
  });
  app.get('/logged-models/:model_id/artifacts/files', { config: { permission: rule.read('logged-model', loggedModel) } }, async (req, reply) => {
    const { prefix } = await modelPrefix(modelIdOf(req));
    const rel = normalizeArtifactPath(query(req).requiredString('artifact_file_path'));
    return download(deps.artifacts, joinArtifactPath(prefix, rel), reply);
  });

  app.post('/runs/outputs', { config: { permission: rule.edit('run', from.body('run_id')) } }, async (req) => {
    const f = body(req);
    const runId = f.requiredString('run_id');
    const models = f.objectList('models').map((m, i) => {
      if (typeof m.model_id !== 'string' || m.model_id === '') throw invalid(`Missing value for required parameter 'models[${i}].model_id'.`);
      return { modelId: m.model_id, step: parseInt64(`models[${i}].step`, m.step, 0) };
    });
    await lm.logOutputs(runId, models);
    return {};
  });
}
