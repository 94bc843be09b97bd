/** Wires the serving capability: deployments, the serving plane, the payload log, and the work that follows changes. */
import { resolve as resolvePath } from 'node:path';
import type { CapabilityInstance, Platform } from '../platform/capability.js';
import type { RegistryService } from '../registry/service.js';
import { registryNoticeOf, REGISTRY_EVENT_PREFIX } from '../registry/types.js';
import { DeploymentService } from './deployments.js';
import { ModelLoader } from './loader.js';
import { ServingMetrics } from './metrics.js';
import { PayloadLog } from './payload-log.js';
import { PayloadService } from './payloads.js';
import { ServingPlane } from './plane.js';
import { ServingStore } from './store.js';
import type { ServingTables } from './tables.js';
import { ModelHost } from './runtime/host.js';
import { servingRoutes } from './routes.js';
import { dataPlaneRoutes } from './oip-routes.js';
import type { OutsideCall } from '../platform/http/auth.js';
import type { RequestContext } from '../platform/auth/context.js';
import type { GrpcInferenceServer } from './grpc/server.js';

export interface ServingService {
  /** The port gRPC listens on (0: off). */
  readonly grpcPort: () => number;
  readonly deployments: DeploymentService;
  /** This process's serving plane (its `onServed` hook is the per-request seam for monitoring). */
  readonly plane: ServingPlane;
  readonly payloads: PayloadService;
  /** The payload log's buffer (flush it to read what was just served). */
  readonly payloadLog: PayloadLog;
}

export interface ServingOptions {
  /** How often the canary guard looks at the candidates' figures (default 1000 ms). */
  readonly guardIntervalMs: number;
  /** How often a serving process looks for deployment changes made by other processes (default 1000 ms). */
  readonly followIntervalMs: number;
  /** How long payload records wait at most before their batch is written (default 200 ms). */
  readonly payloadFlushMs: number;
  /** How often retention is enforced on the payload log (default 10 minutes). */
  readonly retentionIntervalMs: number;
  /** How long a request waits for its version to load before it answers 503 with Retry-After (default 5000 ms). */
  readonly loadWaitMs: number;
  /** Starts gRPC on this port (0: any free one) whatever the configuration says (tests). */
  readonly grpcPort?: number;
}

const SERVING_EVENTS = 'serving.';

export async function createServing(platform: Platform, registry: RegistryService, options: Partial<ServingOptions>): Promise<CapabilityInstance<ServingService>> {
  const opts: ServingOptions = { guardIntervalMs: 1000, followIntervalMs: 1000, payloadFlushMs: 200, retentionIntervalMs: 600_000, loadWaitMs: 5_000, ...options };
  const { config, logger } = platform;
  const report = platform.reporter('serving');
  const store = new ServingStore(platform.store.db.withTables<ServingTables>(), platform.store.adapter);
  const deployments = new DeploymentService(store, platform.events, registry, platform.resources, platform.now);
  deployments.registerResolvers();
  const metrics = new ServingMetrics(platform.metrics);
  const host = new ModelHost({
    budgetBytes: config.servingMemoryBudget,
    onLoad: (key) => metrics.modelLoads.inc({ model: key.split(':')[0]! }),
    onLoadFailure: (key, e) => {
      metrics.modelLoadFailures.inc({ model: key.split(':')[0]! });
      logger.error({ err: e, model: key }, 'serving: a model failed to load');
    },
  });
  const loader = new ModelLoader(platform.artifacts, config.servingCacheDir || resolvePath(config.home, 'serving-cache'));
  const payloadLog = new PayloadLog(store, { bufferSize: config.payloadBufferSize, batchSize: 500, flushIntervalMs: opts.payloadFlushMs }, (d) => metrics.payloadDropped.inc({ deployment: d }), report);
  const payloads = new PayloadService(store, platform.now);
  const plane = new ServingPlane(deployments, registry, host, loader, payloadLog, metrics, logger, platform.now, opts.loadWaitMs);
  deployments.onChange((name) => void plane.refresh(name));

  const timers: NodeJS.Timeout[] = [];
  const every = (ms: number, fn: () => Promise<unknown>, what: string) => {
    let running = false;
    const t = setInterval(() => {
      if (running) return;
      running = true;
      fn()
        .catch((e) => report(e, what))
        .finally(() => (running = false));
    }, ms);
    t.unref();
    timers.push(t);
  };
  let consumer: { close(): Promise<void> } | undefined;
  let ready = false;
  let authorize: ((call: OutsideCall) => Promise<RequestContext>) | undefined;
  let grpcServer: GrpcInferenceServer | undefined;

  return {
    service: { deployments, plane, payloads, payloadLog, grpcPort: () => grpcServer?.port ?? 0 },
    routes: (app) => servingRoutes(app, { deployments, plane, payloads, resources: platform.resources }),
    dataPlane: (app) => {
      // gRPC calls go through the same authentication and rules as the routes.
      authorize = (call) => app.authorizeCall(call);
      return dataPlaneRoutes(app, { plane, bodyLimit: config.inferBodyLimit, ready: () => ready });
    },
    async start() {
      // Deployments that follow an alias roll forward when it moves: at start (for moves made while no server ran)
      // and after each registry event. The work compares states, so running it twice changes nothing.
      const follow = async () => {
        const r = await deployments.reconcile();
        if (r.moved.length > 0) logger.info({ deployments: r.moved }, 'serving: deployments rolled forward to the versions their aliases name');
        for (const why of r.refused) logger.warn(`serving: a followed alias names a version that can't be served; the deployment stays where it is: ${why}`);
      };
      await follow();
      consumer = await platform.events.consume({
        name: 'serving.alias-follower',
        startAt: 'latest',
        accepts: (type) => type.startsWith(REGISTRY_EVENT_PREFIX),
        // The work happens after the commit, outside the consumer's transaction (it writes revisions of its own).
        handle: async () => undefined,
        afterCommit: (events) => {
          if (!events.some((e) => registryNoticeOf(e))) return;
          void follow().catch((e) => report(e, 'following registry aliases'));
        },
      });
      every(opts.retentionIntervalMs, () => payloads.prune(config.payloadRetentionDays, config.payloadMaxRows), 'enforcing payload retention');
    },
    async serve() {
      await plane.loadAll();
      // Changes made by other processes (the control plane, other replicas' guards) arrive through the event log.
      let position = await platform.events.lastId();
      every(
        opts.followIntervalMs,
        async () => {
          const events = await platform.events.read(position, 500);
          if (events.length === 0) return;
          position = events[events.length - 1]!.id;
          const names = new Set(events.filter((e) => e.type.startsWith(SERVING_EVENTS) && e.subject).map((e) => e.subject!));
          for (const n of names) void plane.refresh(n);
        },
        'following deployment changes',
      );
      every(opts.guardIntervalMs, () => plane.checkGuards(), 'checking canary guards');
      if (config.grpcPort > 0 || opts.grpcPort !== undefined) {
        const { GrpcInferenceServer } = await import('./grpc/server.js');
        grpcServer = new GrpcInferenceServer({ plane, ready: () => ready, authorize: authorize!, maxMessageBytes: config.inferBodyLimit });
        const port = await grpcServer.start(config.host, opts.grpcPort ?? config.grpcPort);
        logger.info({ port }, 'serving: OIP gRPC listening');
      }
      ready = true;
    },
    async close() {
      ready = false;
      await grpcServer?.close();
      for (const t of timers) clearInterval(t);
      await consumer?.close();
      await plane.close();
      await payloadLog.close();
      await host.close();
    },
  };
}
