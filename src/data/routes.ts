import type { FastifyInstance, FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { actorFromHeaders } from '../platform/actor.js';
import { acceptRawBodies, artifactContentType, limitedBody } from '../platform/http/raw-body.js';
import { ErrorBody } from '../platform/http/schemas.js';
import { from, rule } from '../platform/auth/rules.js';
import { parseDatasetRef } from './refs.js';
import type { DataService } from './service.js';
import { datasetJson, diffJson, validationJson, versionDetailJson, versionJson } from './json.js';
import * as S from './schemas.js';

export interface DataRouteDeps {
  readonly data: DataService;
  readonly uploadLimit: number;
}

const err = { 400: ErrorBody, 404: ErrorBody };
const tags = ['datasets'];

/** The dataset a reference (`name@v3`) names; undefined when it is none (the service answers the 400). */
function datasetOfRef(ref: unknown): string | undefined {
  try {
    return parseDatasetRef(ref).name;
  } catch {
    return undefined;
  }
}

/** The native data API under /api/v1: blobs (upload protocol), datasets, versions, files, schemas, validations, diffs. */
export const dataRoutes: FastifyPluginAsync<DataRouteDeps> = async (root, deps) => {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const d = deps.data;
  const actor = (req: FastifyRequest) => actorFromHeaders(req.headers);
  // The dataset a route acts on (its project is the dataset's).
  const dataset = from.params('name');

  // ------------------------------------------------------------------ blobs
  // Blobs are content-addressed and shared by every dataset, so they belong to no project: any identity allowed to
  // write may ask which are missing and upload them. Nothing reads a blob except through a dataset version's files,
  // which are checked against the dataset.
  app.post('/data/blobs/missing', { config: { permission: { access: 'authenticated', scope: 'write' } }, schema: { tags, summary: 'Which of these content digests the server lacks (upload only those)', body: S.MissingBlobsBody, response: { 200: Type.Object({ missing: Type.Array(Type.String()) }), ...err } } }, async (req) => ({
    missing: await d.missingBlobs(req.body.sha256),
  }));

  // ------------------------------------------------------------------ datasets
  app.get('/datasets', { config: { permission: rule.listed }, schema: { tags, summary: 'List datasets (name_like filters by name)', querystring: S.ListDatasetsQuery, response: { 200: Type.Object({ datasets: Type.Array(S.Dataset), next_page_token: Type.Optional(Type.String()) }), ...err } } }, async (req) => {
    const page = await d.listDatasets({ nameLike: req.query.name_like, maxResults: req.query.max_results, pageToken: req.query.page_token });
    return { datasets: page.items.map(datasetJson), next_page_token: page.nextPageToken };
  });
  app.get('/datasets/diff', { config: { permission: rule.read('dataset', (req) => [datasetOfRef(from.query('a')(req)), datasetOfRef(from.query('b')(req))]) }, schema: { tags, summary: 'Compare the profiles of two versions (a → b)', querystring: S.DiffQuery, response: { 200: S.DatasetDiff, ...err } } }, async (req) => diffJson(await d.diff(req.query.a, req.query.b)));
  // Found by digest, not name: a lookup filtered by the caller's readable projects like a search.
  app.get('/datasets/by-digest/:digest', { config: { permission: rule.listed }, schema: { tags, summary: 'The version whose digest (or MLflow digest, its first 36 characters) is this', params: Type.Object({ digest: Type.String({ maxLength: 64 }) }), response: { 200: Type.Object({ version: S.DatasetVersionDetail }), ...err } } }, async (req) => ({
    version: versionDetailJson(await d.versionByDigest(req.params.digest)),
  }));
  app.get('/datasets/:name', { config: { permission: rule.read('dataset', dataset) }, schema: { tags, summary: 'Get a dataset', params: S.NameParams, response: { 200: Type.Object({ dataset: S.Dataset }), ...err } } }, async (req) => ({ dataset: datasetJson(await d.getDataset(req.params.name)) }));
  app.delete('/datasets/:name', { config: { permission: rule.maintain('dataset', dataset) }, schema: { tags, summary: 'Delete a dataset with its versions, reports and the blobs no other dataset uses', params: S.NameParams, response: { 204: Type.Null(), ...err } } }, async (req, reply) => {
    await d.deleteDataset(req.params.name);
    return reply.status(204).send(null);
  });

  // ------------------------------------------------------------------ versions
  // The first version of a name creates the dataset: for a name not taken yet, the dataset's project is the one the
  // caller creates in (its default project until requests name one).
  app.post('/datasets/:name/versions', { config: { permission: rule.edit('dataset', dataset) }, schema: { tags, summary: 'Add a version from uploaded blobs (201 created; 200 with created=false when this content is already a version)', params: S.NameParams, body: S.AddVersionBody, response: { 200: Type.Object({ created: Type.Boolean(), version: S.DatasetVersionDetail }), 201: Type.Object({ created: Type.Boolean(), version: S.DatasetVersionDetail }), ...err } } }, async (req, reply) => {
    const r = await d.addVersion(req.params.name, { files: req.body.files, source: req.body.source, description: req.body.description }, actor(req));
    return reply.status(r.created ? 201 : 200).send({ created: r.created, version: versionDetailJson(r.version) });
  });
  app.get('/datasets/:name/versions', { config: { permission: rule.read('dataset', dataset) }, schema: { tags, summary: 'Versions of a dataset, newest first', params: S.NameParams, querystring: S.PageQuery, response: { 200: Type.Object({ versions: Type.Array(S.DatasetVersion), next_page_token: Type.Optional(Type.String()) }), ...err } } }, async (req) => {
    const page = await d.listVersions(req.params.name, { maxResults: req.query.max_results, pageToken: req.query.page_token });
    return { versions: page.items.map(versionJson), next_page_token: page.nextPageToken };
  });
  app.get('/datasets/:name/versions/:version', { config: { permission: rule.read('dataset', dataset) }, schema: { tags, summary: 'A version with its schema and profile (version: v3, 3 or latest)', params: S.VersionParams, response: { 200: Type.Object({ version: S.DatasetVersionDetail }), ...err } } }, async (req) => ({
    version: versionDetailJson(await d.getVersion(req.params.name, req.params.version)),
  }));
  app.get('/datasets/:name/versions/:version/schema', { config: { permission: rule.read('dataset', dataset) }, schema: { tags, summary: 'The inferred schema of a version (edit it and validate against it)', params: S.VersionParams, response: { 200: S.DatasetSchema, ...err } } }, async (req) => d.schemaOf(req.params.name, req.params.version));
  app.get('/datasets/:name/versions/:version/files', { config: { permission: rule.read('dataset', dataset) }, schema: { tags, summary: 'The files of a version', params: S.VersionParams, response: { 200: Type.Object({ files: Type.Array(S.ManifestEntry) }), ...err } } }, async (req) => ({
    files: (await d.getVersion(req.params.name, req.params.version)).files.map((f) => ({ path: f.path, sha256: f.sha256, bytes: f.bytes })),
  }));

  // ------------------------------------------------------------------ validations
  // Validating stores a report on the version: a change (editor), not a read.
  app.post('/datasets/:name/versions/:version/validations', { config: { permission: rule.edit('dataset', dataset) }, schema: { tags, summary: 'Validate a version against a schema (inline or schema_ref), optionally against a baseline for drift; the report is stored', params: S.VersionParams, body: S.ValidateBody, response: { 201: Type.Object({ validation: S.Validation }), ...err } } }, async (req, reply) => {
    const b = req.body;
    const r = await d.validate(req.params.name, req.params.version, { schema: b.schema, schemaRef: b.schema_ref, schemaLabel: b.schema_label, baseline: b.baseline, jsThreshold: b.js_threshold }, actor(req));
    return reply.status(201).send({ validation: validationJson(r) });
  });
  app.get('/datasets/:name/versions/:version/validations', { config: { permission: rule.read('dataset', dataset) }, schema: { tags, summary: 'Validation reports of a version, latest first', params: S.VersionParams, querystring: Type.Object({ max_results: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })) }), response: { 200: Type.Object({ validations: Type.Array(S.Validation) }), ...err } } }, async (req) => ({
    validations: (await d.validations(req.params.name, req.params.version, req.query.max_results)).map(validationJson),
  }));

  // ------------------------------------------------------------------ raw bodies: blob upload, file download
  await app.register(async (raw: FastifyInstance) => {
    acceptRawBodies(raw);
    raw.put('/data/blobs/:sha256', { config: { permission: { access: 'authenticated', scope: 'write' } }, schema: { tags, summary: 'Upload a blob (raw body); refused with nothing kept when its SHA-256 or length differs', params: Type.Object({ sha256: Type.String({ maxLength: 64 }) }) } }, async (req, reply) => {
      const { sha256 } = req.params as { sha256: string };
      const { body, declaredLength } = limitedBody(req, deps.uploadLimit);
      const r = await d.putBlob(sha256, body, declaredLength);
      return reply.status(r.created ? 201 : 200).send({ sha256, created: r.created });
    });
    raw.get('/datasets/:name/versions/:version/files/*', { config: { permission: rule.read('dataset', dataset) }, schema: { tags, summary: 'Download a file of a version', params: Type.Object({ name: Type.String(), version: Type.String(), '*': Type.String() }) } }, async (req, reply) => {
      const p = req.params as { name: string; version: string; '*': string };
      const { entry, object } = await d.openFile(p.name, p.version, p['*']);
      return reply
        .header('content-type', artifactContentType(entry.path))
        .header('content-length', object.size)
        .header('x-content-type-options', 'nosniff')
        .header('etag', `"${entry.sha256}"`)
        .send(object.body);
    });
  });
};
