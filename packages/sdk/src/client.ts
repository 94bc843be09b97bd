import { authorizationHeader, type Credentials } from './credentials.js';
import { readFile } from 'node:fs/promises';
import { defaultUser } from './user.js';
import { HttpClient, type HttpOptions } from './http.js';
import { RegistryClient } from './registry.js';
import { DataClient } from './data.js';
import { DeploymentsClient } from './deployments.js';
import { MonitorsClient } from './monitors.js';
import { fromJsonDouble, jsonDouble } from './contract/tracking-types.js';
import { mapToTags, tagsToMap } from './contract/tags.js';
import type * as S from './contract/tracking-schemas.js';
import type { ArtifactListing } from './contract/http-schemas.js';
import type { OnnxInfo } from './contract/registry-schemas.js';
import type {
  CreateExperimentInput,
  CreateRunInput,
  DatasetInput,
  Experiment,
  LogBatchInput,
  MetricHistory,
  MetricHistoryInput,
  Page,
  Run,
  RunInfo,
  SearchExperimentsInput,
  SearchRunsInput,
  TrackingApi,
  UpdateRunInput,
} from './contract/tracking-types.js';

const enc = encodeURIComponent;

function experiment(j: S.Experiment): Experiment {
  return {
    experimentId: j.experiment_id,
    name: j.name,
    artifactLocation: j.artifact_location,
    lifecycleStage: j.lifecycle_stage,
    creationTime: j.creation_time,
    lastUpdateTime: j.last_update_time,
    tags: mapToTags(j.tags),
    ...(j.project === undefined ? {} : { project: j.project }),
  };
}

function run(j: S.Run): Run {
  return {
    info: {
      runId: j.run_id,
      runName: j.run_name,
      experimentId: j.experiment_id,
      userId: j.user_id,
      status: j.status,
      startTime: j.start_time,
      endTime: j.end_time,
      artifactUri: j.artifact_uri,
      lifecycleStage: j.lifecycle_stage,
    },
    data: {
      metrics: Object.entries(j.metrics).map(([key, m]) => ({ key, value: fromJsonDouble(m.value), step: m.step, timestamp: m.timestamp })),
      params: mapToTags(j.params),
      tags: mapToTags(j.tags),
    },
    inputs: {
      datasetInputs: j.dataset_inputs.map((d) => ({
        dataset: { name: d.name, digest: d.digest, sourceType: d.source_type, source: d.source, schema: d.schema ?? null, profile: d.profile ?? null },
        tags: mapToTags(d.tags),
      })),
    },
  };
}

export interface ArtifactFile {
  readonly path: string;
  readonly isDir: boolean;
  readonly size?: number;
}

/** The native API as a TrackingApi: the same calls the server's service offers, over HTTP. */
export class KilnClient implements TrackingApi {
  readonly http: HttpClient;
  readonly registry: RegistryClient;
  readonly data: DataClient;
  /** Deployments of registered models, and inference over the Open Inference Protocol. */
  readonly deployments: DeploymentsClient;
  readonly monitors: MonitorsClient;

  /**
   * `user` names who acts on a server without authentication (recorded in histories); default $KILN_USER, then
   * $USER/$LOGNAME, then the OS account (`os.userInfo()`). On a server with `--auth on` the credentials decide who
   * acts: `token`, or `username` and `password`, else the environment and `kiln login`'s stored token (see Credentials).
   */
  constructor(opts: Partial<HttpOptions> & { trackingUri?: string; user?: string } & Credentials = {}) {
    const baseUrl = opts.baseUrl ?? opts.trackingUri ?? process.env.KILN_TRACKING_URI ?? process.env.MLFLOW_TRACKING_URI ?? 'http://127.0.0.1:5000';
    const user = opts.user ?? defaultUser();
    const authorization = authorizationHeader(baseUrl, opts);
    const headers = { ...(user ? { 'x-kiln-user': encodeURIComponent(user) } : {}), ...(authorization ? { authorization } : {}), ...opts.headers };
    this.http = new HttpClient({ ...opts, baseUrl, headers });
    this.registry = new RegistryClient(this.http);
    this.data = new DataClient(this.http, headers);
    this.deployments = new DeploymentsClient(this.http);
    this.monitors = new MonitorsClient(this.http);
  }

