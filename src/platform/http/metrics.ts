import type { FastifyInstance } from 'fastify';
import type { RouteRule } from '../auth/rules.js';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Prometheus metrics of one server (its own registry, so several servers can live in one process). */
export class ServerMetrics {
  readonly registry = new Registry();
  readonly requests = new Counter({
    name: 'kiln_http_requests_total',
    help: 'HTTP requests by method, route and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });
  readonly latency = new Histogram({
    name: 'kiln_http_request_duration_seconds',
    help: 'HTTP request latency by method, route and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly dbTime = new Histogram({
    name: 'kiln_db_query_duration_seconds',
    help: 'Metadata database query time by statement kind and outcome',
    labelNames: ['kind', 'outcome'] as const,
    buckets: [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'kiln_' });
  }

  /**
   * Exports the audit log's head, read at each scrape: `kiln_audit_head_seq` and `kiln_audit_head_info{hash}` (1). A
   * history of them (the metrics system's) holds earlier heads for `kiln audit verify --expect-head`.
   */
  watchAuditHead(read: () => Promise<{ readonly seq: number; readonly hash: string }>): void {
    // One read per scrape for both gauges: the registry calls their collect functions one after the other, at once.
    let reading: Promise<{ seq: number; hash: string } | undefined> | undefined;
    const current = () =>
      (reading ??= read()
        .catch(() => undefined)
        .finally(() => (reading = undefined)));
    new Gauge({
      name: 'kiln_audit_head_seq',
      help: 'The number of the last entry of the audit log',
      registers: [this.registry],
      async collect() {
        const head = await current();
        if (head) this.set(head.seq);
      },
    });
    new Gauge({
      name: 'kiln_audit_head_info',
      help: 'The hash of the last entry of the audit log (label hash), with the value 1',
      labelNames: ['hash'] as const,
      registers: [this.registry],
      async collect() {
        const head = await current();
        if (!head) return;
        this.reset();
        this.set({ hash: head.hash }, 1);
      },
    });
  }

  /** Called by the database layer after each query. */
  observeQuery(sqlText: string, ms: number, ok: boolean): void {
    const kind = /^\s*(\w+)/.exec(sqlText)?.[1]?.toLowerCase() ?? 'other';
    this.dbTime.observe({ kind, outcome: ok ? 'ok' : 'error' }, ms / 1000);
  }

  install(app: FastifyInstance, permission: RouteRule): void {
    app.addHook('onResponse', async (req, reply) => {
      const route = req.routeOptions.url ?? 'unmatched';
      const labels = { method: req.method, route, status: String(reply.statusCode) };
      this.requests.inc(labels);
      this.latency.observe(labels, reply.elapsedTime / 1000);
    });
    app.get('/metrics', { schema: { hide: true }, config: { permission } }, async (_req, reply) => {
      void reply.header('content-type', this.registry.contentType);
      return this.registry.metrics();
    });
  }
}
