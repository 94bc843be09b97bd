import fp from 'fastify-plugin';
import type { KilnConfig } from './platform/config.js';
import { createLogger, type Logger } from './platform/logging.js';
import { openStore, migrateToLatest, type MetadataStore } from './platform/db/index.js';
import { migrationsOf } from './migrations.js';
import { createArtifactStore } from './platform/artifacts/index.js';
import type { ArtifactStore } from './platform/artifacts/types.js';
import { createHttpApp, type KilnHttpApp } from './platform/http/app.js';
import { ServerMetrics } from './platform/http/metrics.js';
import { EventLog } from './platform/events/log.js';
import type { AuditLog } from './platform/audit/log.js';
import { AuditHeadPublisher } from './platform/audit/publish.js';
import type { EventLogOptions } from './platform/events/types.js';
import { orderByDependencies, type Capability, type CapabilityInstance, type CapabilityOptions, type CapabilityServices, type Platform } from './platform/capability.js';
import { MODULES } from './modules.js';
import { VERSION } from './version.js';
import { KilnError } from './platform/errors.js';
import { ResourceDirectory } from './platform/auth/resources.js';
import { lazySecretBox } from './platform/secrets.js';
import { resolve as resolvePath } from 'node:path';
import { isLoopbackHost } from './platform/http/hardening.js';

/** How long shutdown keeps serving before it stops listening (load balancers see /health answer 503 meanwhile). */
const SHUTDOWN_DRAIN_MS = 250;

export interface KilnServer {
  readonly app: KilnHttpApp;
  readonly store: MetadataStore;
  readonly artifacts: ArtifactStore;
  readonly events: EventLog;
  readonly audit: AuditLog;
  /** Every capability's service, by capability name. */
  readonly services: CapabilityServices;
  readonly logger: Logger;
  /** The listening URL, once `listen()` has resolved. */
  url?: string;
  listen(): Promise<string>;
  /** Stops accepting requests, finishes in-flight ones, stops the capabilities, closes the stores. Safe to call twice. */
  close(): Promise<void>;
}

export interface CreateServerOptions {
  readonly logger?: Logger;
  readonly events?: Partial<EventLogOptions>;
  /** Options of each capability, by name (tests shorten timers with them). */
  readonly capabilities?: { readonly [N in keyof CapabilityOptions]?: Partial<CapabilityOptions[N]> };
  /** The capabilities to run (default: all of them, src/modules.ts). */
  readonly modules?: readonly Capability[];
  /** The built web UI to serve at / (default: web/dist when it was built; false: none). */
  readonly webRoot?: string | false;
  /** `all` (default): the whole server. `serving`: a `kiln serve` replica, with inference routes only (capabilities' `dataPlane`). */
  readonly role?: 'all' | 'serving';
}

/**
 * Opens the stores, migrates, creates every capability in dependency order, registers each one's routes as its own
 * encapsulated plugin, and starts them. Does not listen yet. Knows no capability by name: they come from the module list.
 */
