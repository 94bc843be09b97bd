/**
 * Inference endpoints, at the root of the server (and of every `kiln serve` replica): the Open Inference Protocol
 * V2 over REST (JSON and the binary tensor data extension) and MLflow's scoring protocol. Thin translations onto
 * the serving plane; errors in each protocol's own shape (`{"error": "..."}` for OIP).
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { KilnError, invalid } from '../platform/errors.js';
import { from, rule, type RouteRule } from '../platform/auth/rules.js';
import { VERSION } from '../version.js';
import { newTimeOrderedId } from '../platform/ids.js';
import type { ServingPlane } from './plane.js';
import { binaryWanted, headerLengthOf, inferResponseBinary, inferResponseJson, parseBinaryInferRequest, parseInferRequest } from './protocol/index.js';
import { modelMetadata } from './protocol/check.js';
import { invocationResponse, parseInvocationRequest } from './protocol/mlflow-scoring.js';

export interface DataPlaneDeps {
  readonly plane: ServingPlane;
  /** Largest inference request body in bytes. */
  readonly bodyLimit: number;
  /** Whether the process is ready to serve (its deployments are loaded, it is not shutting down). */
  readonly ready: () => boolean;
}

/** Inference needs the `infer` scope (passwords and sessions have it) and a role in the deployment's project. */
const infer = (): RouteRule => ({ access: 'project', role: 'viewer', on: { kind: 'deployment', id: from.params('name') }, scope: 'infer' });
const oip = { errorStyle: 'oip' as const, machineOnly: true };
const REQUEST_ID = /^[\x21-\x7e]{1,256}$/;

type Params = { name: string; version?: string };

