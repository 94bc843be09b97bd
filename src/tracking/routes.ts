import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type, type Static } from '@sinclair/typebox';
import { acceptRawBodies, artifactContentType, limitedBody } from '../platform/http/raw-body.js';
import type { TrackingService } from './service.js';
import type { RunArtifactService } from './artifact-service.js';
import { mapToTags } from '../platform/tags.js';
import { experimentJson, runJson } from './json.js';
import { fromJsonDouble, jsonDouble } from './types.js';
import { ArtifactListing, ArtifactListQuery, ErrorBody } from '../platform/http/schemas.js';
import { SlicedJsonWriter } from '../platform/http/json-writer.js';
import { from, rule } from '../platform/auth/rules.js';
import type { ResourceDirectory } from '../platform/auth/resources.js';
import type { Experiment } from './types.js';
import * as S from './schemas.js';

export interface TrackingRouteDeps {
  readonly tracking: TrackingService;
  readonly runArtifacts: RunArtifactService;
  readonly uploadLimit: number;
  /** Where an experiment's project name is found from its id. */
  readonly resources: ResourceDirectory;
}

const err = { 400: ErrorBody, 404: ErrorBody };
const noContent = { 204: Type.Null(), ...err };

/** The native tracking API under /api/v1. */
export const trackingRoutes: FastifyPluginAsync<TrackingRouteDeps> = async (root, deps) => {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const t = deps.tracking;
  app.addSchema(ErrorBody);
  // An experiment's JSON names its project (names are cached per process: a page looks up each project once at most).
  const experimentOut = async (e: Experiment) => experimentJson(e, await deps.resources.projectName(e.projectId));
  // Where routes name the resource their rule is about.
  const experimentId = from.params('experiment_id');
  const runId = from.params('run_id');

  // ------------------------------------------------------------------ experiments
  app.post('/experiments', { config: { permission: rule.edit('project', from.body('project')) }, schema: { tags: ['experiments'], summary: 'Create an experiment', body: S.CreateExperimentBody, response: { 201: Type.Object({ experiment: S.Experiment }), 409: ErrorBody, ...err } } }, async (req, reply) => {
    const id = await t.createExperiment({ name: req.body.name, artifactLocation: req.body.artifact_location, tags: mapToTags(req.body.tags), project: req.body.project });
    return reply.status(201).send({ experiment: await experimentOut(await t.getExperiment(id)) });
  });
  app.get('/experiments', { config: { permission: rule.listed }, schema: { tags: ['experiments'], summary: 'Search experiments', querystring: S.ListQuery, response: { 200: Type.Object({ experiments: Type.Array(S.Experiment), next_page_token: Type.Optional(Type.String()) }), ...err } } }, async (req) => {
    const q = req.query;
    const page = await t.searchExperiments({ project: q.project, filter: q.filter, orderBy: q.order_by, viewType: q.view_type, maxResults: q.max_results, pageToken: q.page_token });
    return { experiments: await Promise.all(page.items.map(experimentOut)), next_page_token: page.nextPageToken };
  });
  app.get(
    '/experiments/stats',
    {
      config: { permission: rule.read('experiment', from.query('experiment_id')) },
      schema: {
        tags: ['experiments'],
        summary: 'Run counts and last activity of experiments',
        querystring: Type.Object({ experiment_id: Type.Array(Type.String({ pattern: '^[0-9]{1,18}$' }), { minItems: 1, maxItems: 1000 }) }),
        response: { 200: Type.Object({ stats: Type.Array(S.ExperimentStats) }), ...err },
      },
    },
    async (req) => ({
      stats: (await t.experimentStats(req.query.experiment_id.map(Number))).map((x) => ({ experiment_id: x.experimentId, runs: x.runs, running: x.running, last_activity: x.lastActivity })),
    }),
  );
  app.get(
    '/experiments/:experiment_id/keys',
    { config: { permission: rule.read('experiment', experimentId) }, schema: { tags: ['experiments'], summary: "Metric, param and tag keys of an experiment's active runs", params: S.ExperimentIdParams, response: { 200: S.ExperimentKeys, ...err } } },
    async (req) => t.experimentKeys(req.params.experiment_id),
  );
  // Found by name, not id: a lookup filtered by the caller's readable projects like a search (an unreadable one is not found).
  app.get('/experiments/by-name/:name', { config: { permission: rule.listed }, schema: { tags: ['experiments'], summary: 'Get an experiment by name', params: Type.Object({ name: Type.String() }), response: { 200: Type.Object({ experiment: S.Experiment }), ...err } } }, async (req) => ({
    experiment: await experimentOut(await t.getExperimentByName(req.params.name)),
  }));
  app.get('/experiments/:experiment_id', { config: { permission: rule.read('experiment', experimentId) }, schema: { tags: ['experiments'], summary: 'Get an experiment', params: S.ExperimentIdParams, response: { 200: Type.Object({ experiment: S.Experiment }), ...err } } }, async (req) => ({
    experiment: await experimentOut(await t.getExperiment(req.params.experiment_id)),
  }));
  app.patch('/experiments/:experiment_id', { config: { permission: rule.edit('experiment', experimentId) }, schema: { tags: ['experiments'], summary: 'Rename an experiment', params: S.ExperimentIdParams, body: S.UpdateExperimentBody, response: { 200: Type.Object({ experiment: S.Experiment }), 409: ErrorBody, ...err } } }, async (req) => {
    await t.renameExperiment(req.params.experiment_id, req.body.name);
    return { experiment: await experimentOut(await t.getExperiment(req.params.experiment_id)) };
  });
  app.delete('/experiments/:experiment_id', { config: { permission: rule.maintain('experiment', experimentId) }, schema: { tags: ['experiments'], summary: 'Delete an experiment (soft; its runs too)', params: S.ExperimentIdParams, response: noContent } }, async (req, reply) => {
    await t.deleteExperiment(req.params.experiment_id);
    return reply.status(204).send(null);
  });
  app.post('/experiments/:experiment_id/restore', { config: { permission: rule.maintain('experiment', experimentId) }, schema: { tags: ['experiments'], summary: 'Restore a deleted experiment', params: S.ExperimentIdParams, response: { 200: Type.Object({ experiment: S.Experiment }), ...err } } }, async (req) => {
    await t.restoreExperiment(req.params.experiment_id);
    return { experiment: await experimentOut(await t.getExperiment(req.params.experiment_id)) };
  });
  app.post('/experiments/:experiment_id/tags', { config: { permission: rule.edit('experiment', experimentId) }, schema: { tags: ['experiments'], summary: 'Set an experiment tag', params: S.ExperimentIdParams, body: S.SetTagBody, response: noContent } }, async (req, reply) => {
    await t.setExperimentTag(req.params.experiment_id, req.body.key, req.body.value);
    return reply.status(204).send(null);
  });
  app.delete('/experiments/:experiment_id/tags', { config: { permission: rule.edit('experiment', experimentId) }, schema: { tags: ['experiments'], summary: 'Delete an experiment tag', params: S.ExperimentIdParams, querystring: S.TagKeyQuery, response: noContent } }, async (req, reply) => {
    await t.deleteExperimentTag(req.params.experiment_id, req.query.key);
    return reply.status(204).send(null);
  });

  // ------------------------------------------------------------------ runs
  app.post('/runs', { config: { permission: rule.edit('experiment', from.body('experiment_id')) }, schema: { tags: ['runs'], summary: 'Create a run', body: S.CreateRunBody, response: { 201: Type.Object({ run: S.Run }), ...err } } }, async (req, reply) => {
    const b = req.body;
    const run = await t.createRun({ experimentId: b.experiment_id, runName: b.run_name, startTime: b.start_time, userId: b.user_id, tags: mapToTags(b.tags) });
    return reply.status(201).send({ run: runJson(run) });
  });
  app.post('/runs/search', { config: { permission: rule.listed }, schema: { tags: ['runs'], summary: 'Search runs with the filter grammar', body: S.SearchRunsBody, response: { 200: Type.Object({ runs: Type.Array(S.Run), next_page_token: Type.Optional(Type.String()) }), ...err } } }, async (req) => {
    const b = req.body;
    const page = await t.searchRuns({ experimentIds: b.experiment_ids, filter: b.filter, orderBy: b.order_by, viewType: b.view_type, maxResults: b.max_results, pageToken: b.page_token, offset: b.offset });
    return { runs: page.items.map(runJson), next_page_token: page.nextPageToken };
  });
  app.post(
    '/runs/search/check',
    {
      // Reads nothing (it parses the filter), but asks what the search it checks asks: a read-scoped identity.
      config: { permission: rule.listed },
      schema: {
        tags: ['runs'],
        summary: 'Check a filter and order_by without searching: {valid} or {valid: false, message, details: {position, expected}}',
        body: Type.Object({ filter: Type.Optional(Type.String()), order_by: Type.Optional(Type.Array(Type.String())) }, { additionalProperties: false }),
        response: {
          200: Type.Object({ valid: Type.Boolean(), message: Type.Optional(Type.String()), details: Type.Optional(Type.Record(Type.String(), Type.Unknown())) }),
          ...err,
        },
      },
    },
    async (req) => t.checkRunSearch(req.body.filter, req.body.order_by),
  );
  app.post('/runs/count', { config: { permission: rule.listed }, schema: { tags: ['runs'], summary: 'Count runs matching a filter, optionally per value of a param or tag', body: S.CountRunsBody, response: { 200: S.RunCounts, ...err } } }, async (req) => {
    const b = req.body;
    return t.countRuns({ experimentIds: b.experiment_ids, filter: b.filter, viewType: b.view_type, groupBy: b.group_by, maxGroups: b.max_groups });
  });
  app.get('/runs/:run_id', { config: { permission: rule.read('run', runId) }, schema: { tags: ['runs'], summary: 'Get a run', params: S.RunIdParams, response: { 200: Type.Object({ run: S.Run }), ...err } } }, async (req) => ({ run: runJson(await t.getRun(req.params.run_id)) }));
  app.patch('/runs/:run_id', { config: { permission: rule.edit('run', runId) }, schema: { tags: ['runs'], summary: 'Update status, end time or name', params: S.RunIdParams, body: S.UpdateRunBody, response: { 200: Type.Object({ run: S.Run }), ...err } } }, async (req) => {
    await t.updateRun({ runId: req.params.run_id, status: req.body.status, endTime: req.body.end_time, runName: req.body.run_name });
    return { run: runJson(await t.getRun(req.params.run_id)) };
  });
  app.delete('/runs/:run_id', { config: { permission: rule.edit('run', runId) }, schema: { tags: ['runs'], summary: 'Delete a run (soft)', params: S.RunIdParams, response: noContent } }, async (req, reply) => {
    await t.deleteRun(req.params.run_id);
    return reply.status(204).send(null);
  });
  app.post('/runs/:run_id/restore', { config: { permission: rule.edit('run', runId) }, schema: { tags: ['runs'], summary: 'Restore a deleted run', params: S.RunIdParams, response: { 200: Type.Object({ run: S.Run }), ...err } } }, async (req) => {
    await t.restoreRun(req.params.run_id);
    return { run: runJson(await t.getRun(req.params.run_id)) };
  });
  app.post('/runs/:run_id/log', { config: { permission: rule.edit('run', runId) }, schema: { tags: ['runs'], summary: 'Log metrics, params and tags in one atomic batch', params: S.RunIdParams, body: S.LogBody, response: noContent } }, async (req, reply) => {
    const now = Date.now();
    await t.logBatch({
      runId: req.params.run_id,
      metrics: (req.body.metrics ?? []).map((m) => ({ key: m.key, value: fromJsonDouble(m.value), timestamp: m.timestamp ?? now, step: m.step ?? 0 })),
      params: mapToTags(req.body.params),
      tags: mapToTags(req.body.tags),
    });
    return reply.status(204).send(null);
  });
  app.post('/runs/:run_id/tags', { config: { permission: rule.edit('run', runId) }, schema: { tags: ['runs'], summary: 'Set a run tag', params: S.RunIdParams, body: S.SetTagBody, response: noContent } }, async (req, reply) => {
    await t.setTag(req.params.run_id, req.body.key, req.body.value);
    return reply.status(204).send(null);
  });
  app.delete('/runs/:run_id/tags', { config: { permission: rule.edit('run', runId) }, schema: { tags: ['runs'], summary: 'Delete a run tag', params: S.RunIdParams, querystring: S.TagKeyQuery, response: noContent } }, async (req, reply) => {
    await t.deleteTag(req.params.run_id, req.query.key);
    return reply.status(204).send(null);
  });
  app.post('/runs/:run_id/inputs', { config: { permission: rule.edit('run', runId) }, schema: { tags: ['runs'], summary: 'Record dataset inputs', params: S.RunIdParams, body: S.LogInputsBody, response: noContent } }, async (req, reply) => {
    await t.logInputs(
      req.params.run_id,
      req.body.datasets.map((d) => ({
        dataset: { name: d.name, digest: d.digest, sourceType: d.source_type, source: d.source, schema: d.schema, profile: d.profile },
        tags: mapToTags(d.tags),
      })),
    );
    return reply.status(204).send(null);
  });
  app.get('/runs/:run_id/metric-history', { config: { permission: rule.read('run', runId) }, schema: { tags: ['runs'], summary: 'Metric history: pages of at most 25,000 points (max_results, then next_page_token), or downsampled (max_points keeps min/max per bucket)', params: S.RunIdParams, querystring: S.HistoryQuery, response: { 200: S.MetricHistory, ...err } } }, async (req, reply) => {
    const q = req.query;
    const h = await t.getMetricHistoryColumns({ runId: req.params.run_id, key: q.key, maxResults: q.max_results, pageToken: q.page_token, maxPoints: q.max_points, startStep: q.start_step, endStep: q.end_step });
    // Columnar, written 1,000 points at a time with other requests getting their turn in between (SlicedJsonWriter):
    // the shape charts consume, and the cheapest to produce for long series.
    const { steps, timestamps, values } = h;
    const n = steps.length;
    const out = new SlicedJsonWriter().text(`{"key":${JSON.stringify(q.key)},"steps":[`);
    await out.list(n, (a, b) => steps.subarray(a, b).join(','));
    await out.text('],"timestamps":[').list(n, (a, b) => timestamps.subarray(a, b).join(','));
    await out.text('],"values":[').list(n, (a, b) => doublesJson(values, a, b));
    out.text(
      `],"downsampled":${h.downsampled}` +
        (h.totalPoints !== undefined ? `,"total_points":${h.totalPoints}` : '') +
        (h.nextPageToken ? `,"next_page_token":${JSON.stringify(h.nextPageToken)}` : '') +
        '}',
    );
    const body = out.toBuffer();
    // Already JSON: Fastify sends bytes as they are (the schema still documents the shape), with the type given here.
    return reply.type('application/json; charset=utf-8').send(body as unknown as Static<typeof S.MetricHistory>);
  });

  // ------------------------------------------------------------------ run artifacts
  app.get('/runs/:run_id/artifacts', { config: { permission: rule.read('run', runId) }, schema: { tags: ['artifacts'], summary: "List a folder of a run's artifacts", params: S.RunIdParams, querystring: ArtifactListQuery, response: { 200: ArtifactListing, ...err } } }, async (req) => {
    const l = await deps.runArtifacts.list(req.params.run_id, req.query.path ?? '');
    return { root_uri: l.rootUri, files: l.files.map((f) => ({ path: f.path, is_dir: f.isDir, size: f.size })) };
  });
  await app.register(async (raw: FastifyInstance) => {
    acceptRawBodies(raw);
    const params = Type.Object({ run_id: Type.String({ maxLength: 256 }), '*': Type.String() });
    raw.get('/runs/:run_id/artifacts/*', { config: { permission: rule.read('run', runId) }, schema: { tags: ['artifacts'], summary: 'Download an artifact file', params } }, async (req, reply) => {
      const p = req.params as { run_id: string; '*': string };
      const obj = await deps.runArtifacts.read(p.run_id, p['*']);
      return reply.header('content-type', artifactContentType(p['*'])).header('content-length', obj.size).header('x-content-type-options', 'nosniff').send(obj.body);
    });
    raw.put('/runs/:run_id/artifacts/*', { config: { permission: rule.edit('run', runId) }, schema: { tags: ['artifacts'], summary: 'Upload an artifact file (raw body)', params } }, async (req, reply) => {
      const p = req.params as { run_id: string; '*': string };
      const { body, declaredLength } = limitedBody(req, deps.uploadLimit);
      await deps.runArtifacts.write(p.run_id, p['*'], body, declaredLength);
      return reply.status(204).send(null);
    });
    raw.delete('/runs/:run_id/artifacts/*', { config: { permission: rule.edit('run', runId) }, schema: { tags: ['artifacts'], summary: 'Delete an artifact file or folder', params } }, async (req, reply) => {
      const p = req.params as { run_id: string; '*': string };
      await deps.runArtifacts.remove(p.run_id, p['*']);
      return reply.status(204).send(null);
    });
  });
};

/** Entries [from, to) of `values` as JSON numbers, or "NaN", "Infinity", "-Infinity" (JSON has no such numbers). */
function doublesJson(values: Float64Array, from: number, to: number): string {
  let finite = true;
  for (let i = from; i < to && finite; i++) finite = Number.isFinite(values[i]!);
  if (finite) return values.subarray(from, to).join(',');
  const parts: string[] = new Array(to - from);
  for (let i = from; i < to; i++) {
    const v = values[i]!;
    parts[i - from] = Number.isFinite(v) ? String(v) : `"${jsonDouble(v) as string}"`;
  }
  return parts.join(',');
}
