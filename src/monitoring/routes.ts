/** The monitoring API under /api/v1/monitors: monitors, records, labels, reports, windows, alerts. */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import * as S from '@kiln-mlops/sdk/contract/monitoring-schemas';
import { actorFromHeaders } from '../platform/actor.js';
import { from, rule } from '../platform/auth/rules.js';
import type { ResourceDirectory } from '../platform/auth/resources.js';
import { invalid, KilnError } from '../platform/errors.js';
import { acceptRawBodies, limitedBody } from '../platform/http/raw-body.js';
import { ErrorBody } from '../platform/http/schemas.js';
import type { DataFormat } from '../data/profile/index.js';
import type { Monitor } from './monitors.js';
import type { MonitorService } from './service.js';

export interface MonitoringRouteDeps {
  readonly monitors: MonitorService;
  readonly resources: ResourceDirectory;
  /** Largest upload of records (bytes). */
  readonly uploadLimit: number;
}

const err = { 400: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody, 413: ErrorBody };
const tags = ['monitors'];
const NameParams = Type.Object({ name: Type.String({ minLength: 1, maxLength: 128 }) });
const RangeQuery = Type.Object({
  from: Type.Optional(Type.String({ maxLength: 64, description: 'ISO 8601 date or time (row-count windows: a window number)' })),
  to: Type.Optional(Type.String({ maxLength: 64, description: 'ISO 8601 date or time; a date alone means the end of that day' })),
});
/** JSON records are parsed whole: at most this many bytes (larger batches go as a file). */
const JSON_LIMIT = 64 * 1024 * 1024;

const FORMATS: Record<string, DataFormat> = {
  'text/csv': 'csv',
  'text/tab-separated-values': 'csv',
  'application/x-ndjson': 'jsonl',
  'application/jsonl': 'jsonl',
  'application/x-jsonlines': 'jsonl',
  'application/vnd.apache.parquet': 'parquet',
  'application/x-parquet': 'parquet',
};

