import { defineCapability } from '../platform/capability.js';
import type { DataService } from './service.js';

declare module '../platform/capability.js' {
  interface CapabilityServices {
    data: DataService;
  }
}

/** Content-addressed dataset versions with schemas, statistics, validation and diffs. */
export const dataCapability = defineCapability({
  name: 'data',
  dependsOn: [],
  migrations: async () => (await import('./migrations/index.js')).DATA_MIGRATIONS,
  // Content-addressed blobs (datasets/blobs/sha256/...): written only by this capability, after checking their digest.
  artifactPrefixes: ['datasets'],
  cli: { commands: ['data'], load: async () => (await import('./cli.js')).registerDataCommands },
  async create(platform) {
    const [{ DataService }, { workerProfiler }, { dataRoutes }] = await Promise.all([import('./service.js'), import('./profiler.js'), import('./routes.js')]);
    const data = new DataService(platform.store, platform.artifacts, platform.events, { profiler: workerProfiler({ artifactsUri: platform.config.artifactsUri }), now: platform.now });
    data.registerResolvers(platform.resources);
    return {
      service: data,
      routes: (app) => dataRoutes(app, { data, uploadLimit: platform.config.artifactUploadLimit }),
    };
  },
});
