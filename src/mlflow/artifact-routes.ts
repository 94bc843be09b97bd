import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ArtifactStore } from '../platform/artifacts/types.js';
import { normalizeArtifactPath, reservedPrefixOf } from '../platform/artifacts/path.js';
import { acceptRawBodies, artifactContentType, limitedBody } from '../platform/http/raw-body.js';
import { KilnError } from '../platform/errors.js';
import { from, rule } from '../platform/auth/rules.js';

export interface MlflowArtifactDeps {
  readonly artifacts: ArtifactStore;
  readonly uploadLimit: number;
  /** Folders of the store that capabilities own (dataset blobs): the proxy neither reads, lists, writes nor deletes them. */
  readonly reservedArtifactPrefixes: readonly string[];
}

/** The canonical path, refused with PERMISSION_DENIED when it lies in a folder a capability owns. */
function proxied(raw: string, reserved: readonly string[], opts: { allowEmpty?: boolean } = {}): string {
  const path = normalizeArtifactPath(raw, opts);
  const owned = reservedPrefixOf(path, reserved);
  if (owned !== undefined) {
    throw new KilnError('PERMISSION_DENIED', `The artifact path '${path}' is in '${owned}/', which the server keeps for its own content-addressed storage; the artifact proxy cannot read or change it.`);
  }
  return path;
}

/** MLflow's proxied artifact service (mlflow_artifacts.proto): the store behind `mlflow-artifacts:/` URIs. */
export async function mlflowArtifactRoutes(app: FastifyInstance, deps: MlflowArtifactDeps): Promise<void> {
  acceptRawBodies(app);
  const store = deps.artifacts;
  const reserved = deps.reservedArtifactPrefixes;
  const pathParam = (req: FastifyRequest) => proxied((req.params as { '*'?: string })['*'] ?? '', reserved);

  // A path of the artifact store (an experiment's or a run's folder, found from the path).
  const artifactPath = from.params('*');
  /** The folder a listing names: the last `path` of the query string (as the handler reads it), '' for the root. */
  const listedPath = (req: FastifyRequest) => {
    const q = (req.query ?? {}) as { path?: unknown };
    return (Array.isArray(q.path) ? q.path[q.path.length - 1] : q.path) ?? '';
  };

  app.get('/artifacts', { config: { permission: rule.read('artifact', listedPath) } }, async (req) => {
    const q = req.query as { path?: unknown };
    const rawPath = Array.isArray(q.path) ? q.path[q.path.length - 1] : q.path;
    if (rawPath !== undefined && typeof rawPath !== 'string') throw new KilnError('INVALID_PARAMETER_VALUE', 'path must be a string');
    const path = proxied(rawPath ?? '', reserved, { allowEmpty: true });
    if (path !== '' && (await store.exists(path))) return { files: [] };
    const entries = (await store.list(path)).filter((e) => reservedPrefixOf(e.path, reserved) === undefined);
    return {
      files: entries.map((e) => {
        const name = e.path.split('/').pop()!;
        return e.isDir ? { path: name, is_dir: true } : { path: name, is_dir: false, file_size: e.size ?? 0 };
      }),
    };
  });

  app.get('/artifacts/*', { config: { permission: rule.read('artifact', artifactPath) } }, async (req, reply) => download(store, pathParam(req), reply));

  app.put('/artifacts/*', { config: { permission: rule.edit('artifact', artifactPath) } }, async (req) => {
    const path = pathParam(req);
    const { body, declaredLength } = limitedBody(req, deps.uploadLimit);
    await store.put(path, body, declaredLength);
    return {};
  });

  app.delete('/artifacts/*', { config: { permission: rule.edit('artifact', artifactPath) } }, async (req) => {
    const path = pathParam(req);
    await store.delete(path);
    return {};
  });

  for (const action of ['create', 'complete', 'abort']) {
    app.post(`/mpu/${action}/*`, { config: { permission: rule.edit('artifact', artifactPath) } }, async () => {
      throw new KilnError('NOT_IMPLEMENTED', 'Multipart upload is not supported for the current artifact repository');
    });
  }
}

export async function download(store: ArtifactStore, path: string, reply: FastifyReply): Promise<FastifyReply> {
  const obj = await store.get(path);
  return reply
    .header('content-type', artifactContentType(path))
    .header('content-length', obj.size)
    .header('x-content-type-options', 'nosniff')
    .header('content-disposition', `inline; filename*=UTF-8''${encodeURIComponent(path.split('/').pop() ?? 'artifact')}`)
    .send(obj.body);
}