export const monitoringRoutes: FastifyPluginAsync<MonitoringRouteDeps> = async (root, deps) => {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const { monitors, resources } = deps;
  const monitor = from.params('name');
  const json = async (m: Monitor): Promise<S.Monitor> => ({
    name: m.name,
    project: await resources.projectName(m.projectId),
    description: m.description,
    deployment: m.deployment,
    model: m.model,
    features: m.spec.features,
    predictions: m.spec.predictions,
    label: m.spec.label,
    task: m.spec.task,
    positive_class: m.spec.positive_class,
    score: m.spec.score,
    window: m.spec.window,
    time_column: m.spec.time_column,
    bins: m.spec.bins,
    top_k: m.spec.top_k,
    drift_share: m.spec.drift_share,
    rules: m.rules.map((r) => ({ id: r.id, text: r.text, metric: r.metric, op: r.op, value: r.value, windows: r.windows })),
    reference: { source: m.referenceSource, rows: m.reference.rows, creation_time: m.creationTime },
    created_by: m.createdBy,
    creation_time: m.creationTime,
    last_update_time: m.lastUpdateTime,
    last_record_time: m.lastRecordTime,
    firing: await monitors.firing(m),
  });
  const actor = (req: FastifyRequest) => actorFromHeaders(req.headers);

  app.get(
    '/monitors',
    {
      config: { permission: rule.listed },
      schema: {
        tags,
        summary: 'List monitors (only those of projects the caller reads)',
        querystring: Type.Object({ max_results: Type.Optional(Type.Integer({ minimum: 1 })), page_token: Type.Optional(Type.String({ maxLength: 100 })), project: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })) }),
        response: { 200: Type.Object({ monitors: Type.Array(S.Monitor), next_page_token: Type.Optional(Type.String()) }), ...err },
      },
    },
    async (req) => {
      const page = await monitors.list({ maxResults: req.query.max_results, pageToken: req.query.page_token, project: req.query.project });
      return { monitors: await Promise.all(page.items.map(json)), ...(page.nextPageToken ? { next_page_token: page.nextPageToken } : {}) };
    },
  );

  app.post(
    '/monitors',
    { config: { permission: rule.edit('project', from.body('project')) }, schema: { tags, summary: 'Create a monitor (its reference profile is computed now, once)', body: S.CreateMonitorBody, response: { 201: Type.Object({ monitor: S.Monitor }), ...err } } },
    async (req, reply) => {
      const m = await monitors.create(req.body, actor(req));
      return reply.status(201).send({ monitor: await json(m) });
    },
  );

  app.get('/monitors/:name', { config: { permission: rule.read('monitor', monitor) }, schema: { tags, summary: 'Get a monitor', params: NameParams, response: { 200: Type.Object({ monitor: S.Monitor }), ...err } } }, async (req) => ({
    monitor: await json(await monitors.get(req.params.name)),
  }));

  app.patch(
    '/monitors/:name',
    { config: { permission: rule.edit('monitor', monitor) }, schema: { tags, summary: "Change a monitor's rules, drift share, description, or per-feature methods and thresholds", params: NameParams, body: S.UpdateMonitorBody, response: { 200: Type.Object({ monitor: S.Monitor }), ...err } } },
    async (req) => ({ monitor: await json(await monitors.update(req.params.name, req.body, actor(req))) }),
  );

  app.delete('/monitors/:name', { config: { permission: rule.maintain('monitor', monitor) }, schema: { tags, summary: 'Delete a monitor with its windows, predictions and alerts', params: NameParams, response: { 204: Type.Null(), ...err } } }, async (req, reply) => {
    await monitors.delete(req.params.name, actor(req));
    return reply.status(204).send(null);
  });

  app.post(
    '/monitors/:name/labels',
    { config: { permission: rule.edit('monitor', monitor) }, schema: { tags, summary: 'Send delayed labels, joined with the logged predictions by request id (the last label wins)', params: NameParams, body: S.LabelsBody, response: { 200: S.LabelsResult, ...err } } },
    async (req) => monitors.labels(req.params.name, req.body.labels),
  );

  app.get(
    '/monitors/:name/report',
    { config: { permission: rule.read('monitor', monitor) }, schema: { tags, summary: 'One drift report merged over the windows in the range (counts add up), compared with the reference', params: NameParams, querystring: RangeQuery, response: { 200: S.Report, ...err } } },
    async (req) => monitors.report(req.params.name, { from: req.query.from, to: req.query.to }),
  );

  app.get(
    '/monitors/:name/windows',
    {
      config: { permission: rule.read('monitor', monitor) },
      schema: {
        tags,
        summary: 'The windows in the range, oldest first: per-column statistic and drift flag, performance',
        params: NameParams,
        querystring: Type.Object({ ...RangeQuery.properties, limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 5000 })), compare: Type.Optional(Type.Union([Type.Literal('reference'), Type.Literal('previous')])) }),
        response: { 200: Type.Object({ windows: Type.Array(S.WindowSummary) }), ...err },
      },
    },
    async (req) => ({ windows: await monitors.windows(req.params.name, { from: req.query.from, to: req.query.to, limit: req.query.limit, compare: req.query.compare }) }),
  );

  app.get(
    '/monitors/:name/windows/:start',
    {
      config: { permission: rule.read('monitor', monitor) },
      schema: {
        tags,
        summary: "One window's report with the reference's and the window's histograms",
        params: Type.Object({ name: Type.String({ minLength: 1, maxLength: 128 }), start: Type.String({ maxLength: 20 }) }),
        querystring: Type.Object({ compare: Type.Optional(Type.Union([Type.Literal('reference'), Type.Literal('previous')])) }),
        response: { 200: S.Report, ...err },
      },
    },
    async (req) => {
      const start = Number(req.params.start);
      if (!/^-?\d+$/.test(req.params.start)) throw invalid(`Invalid window start '${req.params.start}': an integer (epoch ms, or the window number).`, { field: 'start' });
      return monitors.window(req.params.name, start, req.query.compare);
    },
  );

  app.get(
    '/monitors/:name/alerts',
    { config: { permission: rule.read('monitor', monitor) }, schema: { tags, summary: 'The alert history, newest first', params: NameParams, querystring: Type.Object({ max_results: Type.Optional(Type.Integer({ minimum: 1 })) }), response: { 200: Type.Object({ alerts: Type.Array(S.Alert) }), ...err } } },
    async (req) => ({ alerts: await monitors.alerts(req.params.name, req.query.max_results) }),
  );

  app.post(
    '/monitors/:name/evaluate',
    { config: { permission: rule.edit('monitor', monitor) }, schema: { tags, summary: 'Evaluate the alert rules now (they are also evaluated after records and labels arrive, and periodically)', params: NameParams, response: { 200: Type.Object({ alerts: Type.Array(S.Alert) }), ...err } } },
    async (req) => {
      await monitors.get(req.params.name);
      await monitors.evaluateSoon(req.params.name);
      return { alerts: await monitors.alerts(req.params.name, 100) };
    },
  );

  // Records: JSON ({"records": [...]}) or a file (CSV, TSV, JSON lines, parquet) streamed through a temporary file.
  await app.register(async (raw) => {
    acceptRawBodies(raw);
    raw.post(
      '/monitors/:name/records',
      {
        config: { permission: rule.edit('monitor', monitor) },
        schema: {
          tags,
          summary: 'Log predictions: JSON {"records": [...]} or a file body (text/csv, text/tab-separated-values, application/x-ndjson, application/vnd.apache.parquet; or ?format=csv|tsv|jsonl|parquet)',
          params: NameParams,
          querystring: Type.Object({ format: Type.Optional(Type.Union(['csv', 'tsv', 'jsonl', 'json', 'parquet'].map((f) => Type.Literal(f)))) }),
          response: { 200: S.RecordsResult, ...err },
        },
      },
      async (req) => {
        const { name } = req.params as { name: string };
        const q = req.query as { format?: string };
        const type = String(req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
        if (q.format === undefined && (type === 'application/json' || type === '')) {
          const { body } = limitedBody(req, Math.min(JSON_LIMIT, deps.uploadLimit));
          const chunks: Buffer[] = [];
          for await (const c of body) chunks.push(c as Buffer);
          let parsed: unknown;
          try {
            parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
          } catch (e) {
            throw new KilnError('MALFORMED_REQUEST', `The body is not valid JSON: ${(e as Error).message}`);
          }
          if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed) || !('records' in parsed)) throw invalid('Expected a JSON object {"records": [...]}, one object per prediction.', { field: 'records' });
          return monitors.logRecords(name, (parsed as { records: unknown }).records);
        }
        const format: DataFormat | undefined = q.format === 'tsv' ? 'csv' : q.format !== undefined ? (q.format as DataFormat) : FORMATS[type];
        if (!format) throw invalid(`Unsupported Content-Type '${type}': send JSON, text/csv, text/tab-separated-values, application/x-ndjson or application/vnd.apache.parquet (or say ?format=).`, { field: 'content-type' });
        await monitors.get(name);
        const dir = await mkdtemp(join(tmpdir(), 'kiln-records-'));
        const file = join(dir, q.format === 'tsv' || type === 'text/tab-separated-values' ? 'records.tsv' : `records.${format}`);
        try {
          const { body } = limitedBody(req, deps.uploadLimit);
          // Whether the text has a quote anywhere: without one, a CSV can be cut at its delimiters byte by byte.
          let quotes = false;
          const watch = new Transform({
            transform(chunk: Buffer, _enc, cb) {
              if (!quotes && chunk.indexOf(34) >= 0) quotes = true;
              cb(null, chunk);
            },
          });
          await pipeline(body, watch, createWriteStream(file));
          return await monitors.logFile(name, { name: file.endsWith('.tsv') ? 'upload.tsv' : 'upload', format, open: () => createReadStream(file, { highWaterMark: 1 << 20 }) }, { noQuotes: !quotes });
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      },
    );
  });
};