  get trackingUri(): string {
    return this.http.baseUrl;
  }

  private api<T = unknown>(method: string, path: string, body?: unknown, query?: Record<string, unknown>): Promise<T> {
    return this.http.json<T>(method, `/api/v1${path}`, body, query);
  }

  async createExperiment(input: CreateExperimentInput): Promise<string> {
    const r = await this.api<{ experiment: S.Experiment }>('POST', '/experiments', { name: input.name, artifact_location: input.artifactLocation, tags: tagsToMap(input.tags), project: input.project });
    return r.experiment.experiment_id;
  }
  async getExperiment(id: string): Promise<Experiment> {
    return experiment((await this.api<{ experiment: S.Experiment }>('GET', `/experiments/${enc(id)}`)).experiment);
  }
  async getExperimentByName(name: string): Promise<Experiment> {
    return experiment((await this.api<{ experiment: S.Experiment }>('GET', `/experiments/by-name/${enc(name)}`)).experiment);
  }
  async searchExperiments(input: SearchExperimentsInput = {}): Promise<Page<Experiment>> {
    const r = await this.api<{ experiments: S.Experiment[]; next_page_token?: string }>('GET', '/experiments', undefined, {
      project: input.project,
      filter: input.filter,
      order_by: input.orderBy,
      view_type: input.viewType,
      max_results: input.maxResults,
      page_token: input.pageToken,
    });
    return { items: r.experiments.map(experiment), nextPageToken: r.next_page_token };
  }
  async renameExperiment(id: string, newName: string): Promise<void> {
    await this.api('PATCH', `/experiments/${enc(id)}`, { name: newName });
  }
  async deleteExperiment(id: string): Promise<void> {
    await this.api('DELETE', `/experiments/${enc(id)}`);
  }
  async restoreExperiment(id: string): Promise<void> {
    await this.api('POST', `/experiments/${enc(id)}/restore`);
  }
  async setExperimentTag(id: string, key: string, value: string): Promise<void> {
    await this.api('POST', `/experiments/${enc(id)}/tags`, { key, value });
  }
  async deleteExperimentTag(id: string, key: string): Promise<void> {
    await this.api('DELETE', `/experiments/${enc(id)}/tags`, undefined, { key });
  }

