import { defineCapability } from '../platform/capability.js';
import type { ServingOptions, ServingService } from './service.js';

declare module '../platform/capability.js' {
  interface CapabilityServices {
    serving: ServingService;
  }
  interface CapabilityOptions {
    serving: ServingOptions;
  }
}

/**
 * Serving: deployments of registered ONNX model versions (traffic split, canary guard, shadow, sticky routing,
 * rollback, following an alias), served over the Open Inference Protocol (REST and gRPC) and MLflow's scoring
 * protocol, with dynamic batching and a payload log. In a `kiln serve` replica only the inference routes run.
 */
export const servingCapability = defineCapability({
  name: 'serving',
  dependsOn: ['registry'],
  migrations: async () => (await import('./migrations/index.js')).SERVING_MIGRATIONS,
  cli: { commands: ['deployments', 'serve'], load: async () => (await import('./cli.js')).registerServingCommands },
  async create(platform, { registry }, options) {
    const { createServing } = await import('./service.js');
    return createServing(platform, registry, options ?? {});
  },
});
