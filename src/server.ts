import type { FastifyInstance } from 'fastify';
import type { KilnConfig } from './platform/config.js';
import { createLogger, type Logger } from './platform/logging.js';
import { openStore, migrateToLatest, type MetadataStore } from './platform/db/index.js';
import { MIGRATIONS } from './migrations.js';
import { createArtifactStore } from './platform/artifacts/index.js';
import type { ArtifactStore } from './platform/artifacts/types.js';
import { createHttpApp } from './platform/http/app.js';
import { ServerMetrics } from './platform/http/metrics.js';
import { TrackingService } from './tracking/service.js';
import { RunArtifactService } from './tracking/artifacts.js';
import { LoggedModelService } from './tracking/logged-model-service.js';
import { trackingRoutes } from './tracking/routes.js';
import { mlflowPlugin } from './mlflow/plugin.js';
import { RegistryService } from './registry/service.js';
import { ArtifactVersionInspector } from './registry/inspection.js';
import { ModelFiles } from './registry/files.js';
import { registryRoutes } from './registry/routes.js';
import { onnxRoutes } from './registry/onnx-routes.js';
import { PromotionService } from './registry/promotions.js';
import { WebhookService } from './registry/webhooks/service.js';
import { WebhookDispatcher, type WebhookOptions } from './registry/webhooks/dispatcher.js';
import { webhookRoutes } from './registry/webhooks/routes.js';
import { LineageService } from './lineage/service.js';
import { lineageRoutes } from './lineage/routes.js';
import { ReproduceService } from './registry/reproduce.js';
import { DataService } from './data/service.js';
import { workerProfiler } from './data/profiler.js';
import { dataRoutes } from './data/routes.js';
import { datasetLookup } from './data/lineage.js';
import { trainingDataGate } from './registry/data-gate.js';
import { VERSION } from './version.js';

/** How long shutdown keeps serving before it stops listening (load balancers see /health answer 503 meanwhile). */
const SHUTDOWN_DRAIN_MS = 250;

export interface KilnServer {
  readonly app: FastifyInstance;
  readonly store: MetadataStore;
  readonly artifacts: ArtifactStore;
  readonly tracking: TrackingService;
  readonly registry: RegistryService;
  readonly webhooks: WebhookService;
  readonly data: DataService;
  readonly logger: Logger;
  /** The listening URL, once `listen()` has resolved. */
  url?: string;
  listen(): Promise<string>;
  /** Stops accepting requests, finishes in-flight ones, closes the stores. Safe to call twice. */
  close(): Promise<void>;
}

/** Opens the stores, migrates, and assembles the HTTP app. Does not listen yet. */
export async function createServer(config: KilnConfig, opts: { logger?: Logger; webhooks?: Partial<WebhookOptions> } = {}): Promise<KilnServer> {
  const logger = opts.logger ?? createLogger(config.logLevel);
  const metrics = new ServerMetrics();
  const store = await openStore(config.storeUri, { poolSize: config.dbPoolSize, onQuery: (sqlText, ms, ok) => metrics.observeQuery(sqlText, ms, ok) });
  let readyArtifacts: ArtifactStore;
  try {
    const migration = await migrateToLatest(store, MIGRATIONS);
    if (migration.applied.length > 0) logger.info({ applied: migration.applied }, 'database migrated');
    readyArtifacts = await openArtifacts(config.artifactsUri);
  } catch (e) {
    await store.close();
    throw e;
  }
  const tracking = new TrackingService(store);
  const runArtifacts = new RunArtifactService(tracking, readyArtifacts);
  const loggedModels = new LoggedModelService(store, tracking);
  const registry = new RegistryService(store, tracking, loggedModels, new ArtifactVersionInspector(readyArtifacts), Date.now, (e, what) =>
    logger.error({ err: e }, `registry: ${what}`),
  );
  const data = new DataService(store, readyArtifacts, { profiler: workerProfiler({ artifactsUri: config.artifactsUri }) });
  const promotions = new PromotionService(registry, tracking, trainingDataGate(tracking, data));
  const webhooks = new WebhookService(store, opts.webhooks, Date.now, (e, what) => logger.error({ err: e }, `webhooks: ${what}`));
  webhooks.subscribe(registry);
  const dispatcher = new WebhookDispatcher(webhooks.store, webhooks.options, Date.now, (e, what) => logger.error({ err: e }, `webhooks: ${what}`));
  webhooks.onQueued(() => dispatcher.wake());
  const resumed = await registry.resumePending();
  if (resumed > 0) logger.info({ versions: resumed }, 'registry: inspecting versions left pending');

  const app = await createHttpApp({
    logger,
    bodyLimit: config.bodyLimit,
    metrics,
    version: VERSION,
    healthCheck: async () => {
      if (draining) throw new Error('shutting down');
      await store.ping();
    },
  });
  await app.register(mlflowPlugin, { tracking, runArtifacts, loggedModels, registry, webhooks, artifacts: readyArtifacts, uploadLimit: config.artifactUploadLimit });
  await app.register(trackingRoutes, { prefix: '/api/v1', tracking, runArtifacts, uploadLimit: config.artifactUploadLimit });
  const files = new ModelFiles(registry, readyArtifacts);
  await app.register(registryRoutes, { prefix: '/api/v1', registry, promotions, files });
  await app.register(onnxRoutes, { prefix: '/api/v1', runArtifacts });
  const datasets = datasetLookup(data);
  const lineage = new LineageService(tracking, registry, datasets);
  await app.register(lineageRoutes, { prefix: '/api/v1', lineage, reproduce: new ReproduceService(registry, tracking, files, datasets) });
  await app.register(webhookRoutes, { prefix: '/api/v1', webhooks });
  await app.register(dataRoutes, { prefix: '/api/v1', data, uploadLimit: config.artifactUploadLimit });
  dispatcher.start();

  let closing: Promise<void> | undefined;
  let draining = false;
  const server: KilnServer = {
    app,
    store,
    artifacts: readyArtifacts,
    tracking,
    registry,
    webhooks,
    data,
    logger,
    async listen() {
      const address = await app.listen({ host: config.host, port: config.port });
      server.url = address.replace('[::1]', '127.0.0.1');
      logger.info({ url: server.url, store: store.uri, artifacts: readyArtifacts.rootUri }, 'kiln server listening');
      return server.url;
    },
    close() {
      closing ??= (async () => {
        const errors: unknown[] = [];
        const closeHttp = async () => {
          // Requests already on the wire are parsed and answered during a short drain before the listener
          // closes (closing resets connections whose request has not been parsed yet).
          draining = true;
          await new Promise((r) => setTimeout(r, Math.min(SHUTDOWN_DRAIN_MS, config.shutdownTimeoutMs)));
          const done = app.close();
          const idle = setInterval(() => app.server.closeIdleConnections(), 100);
          const force = setTimeout(() => app.server.closeAllConnections(), config.shutdownTimeoutMs);
          try {
            await done;
          } finally {
            clearInterval(idle);
            clearTimeout(force);
          }
        };
        for (const step of [closeHttp, () => registry.whenSettled(), () => webhooks.whenSettled(), () => dispatcher.close(), () => store.close(), () => readyArtifacts.close()]) {
          try {
            await step();
          } catch (e) {
            errors.push(e);
          }
        }
        if (errors.length > 0) logger.error({ errors }, 'errors while closing');
      })();
      return closing;
    },
  };
  return server;
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
