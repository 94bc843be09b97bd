import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import type { Logger } from '../logging.js';
import { KilnError } from '../errors.js';
import { errorBody, installErrorHandler } from './error-handler.js';
import { ServerMetrics } from './metrics.js';
import { installTextGuard } from './text-guard.js';
import { validatorController } from './validators.js';
import { findWebRoot, serveWebUi } from './web.js';
import { installHostCheck, installSecurityHeaders, timeoutOptions, type HttpTimeouts } from './hardening.js';
import { installAuthentication, installRouteRules, type ProjectAuthorizer, type RouteEntry } from './auth.js';
import { OPEN_AUTHENTICATOR, type Authenticator } from '../auth/authenticator.js';
import { rule } from '../auth/rules.js';
import type { AuditLog } from '../audit/log.js';
import { installRequestAudit } from '../audit/http.js';

export interface HttpAppOptions {
  readonly logger: Logger;
  readonly bodyLimit: number;
  readonly metrics: ServerMetrics;
  readonly version: string;
  /** Answers whether the server can serve (database reachable, artifact store ready). */
  readonly healthCheck: () => Promise<void>;
  /** The built web UI to serve at / (default: web/dist when it was built; false: none). */
  readonly webRoot?: string | false;
  /** Limits on slow and idle clients (default: DEFAULT_HTTP_TIMEOUTS). */
  readonly timeouts?: HttpTimeouts;
  /** The address the server listens on: on a loopback one, requests must name a loopback host (see installHostCheck). */
  readonly listenHost?: string;
  /** Further Host names the server answers to. */
  readonly allowedHosts?: readonly string[];
  /** Who the callers are (default: `--auth none`, everyone trusted). */
  readonly authenticator?: Authenticator;
  /** Decides the project part of route rules (the governance capability's projects). */
  readonly projects?: ProjectAuthorizer;
  /** Whether /metrics answers without an identity (default true). */
  readonly publicMetrics?: boolean;
  /** Where refused requests and failed changes are recorded (see installRequestAudit); none: they are not. */
  readonly audit?: AuditLog;
}

/** The HTTP app and the list of its routes with their rules. */
export type KilnHttpApp = FastifyInstance & { readonly kilnRoutes: () => RouteEntry[] };

export const DEFAULT_HTTP_TIMEOUTS: HttpTimeouts = { headersMs: 10_000, requestMs: 3_600_000, keepAliveMs: 5_000, idleMs: 60_000 };

const REQUEST_ID = /^[\w.:-]{1,128}$/;

/** The Fastify instance with everything every capability shares: ids, logs, errors, validation, metrics, OpenAPI, health. */
export async function createHttpApp(opts: HttpAppOptions): Promise<KilnHttpApp> {
  const app = Fastify({
    loggerInstance: opts.logger,
    bodyLimit: opts.bodyLimit,
    requestIdHeader: false,
    genReqId: (req) => {
      const h = req.headers['x-request-id'];
      return typeof h === 'string' && REQUEST_ID.test(h) ? h : randomUUID();
    },
    // Shutdown closes idle keep-alive connections itself, a moment after it starts (see KilnServer.close),
    // so requests already on the wire are parsed and answered rather than reset.
    forceCloseConnections: false,
    return503OnClosing: true,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 2048 },
    ...timeoutOptions(opts.timeouts ?? DEFAULT_HTTP_TIMEOUTS),
    schemaController: validatorController,
  }) as unknown as FastifyInstance;

  const routes = installRouteRules(app);
  app.decorate('kilnRoutes', routes);
  installErrorHandler(app);
  installAuthentication(app, opts.authenticator ?? OPEN_AUTHENTICATOR, opts.projects);
  if (opts.audit) installRequestAudit(app, opts.audit, (e, what) => opts.logger.error({ err: e }, what));
  installTextGuard(app);
  installSecurityHeaders(app);
  app.addHook('onRequest', async (req, reply) => {
    void reply.header('x-request-id', req.id);
  });
  if (opts.listenHost !== undefined) installHostCheck(app, opts.listenHost, opts.allowedHosts ?? []);
  const webRoot = opts.webRoot === false ? undefined : (opts.webRoot ?? findWebRoot());
  const spa = webRoot ? await serveWebUi(app, webRoot) : undefined;
  app.setNotFoundHandler((req, reply) => {
    if (spa?.(req, reply)) return;
    const mlflow = /^\/(ajax-)?api\/[23]\.0\//.test(req.url);
    const err = new KilnError('ENDPOINT_NOT_FOUND', `No endpoint ${req.method} ${req.url.split('?')[0]}`);
    void reply.status(404).send(errorBody(err, mlflow));
  });
  opts.metrics.install(app, opts.publicMetrics === false ? rule.admin : rule.public);

  await app.register(swagger, {
    // Shared schemas keep their $id as their component name (Experiment, Run, ...).
    refResolver: { buildLocalReference: (json, _base, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Kiln API',
        version: opts.version,
        description: 'The native Kiln REST API. Bodies and responses are JSON with snake_case fields; times are milliseconds since the epoch.',
      },
      servers: [{ url: '/' }],
    },
  });

  app.get('/health', { schema: { hide: true }, config: { permission: rule.public } }, async (_req, reply) => {
    try {
      await opts.healthCheck();
      return reply.type('text/plain').send('OK');
    } catch (e) {
      return reply.status(503).type('text/plain').send(`UNAVAILABLE: ${(e as Error).message}`);
    }
  });
  app.get('/version', { schema: { hide: true }, config: { permission: rule.public } }, async (_req, reply) => reply.type('text/plain').send(opts.version));
  app.get('/api/v1/openapi.json', { schema: { hide: true }, config: { permission: rule.public } }, async () => app.swagger());

  return app as KilnHttpApp;
}
