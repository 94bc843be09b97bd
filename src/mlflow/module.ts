import { defineCapability } from '../platform/capability.js';

declare module '../platform/capability.js' {
  interface CapabilityServices {
    /** A protocol adapter: it offers no service of its own. */
    mlflow: undefined;
  }
}

/**
 * MLflow's REST API (tracking, registry, logged models, webhooks, the artifact proxy, the auth API's users and
 * permissions) as thin translations onto the services of the capabilities it depends on, under /api/2.0/mlflow,
 * /ajax-api/2.0/mlflow and the artifact prefixes.
 */
export const mlflowCapability = defineCapability({
  name: 'mlflow',
  dependsOn: ['tracking', 'registry', 'webhooks', 'governance'],
  prefix: '',
  async create(platform, { tracking, registry, webhooks, governance }) {
    const { mlflowPlugin } = await import('./plugin.js');
    return {
      service: undefined,
      routes: (app) =>
        mlflowPlugin(app, {
          tracking,
          runArtifacts: tracking.artifacts,
          loggedModels: tracking.loggedModels,
          registry,
          webhooks,
          governance,
          artifacts: platform.artifacts,
          uploadLimit: platform.config.artifactUploadLimit,
          reservedArtifactPrefixes: platform.reservedArtifactPrefixes,
        }),
    };
  },
});
