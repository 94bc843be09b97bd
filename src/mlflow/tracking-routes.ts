import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TrackingService } from '../tracking/service.js';
import type { RunArtifactService } from '../tracking/artifact-service.js';
import type { LoggedModelService } from '../tracking/logged-model-service.js';
import { RUN_STATUSES, type DatasetInput, type RunStatus, type Tag } from '../tracking/types.js';
import { invalid } from '../platform/errors.js';
import { from, rule, type RouteRule } from '../platform/auth/rules.js';
import { Fields, badType, mlflowProject } from './fields.js';
import { metricHistoryJson, mlflowExperiment, mlflowMetric, mlflowRun, mlflowRunInfo, readKeyValues, readMetrics } from './convert.js';

export interface MlflowTrackingDeps {
  readonly tracking: TrackingService;
  readonly runArtifacts: RunArtifactService;
  readonly loggedModels: LoggedModelService;
}

const fields = (req: FastifyRequest) => new Fields(req.method === 'GET' || req.method === 'DELETE' ? req.query : req.body, req.method === 'GET' || req.method === 'DELETE');
const runIdOf = (f: Fields) => f.requiredString('run_id', 'run_uuid');

/** MLflow's tracking service (service.proto) as thin translations onto TrackingService. */
export async function mlflowTrackingRoutes(app: FastifyInstance, deps: MlflowTrackingDeps): Promise<void> {
  const t = deps.tracking;
  type H = (f: Fields, req: FastifyRequest) => Promise<unknown>;
  // Each route names its rule (who may call it) next to its path.
  const post = (path: string, permission: RouteRule, h: H) => app.post(path, { config: { permission } }, async (req) => (await h(fields(req), req)) ?? {});
  const get = (path: string, permission: RouteRule, h: H) => app.get(path, { config: { permission } }, async (req) => (await h(fields(req), req)) ?? {});
  const both = (path: string, permission: RouteRule, h: H) =>
    app.route({ method: ['GET', 'POST'], url: path, config: { permission }, handler: async (req) => (await h(fields(req), req)) ?? {} });

  /** The logged models each run used and produced (MLflow 3 run inputs and outputs). */
  const modelLinks = async (runIds: string[]) => {
    const [outputs, inputs] = await Promise.all([deps.loggedModels.outputsOf(runIds), deps.loggedModels.inputsOf(runIds)]);
    return (runId: string) => ({ outputs: outputs.get(runId), inputs: inputs.get(runId) });
  };
  /** Reads a metric's MLflow 3 model link fields; undefined when the metric names no model. */
  const modelLink = (m: Record<string, unknown>, field: string) => {
    if (m.model_id === undefined || m.model_id === null || m.model_id === '') return undefined;
    for (const k of ['model_id', 'dataset_name', 'dataset_digest'] as const) {
      if (m[k] !== undefined && m[k] !== null && typeof m[k] !== 'string') throw badType(`${field}.${k}`, m[k], 'a string');
    }
    return { modelId: m.model_id as string, datasetName: (m.dataset_name as string | null) ?? undefined, datasetDigest: (m.dataset_digest as string | null) ?? undefined };
  };
  /** Logs run metrics, and stores those that name a logged model against it too (the models are checked first). */
  const logMetrics = async (runId: string, raw: Record<string, unknown>[], field: string, extra: { params?: Tag[]; tags?: Tag[] } = {}) => {
    const metrics = readMetrics(raw, field);
    const links = raw.map((m, i) => modelLink(m, `${field}[${i}]`));
    const linked = links.flatMap((l, i) => (l ? [{ ...metrics[i]!, ...l, runId }] : []));
    if (linked.length) await deps.loggedModels.requireModels(linked.map((l) => l.modelId));
    await t.logBatch({ runId, metrics, ...extra });
    if (linked.length) await deps.loggedModels.logMetrics(linked);
  };

  // ------------------------------------------------------------------ experiments
  // In the project the request names (see mlflowProject), else the caller's default project.
  post('/experiments/create', rule.edit('project', mlflowProject), async (f, req) => {
    const project = mlflowProject(req);
    return {
      experiment_id: await t.createExperiment({
        name: f.requiredString('name'),
        artifactLocation: f.optionalString('artifact_location'),
        tags: readKeyValues(f.objectList('tags'), 'tags'),
        project: typeof project === 'string' ? project : undefined,
      }),
    };
  });
  both('/experiments/search', rule.listed, async (f) => {
    const page = await t.searchExperiments({
      filter: f.optionalString('filter'),
      orderBy: f.stringList('order_by'),
      viewType: f.viewType('view_type'),
      maxResults: f.optionalInt('max_results'),
      pageToken: f.optionalString('page_token'),
    });
    return { experiments: page.items.map(mlflowExperiment), ...(page.nextPageToken ? { next_page_token: page.nextPageToken } : {}) };
  });
  get('/experiments/list', rule.listed, async (f) => {
    const page = await t.searchExperiments({ viewType: f.viewType('view_type'), maxResults: f.optionalInt('max_results'), pageToken: f.optionalString('page_token') });
    return { experiments: page.items.map(mlflowExperiment), ...(page.nextPageToken ? { next_page_token: page.nextPageToken } : {}) };
  });
  get('/experiments/get', rule.read('experiment', from.field('experiment_id')), async (f) => ({ experiment: mlflowExperiment(await t.getExperiment(f.idString('experiment_id', true))) }));
  // Found by name, not id: a lookup filtered by the caller's readable projects like a search.
  get('/experiments/get-by-name', rule.listed, async (f) => ({ experiment: mlflowExperiment(await t.getExperimentByName(f.requiredString('experiment_name'))) }));
  post('/experiments/delete', rule.maintain('experiment', from.field('experiment_id')), async (f) => t.deleteExperiment(f.idString('experiment_id', true)));
  post('/experiments/restore', rule.maintain('experiment', from.field('experiment_id')), async (f) => t.restoreExperiment(f.idString('experiment_id', true)));
  post('/experiments/update', rule.edit('experiment', from.field('experiment_id')), async (f) => {
    const id = f.idString('experiment_id', true);
    const newName = f.optionalString('new_name');
    if (newName !== undefined) await t.renameExperiment(id, newName);
    else await t.getExperiment(id);
  });
  post('/experiments/set-experiment-tag', rule.edit('experiment', from.field('experiment_id')), async (f) => t.setExperimentTag(f.idString('experiment_id', true), f.requiredString('key'), f.optionalString('value') ?? ''));
  post('/experiments/delete-experiment-tag', rule.edit('experiment', from.field('experiment_id')), async (f) => t.deleteExperimentTag(f.idString('experiment_id', true), f.requiredString('key')));
  post('/experiments/search-datasets', rule.listed, async (f) => {
    const ids = f.stringList('experiment_ids') ?? [];
    const summaries = await t.searchDatasets(ids);
    return { dataset_summaries: summaries.map((s) => ({ experiment_id: s.experimentId, name: s.name, digest: s.digest, ...(s.context ? { context: s.context } : {}) })) };
  });

  // ------------------------------------------------------------------ runs
  // The experiment the run goes to: MLflow's default experiment (0) when the request names none, as below.
  post('/runs/create', rule.edit('experiment', (req) => from.field('experiment_id')(req) ?? '0'), async (f) => {
    const run = await t.createRun({
      experimentId: f.idString('experiment_id') ?? '0',
      runName: f.optionalString('run_name'),
      startTime: f.optionalInt('start_time'),
      userId: f.optionalString('user_id'),
      tags: readKeyValues(f.objectList('tags'), 'tags'),
    });
    return { run: mlflowRun(run) };
  });
  post('/runs/update', rule.edit('run', from.field('run_id', 'run_uuid')), async (f) => {
    const status = f.optionalString('status');
    if (status !== undefined && !(RUN_STATUSES as readonly string[]).includes(status)) throw badType('status', status, `one of ${RUN_STATUSES.join(', ')}`);
    const info = await t.updateRun({ runId: runIdOf(f), status: status as RunStatus | undefined, endTime: f.optionalInt('end_time'), runName: f.optionalString('run_name') });
    return { run_info: mlflowRunInfo(info) };
  });
  post('/runs/delete', rule.edit('run', from.field('run_id')), async (f) => t.deleteRun(f.requiredString('run_id')));
  post('/runs/restore', rule.edit('run', from.field('run_id')), async (f) => t.restoreRun(f.requiredString('run_id')));
  get('/runs/get', rule.read('run', from.field('run_id', 'run_uuid')), async (f) => {
    const run = await t.getRun(runIdOf(f));
    const links = await modelLinks([run.info.runId]);
    return { run: mlflowRun(run, links(run.info.runId)) };
  });
  both('/runs/search', rule.listed, async (f) => {
    const page = await t.searchRuns({
      experimentIds: f.stringList('experiment_ids') ?? [],
      filter: f.optionalString('filter'),
      orderBy: f.stringList('order_by'),
      viewType: f.viewType('run_view_type'),
      maxResults: f.optionalInt('max_results'),
      pageToken: f.optionalString('page_token'),
    });
    const links = await modelLinks(page.items.map((r) => r.info.runId));
    return { runs: page.items.map((r) => mlflowRun(r, links(r.info.runId))), ...(page.nextPageToken ? { next_page_token: page.nextPageToken } : {}) };
  });
  post('/runs/log-metric', rule.edit('run', from.field('run_id', 'run_uuid')), async (f) => {
    const raw = { key: f.raw('key'), value: f.raw('value'), timestamp: f.raw('timestamp'), step: f.raw('step'), model_id: f.raw('model_id'), dataset_name: f.raw('dataset_name'), dataset_digest: f.raw('dataset_digest') };
    await logMetrics(runIdOf(f), [raw], 'metric');
  });
  post('/runs/log-parameter', rule.edit('run', from.field('run_id', 'run_uuid')), async (f) => {
    const [param] = readKeyValues([{ key: f.raw('key'), value: f.raw('value') }], 'param');
    if (!f.has('key')) throw invalid(`Missing value for required parameter 'key'.`);
    if (!f.has('value')) throw invalid(`Missing value for required parameter 'value'.`);
    await t.logBatch({ runId: runIdOf(f), params: [param!] });
  });
  post('/runs/set-tag', rule.edit('run', from.field('run_id', 'run_uuid')), async (f) => {
    if (!f.has('value')) throw invalid(`Missing value for required parameter 'value'.`);
    await t.setTag(runIdOf(f), f.requiredString('key'), f.optionalString('value') ?? '');
  });
  post('/runs/delete-tag', rule.edit('run', from.field('run_id')), async (f) => t.deleteTag(f.requiredString('run_id'), f.requiredString('key')));
  post('/runs/log-batch', rule.edit('run', from.field('run_id')), async (f) => {
    await logMetrics(f.requiredString('run_id'), f.objectList('metrics'), 'metrics', {
      params: readKeyValues(f.objectList('params'), 'params'),
      tags: readKeyValues(f.objectList('tags'), 'tags'),
    });
  });
  post('/runs/log-model', rule.edit('run', from.field('run_id', 'run_uuid')), async (f) => t.logModel(runIdOf(f), f.requiredString('model_json')));
  post('/runs/log-inputs', rule.edit('run', from.field('run_id')), async (f) => {
    const datasets: DatasetInput[] = f.objectList('datasets').map((d, i) => {
      const ds = d.dataset;
      if (typeof ds !== 'object' || ds === null || Array.isArray(ds)) throw invalid(`Missing value for required parameter 'datasets[${i}].dataset'.`);
      const x = ds as Record<string, unknown>;
      return {
        dataset: {
          name: x.name as string,
          digest: x.digest as string,
          sourceType: x.source_type as string,
          source: x.source as string,
          schema: x.schema as string | undefined,
          profile: x.profile as string | undefined,
        },
        tags: readKeyValues(Array.isArray(d.tags) ? (d.tags as Record<string, unknown>[]) : [], `datasets[${i}].tags`),
      };
    });
    const models = f.objectList('models').map((m, i) => {
      if (typeof m.model_id !== 'string' || m.model_id === '') throw invalid(`Missing value for required parameter 'models[${i}].model_id'.`);
      return m.model_id;
    });
    const runId = f.requiredString('run_id');
    if (models.length) await deps.loggedModels.requireModels(models);
    if (datasets.length || !models.length) await t.logInputs(runId, datasets);
    if (models.length) await deps.loggedModels.logInputs(runId, models);
  });

  // ------------------------------------------------------------------ metrics
  app.get('/metrics/get-history', { config: { permission: rule.read('run', from.field('run_id', 'run_uuid')) } }, async (req, reply) => {
    const f = fields(req);
    const h = await t.getMetricHistoryColumns({
      runId: runIdOf(f),
      key: f.requiredString('metric_key'),
      maxResults: f.optionalInt('max_results'),
      pageToken: f.optionalString('page_token'),
    });
    return reply.type('application/json; charset=utf-8').send(await metricHistoryJson(h));
  });
  get('/metrics/get-history-bulk', rule.read('run', from.field('run_id')), async (f) => {
    const runIds = f.stringList('run_id') ?? [];
    if (runIds.length === 0) throw invalid(`GetMetricHistoryBulk request must specify at least one run_id.`);
    if (runIds.length > 100) throw invalid(`GetMetricHistoryBulk request cannot specify more than 100 run_ids. Received ${runIds.length} run_ids.`);
    const key = f.requiredString('metric_key');
    const maxResults = f.optionalInt('max_results') ?? 25_000;
    const out: Record<string, unknown>[] = [];
    for (const runId of runIds) {
      const h = await t.getMetricHistory({ runId, key, maxResults: Math.min(maxResults, 25_000) });
      out.push(...h.metrics.map((m) => mlflowMetric(m, runId)));
    }
    return { metrics: out.slice(0, maxResults) };
  });
  get('/metrics/get-history-bulk-interval', rule.read('run', from.field('run_ids')), async (f) => {
    const runIds = f.stringList('run_ids') ?? [];
    if (runIds.length === 0) throw invalid(`Missing value for required parameter 'run_ids'.`);
    if (runIds.length > 100) throw invalid(`GetMetricHistoryBulkInterval request must specify at most 100 run_ids. Received ${runIds.length} run_ids.`);
    const key = f.requiredString('metric_key');
    const maxResults = f.optionalInt('max_results') ?? 320;
    if (maxResults < 1 || maxResults > 1000) throw invalid(`max_results must be between 1 and 1000, got ${maxResults}`);
    const out: Record<string, unknown>[] = [];
    for (const runId of runIds) {
      const h = await t.getMetricHistory({ runId, key, maxPoints: Math.max(2, maxResults), startStep: f.optionalInt('start_step'), endStep: f.optionalInt('end_step') });
      out.push(...h.metrics.map((m) => mlflowMetric(m, runId)));
    }
    return { metrics: out };
  });

  // ------------------------------------------------------------------ run artifacts
  get('/artifacts/list', rule.read('run', from.field('run_id', 'run_uuid')), async (f) => {
    const runId = runIdOf(f);
    const listing = await deps.runArtifacts.list(runId, f.optionalString('path') ?? '');
    return {
      root_uri: listing.rootUri,
      files: listing.files.map((e) => (e.isDir ? { path: e.path, is_dir: true } : { path: e.path, is_dir: false, file_size: e.size ?? 0 })),
    };
  });
}