  async createRun(input: CreateRunInput): Promise<Run> {
    const r = await this.api<{ run: S.Run }>('POST', '/runs', {
      experiment_id: input.experimentId,
      run_name: input.runName,
      start_time: input.startTime,
      user_id: input.userId,
      tags: tagsToMap(input.tags),
    });
    return run(r.run);
  }
  async getRun(runId: string): Promise<Run> {
    return run((await this.api<{ run: S.Run }>('GET', `/runs/${enc(runId)}`)).run);
  }
  async updateRun(input: UpdateRunInput): Promise<RunInfo> {
    const r = await this.api<{ run: S.Run }>('PATCH', `/runs/${enc(input.runId)}`, { status: input.status, end_time: input.endTime ?? undefined, run_name: input.runName });
    return run(r.run).info;
  }
  async deleteRun(runId: string): Promise<void> {
    await this.api('DELETE', `/runs/${enc(runId)}`);
  }
  async restoreRun(runId: string): Promise<void> {
    await this.api('POST', `/runs/${enc(runId)}/restore`);
  }
  async logBatch(input: LogBatchInput): Promise<void> {
    await this.api('POST', `/runs/${enc(input.runId)}/log`, {
      metrics: input.metrics?.map((m) => ({ key: m.key, value: jsonDouble(m.value), timestamp: m.timestamp, step: m.step })),
      params: input.params ? tagsToMap(input.params) : undefined,
      tags: input.tags ? tagsToMap(input.tags) : undefined,
    });
  }
  async setTag(runId: string, key: string, value: string): Promise<void> {
    await this.api('POST', `/runs/${enc(runId)}/tags`, { key, value });
  }
  async deleteTag(runId: string, key: string): Promise<void> {
    await this.api('DELETE', `/runs/${enc(runId)}/tags`, undefined, { key });
  }
  async logInputs(runId: string, datasets: readonly DatasetInput[]): Promise<void> {
    await this.api('POST', `/runs/${enc(runId)}/inputs`, {
      datasets: datasets.map((d) => ({
        name: d.dataset.name,
        digest: d.dataset.digest,
        source_type: d.dataset.sourceType,
        source: d.dataset.source,
        schema: d.dataset.schema ?? undefined,
        profile: d.dataset.profile ?? undefined,
        tags: tagsToMap(d.tags),
      })),
    });
  }
  async searchRuns(input: SearchRunsInput): Promise<Page<Run>> {
    const r = await this.api<{ runs: S.Run[]; next_page_token?: string }>('POST', '/runs/search', {
      experiment_ids: input.experimentIds,
      filter: input.filter,
      order_by: input.orderBy,
      view_type: input.viewType,
      max_results: input.maxResults,
      page_token: input.pageToken,
    });
    return { items: r.runs.map(run), nextPageToken: r.next_page_token };
  }
  async getMetricHistory(input: MetricHistoryInput): Promise<MetricHistory> {
    const r = await this.api<S.MetricHistory>(
      'GET',
      `/runs/${enc(input.runId)}/metric-history`,
      undefined,
      { key: input.key, max_results: input.maxResults, page_token: input.pageToken, max_points: input.maxPoints, start_step: input.startStep, end_step: input.endStep },
    );
    return {
      metrics: r.steps.map((step, i) => ({ key: input.key, step, timestamp: r.timestamps[i]!, value: fromJsonDouble(r.values[i]) })),
      downsampled: r.downsampled,
      totalPoints: r.total_points,
      nextPageToken: r.next_page_token,
    };
  }

  // ------------------------------------------------------------------ artifacts
  async listArtifacts(runId: string, path = ''): Promise<{ rootUri: string; files: ArtifactFile[] }> {
    const r = await this.api<ArtifactListing>('GET', `/runs/${enc(runId)}/artifacts`, undefined, { path });
    return { rootUri: r.root_uri, files: r.files.map((f) => ({ path: f.path, isDir: f.is_dir, size: f.size })) };
  }
  /** Uploads bytes, or a local file when `data` is a `{ file }` reference. */
  async uploadArtifact(runId: string, artifactPath: string, data: Uint8Array | string | { file: string }): Promise<void> {
    const body = typeof data === 'string' ? Buffer.from(data) : data instanceof Uint8Array ? data : await readFile(data.file);
    await this.http.send('PUT', `/api/v1/runs/${enc(runId)}/artifacts/${artifactPath.split('/').map(enc).join('/')}`, body, undefined, {
      'content-type': 'application/octet-stream',
    });
  }
  async deleteArtifact(runId: string, artifactPath: string): Promise<void> {
    await this.http.send('DELETE', `/api/v1/runs/${enc(runId)}/artifacts/${artifactPath.split('/').map(enc).join('/')}`);
  }
  /** What the server's inspection of an ONNX artifact found: inputs, outputs, opsets, metadata, size and sha256. */
  async inspectOnnxArtifact(runId: string, artifactPath: string): Promise<OnnxInfo> {
    return this.api<OnnxInfo>('GET', `/runs/${enc(runId)}/artifacts-onnx`, undefined, { path: artifactPath });
  }
  async downloadArtifact(runId: string, artifactPath: string): Promise<Buffer> {
    const res = await this.http.send('GET', `/api/v1/runs/${enc(runId)}/artifacts/${artifactPath.split('/').map(enc).join('/')}`);
    return Buffer.from(await res.arrayBuffer());
  }
  /** Streams a download to a Node stream-friendly Response body. */
  async openArtifact(runId: string, artifactPath: string): Promise<Response> {
    return this.http.send('GET', `/api/v1/runs/${enc(runId)}/artifacts/${artifactPath.split('/').map(enc).join('/')}`);
  }
}

