import { defineCapability } from '../platform/capability.js';
import type { TrackingService } from './service.js';

declare module '../platform/capability.js' {
  interface CapabilityServices {
    tracking: TrackingService;
  }
}

/** Experiments, runs, params, metrics, tags, dataset inputs, run artifacts and MLflow 3 logged models. */
export const trackingCapability = defineCapability({
  name: 'tracking',
  dependsOn: [],
  migrations: async () => (await import('./migrations/index.js')).TRACKING_MIGRATIONS,
  cli: { commands: ['experiments', 'runs'], load: async () => (await import('./cli.js')).registerTrackingCommands },
  async create(platform) {
    const [{ TrackingService }, { trackingRoutes }] = await Promise.all([import('./service.js'), import('./routes.js')]);
    const tracking = new TrackingService(platform.store, platform.artifacts, { now: platform.now, reservedArtifactPrefixes: platform.reservedArtifactPrefixes, audit: platform.audit, resources: platform.resources });
    tracking.registerResolvers(platform.resources);
    return {
      service: tracking,
      routes: (app) => trackingRoutes(app, { tracking, runArtifacts: tracking.artifacts, uploadLimit: platform.config.artifactUploadLimit, resources: platform.resources }),
    };
  },
});
