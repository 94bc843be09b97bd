import { defineCapability } from '../platform/capability.js';
import type { RegistryOptions, RegistryService } from './service.js';
import type { RegistryTables } from './tables.js';

declare module '../platform/capability.js' {
  interface CapabilityServices {
    registry: RegistryService;
  }
  interface CapabilityOptions {
    registry: RegistryOptions;
  }
}

/** Registered models, versions (inspected ONNX packages), aliases, promotion gates, history, reproduction recipes. */
export const registryCapability = defineCapability({
  name: 'registry',
  dependsOn: ['tracking', 'data'],
  // 0006 also created the webhooks' tables: webhooks were part of the registry when it shipped.
  migrations: async () => (await import('./migrations/index.js')).REGISTRY_MIGRATIONS,
  cli: { commands: ['models'], load: async () => (await import('./cli.js')).registerModelCommands },
  async create(platform, { tracking, data }, options) {
    const [{ RegistryStore }, { PromotionStore }, { RegistryEvents }, { RegistryService }, { PromotionService }, { trainingDataGate }, { ArtifactVersionInspector }, { ModelFiles }, { ReproduceService }, { registryRoutes }, { onnxRoutes }] =
      await Promise.all([
        import('./store.js'),
        import('./promotion-store.js'),
        import('./events.js'),
        import('./service.js'),
        import('./promotions.js'),
        import('./data-gate.js'),
        import('./inspection.js'),
        import('./files.js'),
        import('./reproduce.js'),
        import('./routes.js'),
        import('./onnx-routes.js'),
      ]);
    const store = new RegistryStore(platform.store.db.withTables<RegistryTables>(), platform.store.adapter);
    const history = new RegistryEvents(store, platform.events);
    const promotionStore = new PromotionStore(store.db);
    const registry = new RegistryService(store, promotionStore, history, tracking, new ArtifactVersionInspector(platform.artifacts), platform.now, platform.reporter('registry'), { ...options, reservedArtifactPrefixes: platform.reservedArtifactPrefixes });
    registry.registerResolvers(platform.resources);
    const promotions = new PromotionService(registry, store, promotionStore, history, tracking, trainingDataGate(tracking, data), platform.now);
    const files = new ModelFiles(registry, platform.artifacts);
    const reproduce = new ReproduceService(registry, tracking, files, data);
    return {
      service: registry,
      async routes(app) {
        await registryRoutes(app, { registry, promotions, files, reproduce });
        await onnxRoutes(app, { runArtifacts: tracking.artifacts });
      },
      async start() {
        const resumed = await registry.resumePending();
        if (resumed > 0) platform.logger.info({ versions: resumed }, 'registry: inspecting versions left pending');
      },
      close: () => registry.whenSettled(),
    };
  },
});
