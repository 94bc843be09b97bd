import type { FastifyInstance } from 'fastify';
import { rule } from '../platform/auth/rules.js';
import { mlflowTrackingRoutes, type MlflowTrackingDeps } from './tracking-routes.js';
import { mlflowArtifactRoutes, type MlflowArtifactDeps } from './artifact-routes.js';
import { mlflowLoggedModelRoutes, type MlflowLoggedModelDeps } from './logged-model-routes.js';
import { mlflowRegistryRoutes, type MlflowRegistryDeps } from './registry-routes.js';
import { mlflowWebhookRoutes, type MlflowWebhookDeps } from './webhook-routes.js';
import { mlflowAuthRoutes, type MlflowAuthDeps } from './auth-routes.js';

export type MlflowDeps = MlflowTrackingDeps & MlflowArtifactDeps & MlflowLoggedModelDeps & MlflowRegistryDeps & MlflowWebhookDeps & MlflowAuthDeps;

/** Routes in this context answer errors in MLflow's shape and with MLflow's statuses. */
function mlflowErrors(app: FastifyInstance): void {
  app.addHook('onRoute', (route) => {
    route.config = { ...(route.config ?? {}), errorStyle: 'mlflow' };
    route.schema = { ...(route.schema ?? {}), hide: true };
  });
}

/** MLflow's REST API under both of its prefixes (/api/2.0 for clients, /ajax-api/2.0 for its UI). */
export async function mlflowPlugin(app: FastifyInstance, deps: MlflowDeps): Promise<void> {
  for (const base of ['/api/2.0', '/ajax-api/2.0']) {
    await app.register(
      async (scope) => {
        mlflowErrors(scope);
        await mlflowTrackingRoutes(scope, deps);
        await mlflowLoggedModelRoutes(scope, deps);
        await mlflowRegistryRoutes(scope, deps);
        await mlflowWebhookRoutes(scope, deps);
        await mlflowAuthRoutes(scope, deps);
      },
      { prefix: `${base}/mlflow` },
    );
    await app.register(
      async (scope) => {
        mlflowErrors(scope);
        await mlflowArtifactRoutes(scope, deps);
      },
      { prefix: `${base}/mlflow-artifacts` },
    );
  }
  await app.register(
    async (scope) => {
      mlflowErrors(scope);
      // Static facts about the server, but MLflow clients ask them with their credentials: no need to answer anonymous callers.
      scope.get('/server-info', { config: { permission: rule.authenticated } }, async () => ({ multipart_uploads_enabled: false, multipart_downloads_enabled: false }));
    },
    { prefix: '/api/3.0/mlflow' },
  );
}