export async function createServer(config: KilnConfig, opts: CreateServerOptions = {}): Promise<KilnServer> {
  checkAuthMode(config);
  const logger = opts.logger ?? createLogger(config.logLevel);
  const metrics = new ServerMetrics();
  const role = opts.role ?? 'all';
  const reporter = (component: string) => (e: unknown, what: string) => logger.error({ err: e }, `${component}: ${what}`);
  const store = await openStore(config.storeUri, {
    poolSize: config.dbPoolSize,
    busyTimeoutMs: config.dbBusyTimeoutMs,
    statementTimeoutMs: config.dbStatementTimeoutMs,
    startReadWorker: true,
    onQuery: (sqlText, ms, ok) => metrics.observeQuery(sqlText, ms, ok) });
  // What was opened, in order; unwound in reverse by close(), and by a start that fails part-way.
  const opened: (() => Promise<void>)[] = [() => store.close()];
  const unwind = async (): Promise<unknown[]> => {
    const errors: unknown[] = [];
    for (const close of opened.splice(0).reverse()) {
      try {
        await close();
      } catch (e) {
        errors.push(e);
      }
    }
    return errors;
  };
  const modules = orderByDependencies(opts.modules ?? MODULES);
  const running: { readonly module: Capability; readonly instance: CapabilityInstance<unknown> }[] = [];
  let artifacts: ArtifactStore;
  let events: EventLog;
  let app: KilnHttpApp;
  const services: Record<string, unknown> = {};
  let draining = false;
  try {
    const migration = await migrateToLatest(store, await migrationsOf(modules));
    if (migration.applied.length > 0) logger.info({ applied: migration.applied }, 'database migrated');
    artifacts = await openArtifacts(config.artifactsUri);
    opened.push(() => artifacts.close());
    events = new EventLog(store, { retentionMs: config.eventRetentionDays * 24 * 3600_000, ...opts.events }, Date.now, reporter('events'));
    opened.push(() => events.close());
    const audit = events.audit;
    metrics.watchAuditHead(() => audit.head());
    const reservedArtifactPrefixes = modules.flatMap((m) => m.artifactPrefixes ?? []);
    const platform: Platform = { config, logger, store, artifacts, events, audit, reservedArtifactPrefixes, now: Date.now, reporter, resources: new ResourceDirectory(), secrets: lazySecretBox(config.secretKeyFile || resolvePath(config.home, 'secret.key')), metrics: metrics.registry, role };
    for (const m of modules) {
      const deps = Object.fromEntries(m.dependsOn.map((d) => [d, services[d]]));
      const options = (opts.capabilities as Record<string, unknown> | undefined)?.[m.name];
      const instance = await m.create(platform, deps as never, options as never);
      services[m.name] = instance.service;
      running.push({ module: m, instance });
      if (instance.close) opened.push(() => instance.close!());
    }

    const provided = <K extends 'authenticator' | 'projects'>(key: K): CapabilityInstance<unknown>[K] => {
      const from = running.filter((r) => r.instance[key] !== undefined);
      if (from.length > 1) throw new Error(`${key} is provided by more than one capability: ${from.map((r) => r.module.name).join(', ')}`);
      return from[0]?.instance[key];
    };
    app = await createHttpApp({
      logger,
      authenticator: provided('authenticator'),
      projects: provided('projects'),
      publicMetrics: config.metricsPublic,
      webRoot: role === 'all' ? opts.webRoot : false,
      audit: events.audit,
      bodyLimit: config.bodyLimit,
      listenHost: config.host,
      allowedHosts: config.allowedHosts.split(',').map((h) => h.trim()).filter(Boolean),
      timeouts: { headersMs: config.httpHeadersTimeoutMs, requestMs: config.httpRequestTimeoutMs, keepAliveMs: config.httpKeepAliveTimeoutMs, idleMs: config.httpIdleTimeoutMs },
      metrics,
      version: VERSION,
      healthCheck: async () => {
        if (draining) throw new Error('shutting down');
        await store.ping();
      },
    });
    // Closed first: no new work reaches the capabilities while they finish theirs.
    opened.push(async () => {
      if (app.server.listening) {
        // Requests already on the wire are parsed and answered during a short drain before the listener
        // closes (closing resets connections whose request has not been parsed yet).
        draining = true;
        await new Promise((r) => setTimeout(r, Math.min(SHUTDOWN_DRAIN_MS, config.shutdownTimeoutMs)));
      }
      const done = app.close();
      const idle = setInterval(() => app.server.closeIdleConnections(), 100);
      const force = setTimeout(() => app.server.closeAllConnections(), config.shutdownTimeoutMs);
      try {
        await done;
      } finally {
        clearInterval(idle);
        clearTimeout(force);
      }
    });
    const routed = new Set(role === 'all' ? running.filter((r) => r.instance.routes).map((r) => r.module.name) : []);
    for (const { module: m, instance } of running) {
      if (!instance.routes || role !== 'all') continue;
      // One encapsulated plugin per capability, named, declaring the capabilities it calls: Fastify refuses to
      // register it before them, so the order the module list implies is checked, not assumed.
      const plugin = fp(instance.routes, { name: `kiln-${m.name}`, dependencies: m.dependsOn.filter((d) => routed.has(d)).map((d) => `kiln-${d}`), encapsulate: true });
      await app.register(plugin, { prefix: m.prefix ?? '/api/v1' });
    }
    for (const { module: m, instance } of running) {
      if (instance.dataPlane) await app.register(fp(instance.dataPlane, { name: `kiln-${m.name}-data-plane`, encapsulate: true }));
    }
    if (role === 'all') for (const { instance } of running) await instance.start?.();
    for (const { instance } of running) await instance.serve?.();
    events.startPruning();
    const headPublisher = new AuditHeadPublisher(events.audit, logger, config.auditHeadIntervalMs, reporter('audit'));
    headPublisher.start();
    opened.push(() => headPublisher.stop());
  } catch (e) {
    await unwind();
    throw e;
  }

  let closing: Promise<void> | undefined;
  const server: KilnServer = {
    app,
    store,
    artifacts,
    events,
    audit: events.audit,
    services: services as unknown as CapabilityServices,
    logger,
    async listen() {
      const address = await app.listen({ host: config.host, port: config.port });
      server.url = address.replace('[::1]', '127.0.0.1');
      logger.info({ url: server.url, store: store.uri, artifacts: artifacts.rootUri }, 'kiln server listening');
      return server.url;
    },
    close() {
      // HTTP first, then the capabilities in reverse dependency order, then the event log and the stores.
      closing ??= unwind().then((errors) => {
        if (errors.length > 0) logger.error({ errors }, 'errors while closing');
      });
      return closing;
    },
  };
  return server;
}

/**
 * Without authentication, whoever reaches the server can read, change and delete everything: that is only allowed on
 * a loopback address, unless the operator says explicitly that it is meant (`--insecure-no-auth`).
 */
export function checkAuthMode(config: Pick<KilnConfig, 'auth' | 'host' | 'insecureNoAuth'>): void {
  if (config.auth !== 'none' || config.insecureNoAuth || isLoopbackHost(config.host)) return;
  throw new KilnError(
    'INVALID_PARAMETER_VALUE',
    `Refusing to listen on ${config.host} without authentication: anyone who reaches it could read, change and delete everything. ` +
      'Start with --auth on (KILN_AUTH=on; create the first admin with KILN_ADMIN_USER and KILN_ADMIN_PASSWORD, or `kiln admin create-user NAME --admin`), ' +
      'listen on 127.0.0.1, or pass --insecure-no-auth (KILN_INSECURE_NO_AUTH=true) if something in front of Kiln authenticates.',
  );
}

async function openArtifacts(uri: string): Promise<ArtifactStore> {
  const artifacts = await createArtifactStore(uri);
  try {
    await artifacts.ready();
    return artifacts;
  } catch (e) {
    await artifacts.close();
    throw e;
  }
}
