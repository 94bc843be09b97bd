import { defineCapability } from '../platform/capability.js';
import type { LineageService } from './service.js';

declare module '../platform/capability.js' {
  interface CapabilityServices {
    lineage: LineageService;
  }
}

/** The lineage graph: dataset versions → runs → model versions, walked through each capability's service. */
export const lineageCapability = defineCapability({
  name: 'lineage',
  dependsOn: ['tracking', 'registry', 'data'],
  cli: { commands: ['lineage'], load: async () => (await import('./cli.js')).registerLineageCommands },
  async create(platform, { tracking, registry, data }) {
    const [{ LineageService }, { datasetLookup }, { lineageRoutes }] = await Promise.all([import('./service.js'), import('./datasets.js'), import('./routes.js')]);
    const lineage = new LineageService(tracking, registry, datasetLookup(data), platform.resources);
    lineage.registerResolver(platform.resources);
    return { service: lineage, routes: (app) => lineageRoutes(app, { lineage }) };
  },
});
