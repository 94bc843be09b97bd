import { defineCapability } from '../platform/capability.js';
import type { MonitorService } from './service.js';

declare module '../platform/capability.js' {
  interface CapabilityServices {
    monitoring: MonitorService;
  }
  interface CapabilityOptions {
    monitoring: MonitoringOptions;
  }
}

export interface MonitoringOptions {
  /** How often counts of served requests are written (default 5000 ms). */
  readonly flushMs?: number;
  /** How often every monitor's rules are evaluated (windows close with time; default 30 s). */
  readonly evaluateMs?: number;
}

/**
 * Monitoring: drift on binned profiles (reference profile once, live windows counted in the same bins), data quality,
 * realized performance against delayed labels, alert rules whose state changes are events (webhooks, retraining).
 * Counts every request of a monitored Kiln deployment, in `kiln server` and in `kiln serve` replicas alike.
 */
export const monitoringCapability = defineCapability({
  name: 'monitoring',
  dependsOn: ['data', 'lineage', 'serving'],
  migrations: async () => (await import('./migrations/index.js')).MONITORING_MIGRATIONS,
  cli: { commands: ['monitors'], load: async () => (await import('./cli.js')).registerMonitoringCommands },
  async create(platform, { data, lineage, serving }, options) {
    const [{ MonitorService }, { MonitoringStore }, { MonitoringMetrics }, { ServedCounter }, { monitoringRoutes }] = await Promise.all([
      import('./service.js'),
      import('./store.js'),
      import('./metrics.js'),
      import('./served.js'),
      import('./routes.js'),
    ]);
    const report = platform.reporter('monitoring');
    const store = new MonitoringStore(platform.store.db.withTables<import('./tables.js').MonitoringTables>(), platform.store.adapter);
    const metrics = new MonitoringMetrics(platform.metrics);
    const monitors = new MonitorService({ store, events: platform.events, data, lineage, serving, resources: platform.resources, metrics, now: platform.now });
    monitors.registerResolvers();
    const flushMs = options?.flushMs ?? 5000;
    const evaluateMs = options?.evaluateMs ?? 30_000;
    const counter = new ServedCounter(monitors, platform.now, flushMs, report);
    const timers: NodeJS.Timeout[] = [];
    let unhook: (() => void) | undefined;
    // Counting starts with the serving plane (both roles); monitors created elsewhere are picked up on the next reload.
    const startCounting = async () => {
      await counter.reload();
      monitors.onChange(() => void counter.reload().catch((e) => report(e, 'reloading the monitors of deployments')));
      unhook = serving.plane.onServed(
        (r) => counter.count(r),
        (d) => counter.watches_(d),
      );
      counter.start();
      const t = setInterval(() => void counter.reload().catch((e) => report(e, 'reloading the monitors of deployments')), Math.max(flushMs, 5000));
      t.unref();
      timers.push(t);
    };
    return {
      service: monitors,
      routes: (app) => monitoringRoutes(app, { monitors, resources: platform.resources, uploadLimit: platform.config.artifactUploadLimit }),
      async start() {
        await startCounting();
        // Windows close with time: every monitor's rules are looked at periodically.
        const t = setInterval(() => {
          void (async () => {
            for (const m of await store.all()) await monitors.evaluateSoon(m.name);
          })().catch((e) => report(e, 'evaluating monitor rules'));
        }, evaluateMs);
        t.unref();
        timers.push(t);
      },
      async serve() {
        if (!unhook) await startCounting();
      },
      async close() {
        for (const t of timers) clearInterval(t);
        unhook?.();
        await counter.close();
        await monitors.settled();
      },
    };
  },
});