export const dataPlaneRoutes: FastifyPluginAsync<DataPlaneDeps> = async (app, deps) => {
  const { plane } = deps;
  // Bodies arrive as bytes: JSON, binary tensors (after a JSON header) and CSV are told apart by the route.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: deps.bodyLimit }, (_req, body, done) => done(null, body));

  app.get('/v2/health/live', { config: { permission: rule.public, ...oip }, schema: { hide: true } }, async () => ({ live: true }));
  app.get('/v2/health/ready', { config: { permission: rule.public, ...oip }, schema: { hide: true } }, async (_req, reply) => {
    const ready = deps.ready();
    if (!ready) void reply.status(503).header('retry-after', '1');
    return { ready };
  });
  app.get('/v2', { config: { permission: rule.public, ...oip }, schema: { hide: true } }, async () => ({ name: 'kiln', version: VERSION, extensions: ['binary_tensor_data'] }));

  const metadata = async (req: FastifyRequest<{ Params: Params }>) => {
    const { name, version } = req.params;
    const p = plane.plan(name);
    const unit = version === undefined ? p.targets.find((t) => t.weight > 0)!.unit : plane.pick(name, version, { header: () => undefined });
    const versions = [...new Set([...p.targets.map((t) => String(t.unit.version)), ...(p.shadow ? [String(p.shadow.unit.version)] : [])])];
    return modelMetadata(name, version === undefined ? versions : [version], unit.inputs, unit.outputs);
  };
  app.get('/v2/models/:name', { config: { permission: infer(), ...oip }, schema: { hide: true } }, metadata);
  app.get('/v2/models/:name/versions/:version', { config: { permission: infer(), ...oip }, schema: { hide: true } }, metadata);

  const ready = async (req: FastifyRequest<{ Params: Params }>, reply: FastifyReply) => {
    const { name, version } = req.params;
    const p = plane.plan(name);
    const units = version === undefined ? p.targets.filter((t) => t.weight > 0).map((t) => t.unit) : [plane.pick(name, version, { header: () => undefined })];
    const states = units.map((u) => u.state().state);
    const isReady = states.every((s) => s === 'ready');
    // Asking is what loads a model nobody has called yet: a probe makes it ready.
    if (!isReady) for (const u of units) void u.warm(300_000).catch(() => undefined);
    if (!isReady) void reply.status(503).header('retry-after', '1');
    return { name, ready: isReady };
  };
  app.get('/v2/models/:name/ready', { config: { permission: infer(), ...oip }, schema: { hide: true } }, ready);
  app.get('/v2/models/:name/versions/:version/ready', { config: { permission: infer(), ...oip }, schema: { hide: true } }, ready);

  const inferHandler = async (req: FastifyRequest<{ Params: Params }>, reply: FastifyReply) => {
    const { name, version } = req.params;
    plane.plan(name); // 404 before reading the body's tensors
    const body = bodyOf(req);
    const headerLength = headerLengthOf(req.headers['inference-header-content-length']);
    const parsed = headerLength !== undefined ? parseBinaryInferRequest(body, headerLength) : parseInferRequest(parseJson(body));
    const requestId = parsed.id ?? requestIdOf(req);
    if (parsed.id !== undefined && !REQUEST_ID.test(parsed.id)) throw invalid("'id' must be 1 to 256 printable ASCII characters without spaces.");
    const r = await plane.infer(name, version, parsed.inputs, parsed.outputs, { protocol: 'oip-rest', requestId, header: (h) => headerValue(req, h) });
    void reply.header('x-request-id', requestId);
    const res = { modelName: name, modelVersion: String(r.version), ...(parsed.id !== undefined ? { id: parsed.id } : { id: requestId }), outputs: r.outputs };
    if (binaryWanted(parsed)) {
      const out = inferResponseBinary(res, parsed);
      if (out.headerLength !== undefined) {
        void reply.header('inference-header-content-length', String(out.headerLength));
        return reply.type('application/octet-stream').send(out.body);
      }
      return reply.type('application/json').send(out.body);
    }
    return reply.type('application/json').send(JSON.stringify(inferResponseJson(res)));
  };
  app.post('/v2/models/:name/infer', { config: { permission: infer(), ...oip }, bodyLimit: deps.bodyLimit, schema: { hide: true } }, inferHandler);
  app.post('/v2/models/:name/versions/:version/infer', { config: { permission: infer(), ...oip }, bodyLimit: deps.bodyLimit, schema: { hide: true } }, inferHandler);

  // MLflow's scoring server protocol: a client of `mlflow models serve` changes only the URL.
  app.post('/deployments/:name/invocations', { config: { permission: infer(), errorStyle: 'mlflow', machineOnly: true }, bodyLimit: deps.bodyLimit, schema: { hide: true } }, async (req: FastifyRequest<{ Params: Params }>, reply) => {
    const { name } = req.params;
    const p = plane.plan(name);
    const unit = plane.pick(name, undefined, { header: (h) => headerValue(req, h) });
    const contentType = String(req.headers['content-type'] ?? 'application/json');
    const { inputs, table } = parseInvocationRequest(bodyOf(req), contentType, { inputs: [...unit.inputs], ...(unit.signature ? { signature: unit.signature } : {}) });
    const r = await plane.infer(p.deployment.name, String(unit.version), inputs, undefined, { protocol: 'mlflow', requestId: requestIdOf(req), header: (h) => headerValue(req, h) });
    void reply.header('x-request-id', r.requestId);
    return reply.type('application/json').send(JSON.stringify(invocationResponse(r.outputs, table)));
  });
};

function bodyOf(req: FastifyRequest): Buffer {
  const b = req.body;
  if (Buffer.isBuffer(b)) return b;
  throw new KilnError('MALFORMED_REQUEST', 'Request body is empty: send an inference request.');
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (e) {
    throw new KilnError('MALFORMED_REQUEST', `Malformed JSON body: ${(e as Error).message}`);
  }
}

/** The caller's X-Request-Id, else a new time-ordered id (the payload log's index on request ids stays append-only). */
function requestIdOf(req: FastifyRequest): string {
  return req.headers['x-request-id'] === req.id ? req.id : newTimeOrderedId();
}

function headerValue(req: FastifyRequest, name: string): string | undefined {
  const v = req.headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}
