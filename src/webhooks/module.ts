import { defineCapability } from '../platform/capability.js';
import type { WebhookOptions } from './dispatcher.js';
import type { WebhookService } from './service.js';
import type { WebhookTables } from './tables.js';

declare module '../platform/capability.js' {
  interface CapabilityServices {
    webhooks: WebhookService;
  }
  interface CapabilityOptions {
    webhooks: WebhookOptions;
  }
}

/**
 * Webhooks on registry events and monitor alerts: definitions, a delivery queue filled from the event log, signed deliveries with
 * retries, and the delivery log. Reads those events from the log, so it calls no other capability.
 */
export const webhooksCapability = defineCapability({
  name: 'webhooks',
  dependsOn: [],
  async create(platform, _deps, options) {
    const [{ WebhookStore }, { WebhookService }, { WebhookDispatcher }, { webhookRoutes }] = await Promise.all([
      import('./store.js'),
      import('./service.js'),
      import('./dispatcher.js'),
      import('./routes.js'),
    ]);
    const report = platform.reporter('webhooks');
    const store = new WebhookStore(platform.store.db.withTables<WebhookTables>());
    const allowedHosts = options?.allowedHosts ?? platform.config.webhookAllowedHosts.split(',').filter((h) => h.trim() !== '');
    const webhooks = new WebhookService(store, platform.events, { secrets: platform.secrets, ...options, allowedHosts }, platform.now, report);
    const dispatcher = new WebhookDispatcher(store, webhooks.options, webhooks.destinations, platform.now, report);
    webhooks.onQueued(() => dispatcher.wake());
    let consumer: { close(): Promise<void> } | undefined;
    return {
      service: webhooks,
      routes: (app) => webhookRoutes(app, { webhooks }),
      async start() {
        const sealed = await webhooks.sealStoredSecrets();
        if (sealed > 0) platform.logger.info({ webhooks: sealed }, 'webhooks: encrypted signing secrets stored in clear with the server key');
        consumer = await platform.events.consume(webhooks.consumer());
        dispatcher.start();
      },
      async close() {
        await consumer?.close();
        await dispatcher.close();
      },
    };
  },
});
