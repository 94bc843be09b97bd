/** The serving capability's Prometheus metrics (on the server's /metrics). */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

const LATENCY_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024];

/** The metric children of one served version, looked up once (label lookups per request cost more than the counting). */
export interface UnitMetrics {
  readonly duration: { observe(v: number): void };
  readonly queue: { observe(v: number): void };
  readonly inference: { observe(v: number): void };
  readonly batchSize: { observe(v: number): void };
  readonly pending: { inc(): void; dec(): void };
  requests(status: number): { inc(): void };
}

export class ServingMetrics {
  readonly requestsTotal: Counter<'deployment' | 'version' | 'code'>;
  readonly duration: Histogram<'deployment' | 'version'>;
  readonly queueDuration: Histogram<'deployment' | 'version'>;
  readonly inferenceDuration: Histogram<'deployment' | 'version'>;
  readonly batchSize: Histogram<'deployment' | 'version'>;
  readonly pending: Gauge<'deployment' | 'version'>;
  readonly payloadDropped: Counter<'deployment'>;
  readonly modelLoads: Counter<'model'>;
  readonly modelLoadFailures: Counter<'model'>;
  readonly shadowCompared: Counter<'deployment' | 'agrees'>;
  readonly guardTrips: Counter<'deployment'>;
  private readonly units = new Map<string, UnitMetrics>();

  constructor(registry: Registry) {
    const registers = [registry];
    this.requestsTotal = new Counter({ name: 'kiln_serving_requests_total', help: 'Inference requests answered, by deployment, version and HTTP status code', labelNames: ['deployment', 'version', 'code'], registers });
    this.duration = new Histogram({ name: 'kiln_serving_request_duration_seconds', help: 'Inference request time in the server (checks, queue, inference), by deployment and version', labelNames: ['deployment', 'version'], buckets: LATENCY_BUCKETS, registers });
    this.queueDuration = new Histogram({ name: 'kiln_serving_queue_duration_seconds', help: "Time a request waited in its version's batching queue", labelNames: ['deployment', 'version'], buckets: LATENCY_BUCKETS, registers });
    this.inferenceDuration = new Histogram({ name: 'kiln_serving_inference_duration_seconds', help: 'Time of the onnxruntime run of the batch a request was part of', labelNames: ['deployment', 'version'], buckets: LATENCY_BUCKETS, registers });
    this.batchSize = new Histogram({ name: 'kiln_serving_batch_size', help: 'Rows per batch run by onnxruntime', labelNames: ['deployment', 'version'], buckets: BATCH_BUCKETS, registers });
    this.pending = new Gauge({ name: 'kiln_serving_pending_requests', help: 'Inference requests waiting or running', labelNames: ['deployment', 'version'], registers });
    this.payloadDropped = new Counter({ name: 'kiln_serving_payload_dropped_total', help: 'Payload records dropped because the payload buffer was full or the write failed', labelNames: ['deployment'], registers });
    this.modelLoads = new Counter({ name: 'kiln_serving_model_loads_total', help: 'Models loaded into onnxruntime sessions', labelNames: ['model'], registers });
    this.modelLoadFailures = new Counter({ name: 'kiln_serving_model_load_failures_total', help: 'Models that failed to load', labelNames: ['model'], registers });
    this.shadowCompared = new Counter({ name: 'kiln_serving_shadow_comparisons_total', help: "Shadow answers compared with the primary's, by whether they agreed", labelNames: ['deployment', 'agrees'], registers });
    this.guardTrips = new Counter({ name: 'kiln_serving_guard_trips_total', help: 'Candidates taken out of traffic by the canary guard', labelNames: ['deployment'], registers });
  }

  unit(deployment: string, version: string): UnitMetrics {
    const key = `${deployment}\u0000${version}`;
    let u = this.units.get(key);
    if (!u) {
      const labels = { deployment, version };
      const byCode = new Map<number, { inc(): void }>();
      u = {
        duration: this.duration.labels(labels),
        queue: this.queueDuration.labels(labels),
        inference: this.inferenceDuration.labels(labels),
        batchSize: this.batchSize.labels(labels),
        pending: this.pending.labels(labels),
        requests: (status) => {
          let c = byCode.get(status);
          if (!c) {
            c = this.requestsTotal.labels({ ...labels, code: String(status) });
            byCode.set(status, c);
          }
          return c;
        },
      };
      this.units.set(key, u);
    }
    return u;
  }

  shadow(deployment: string, agrees: boolean): void {
    this.shadowCompared.inc({ deployment, agrees: agrees ? 'true' : 'false' });
  }
}
