import type { Credentials } from './credentials.js';
import { defaultUser } from './user.js';
import { KilnClient } from './client.js';
import { ActiveRun } from './run.js';
import { sourceTags } from './source.js';
import type { MetricBufferOptions } from './metric-buffer.js';
import type { HttpOptions } from './http.js';
import type { Tag } from './contract/tracking-types.js';

export { KilnClient, type ArtifactFile } from './client.js';
export { ActiveRun } from './run.js';
export { DataClient, type AddOptions, type AddResult } from './data.js';
export { MetricBuffer, type MetricBufferOptions } from './metric-buffer.js';
export { KilnApiError, HttpClient, type HttpOptions } from './http.js';
export { RegistryClient, type RegisterVersionOptions } from './registry.js';
export { DeploymentsClient, type InferTensor, type InferResponse } from './deployments.js';
export { MonitorsClient } from './monitors.js';
export type { Deployment, DeploymentConfig, DeploymentConfigInput, Revision as DeploymentRevision, PayloadRecord, VersionStats } from './contract/serving-schemas.js';
export { defaultUser } from './user.js';
export { authorizationHeader, credentialsPath, storeToken, storedToken, type Credentials } from './credentials.js';
// What client.registry and client.data return: the native API's JSON shapes (snake_case), as docs/api.md documents them.
export type {
  AliasPolicy,
  ColumnSpec,
  Gate,
  MLmodel,
  ModelEvent,
  ModelPackage,
  ModelVersion,
  OnnxInfo,
  Policy as PromotionPolicy,
  PolicyBody as PromotionPolicyInput,
  PromotionOutcome,
  PromotionRequest,
  RegisteredModel,
  ReproductionRecipe,
  SchemaSpec,
  Signature,
  TensorSpec,
} from './contract/registry-schemas.js';
export type { Stage, ModelVersionStatus } from './contract/registry-types.js';
export type {
  Anomaly as DatasetAnomaly,
  ColumnDiff,
  ColumnProfile,
  Dataset as DatasetInfo,
  DatasetDiff,
  DatasetProfile,
  DatasetSchema,
  DatasetVersion,
  DatasetVersionDetail,
  ManifestEntry,
  SchemaColumn,
  Validation as DatasetValidation,
} from './contract/data-schemas.js';
export type { LineageEdge, LineageGraph, LineageNode } from './contract/lineage-schemas.js';
// The tracking client's results are the server's domain types (camelCase), the same the server's TrackingApi uses.
export type * from './contract/tracking-types.js';

export interface KilnOptions extends Partial<HttpOptions>, Credentials {
  /** Server URL; default $KILN_TRACKING_URI, then $MLFLOW_TRACKING_URI, then http://127.0.0.1:5000. */
  readonly trackingUri?: string;
  /**
   * Who acts on a server without authentication (recorded in histories); default $KILN_USER, then $USER/$LOGNAME,
   * then the OS account (`os.userInfo()`). With `--auth on` the credentials (`token`, or `username` and `password`,
   * else $KILN_TOKEN, $KILN_USERNAME/$KILN_PASSWORD or the token `kiln login` stored) decide who acts.
   */
  readonly user?: string;
  readonly buffer?: MetricBufferOptions;
}

export interface StartRunOptions {
  /** Experiment name (created when missing) or `{ id }`; default the Default experiment. */
  readonly experiment?: string | { id: string };
  readonly runName?: string;
  readonly tags?: Record<string, string>;
  readonly params?: Record<string, unknown>;
  /** Parent run id for nested runs (sets the mlflow.parentRunId tag). */
  readonly parentRunId?: string;
}

/**
 * The TypeScript SDK:
 *
 *   const kiln = new Kiln();
 *   await kiln.withRun({ experiment: 'demo' }, async (run) => { run.logParam('lr', 0.01); run.logMetric('loss', 0.3, 1); });
 */
export class Kiln {
  readonly client: KilnClient;
  private readonly active = new Set<ActiveRun>();
  private readonly warned = new WeakSet<ActiveRun>();
  private exitHook: (() => void) | undefined;

  constructor(private readonly opts: KilnOptions = {}) {
    this.client = new KilnClient(opts);
  }

  async experimentId(experiment: StartRunOptions['experiment']): Promise<string> {
    if (experiment === undefined) return '0';
    if (typeof experiment === 'object') return experiment.id;
    try {
      return (await this.client.getExperimentByName(experiment)).experimentId;
    } catch (e) {
      if ((e as { status?: number }).status !== 404) throw e;
      try {
        return await this.client.createExperiment({ name: experiment });
      } catch (e2) {
        // Another process created it in between.
        if ((e2 as { status?: number }).status === 409) return (await this.client.getExperimentByName(experiment)).experimentId;
        throw e2;
      }
    }
  }

  async startRun(opts: StartRunOptions = {}): Promise<ActiveRun> {
    const tags: Tag[] = Object.entries(opts.tags ?? {}).map(([key, value]) => ({ key, value }));
    if (opts.parentRunId) tags.push({ key: 'mlflow.parentRunId', value: opts.parentRunId });
    if (!tags.some((t) => t.key === 'mlflow.source.type')) tags.push({ key: 'mlflow.source.type', value: 'LOCAL' });
    for (const [key, value] of Object.entries(sourceTags())) if (!tags.some((t) => t.key === key)) tags.push({ key, value });
    const user = this.opts.user ?? defaultUser();
    if (user && !tags.some((t) => t.key === 'mlflow.user')) tags.push({ key: 'mlflow.user', value: user });
    const run = await this.client.createRun({ experimentId: await this.experimentId(opts.experiment), runName: opts.runName, userId: user, tags });
    const active = new ActiveRun(this.client, run, this.opts.buffer, (r) => this.active.delete(r));
    this.track(active);
    if (opts.params) await active.logParams(opts.params);
    return active;
  }

  /**
   * Runs `fn` inside a run: FINISHED when it returns and every write was stored; FAILED when it throws (rethrown) or
   * when the server refused a write, even one not awaited (then that refusal is thrown once the run is ended).
   */
  async withRun<T>(opts: StartRunOptions, fn: (run: ActiveRun) => Promise<T> | T): Promise<T> {
    const run = await this.startRun(opts);
    let result: T;
    try {
      result = await fn(run);
    } catch (e) {
      await run.end('FAILED').catch(() => {});
      throw e;
    }
    await run.end('FINISHED');
    return result;
  }

  /** Flushes every active run's queued writes; throws the first failure. */
  async flush(): Promise<void> {
    await Promise.all([...this.active].map((r) => r.flush()));
  }

  private track(run: ActiveRun): void {
    this.active.add(run);
    if (!this.exitHook) {
      // When the event loop empties with runs still open, flush their metrics before the process exits.
      // A write that failed on a run nobody ended is reported as a warning, once per run.
      this.exitHook = () => {
        for (const run of this.active) {
          void run.flush().catch((e: unknown) => {
            if (this.warned.has(run)) return;
            this.warned.add(run);
            process.emitWarning(`run ${run.id} was not ended and a write to it failed: ${e instanceof Error ? e.message : String(e)}`, 'KilnWarning');
          });
        }
      };
      process.on('beforeExit', this.exitHook);
    }
  }
}
