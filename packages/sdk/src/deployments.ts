import type { HttpClient } from './http.js';
import type { Page } from './contract/page.js';
import type { Deployment, DeploymentConfigInput, PayloadRecord, Revision, VersionStats } from './contract/serving-schemas.js';

const enc = encodeURIComponent;

/** An OIP tensor as JSON: `data` flat (row-major) or nested. */
export interface InferTensor {
  readonly name: string;
  readonly shape: readonly number[];
  readonly datatype: string;
  readonly data: readonly unknown[];
  readonly parameters?: Readonly<Record<string, string | number | boolean>>;
}

export interface InferResponse {
  readonly model_name: string;
  readonly model_version?: string;
  readonly id?: string;
  readonly parameters?: Readonly<Record<string, unknown>>;
  readonly outputs: readonly { name: string; shape: number[]; datatype: string; data: unknown[] }[];
}

/** Deployments (the control plane under /api/v1/deployments) and inference over the Open Inference Protocol. */
export class DeploymentsClient {
  constructor(private readonly http: HttpClient) {}

  private api<T = unknown>(method: string, path: string, body?: unknown, query?: Record<string, unknown>): Promise<T> {
    return this.http.json<T>(method, `/api/v1${path}`, body, query);
  }

  async list(input: { maxResults?: number; pageToken?: string; project?: string } = {}): Promise<Page<Deployment>> {
    const r = await this.api<{ deployments: Deployment[]; next_page_token?: string }>('GET', '/deployments', undefined, { max_results: input.maxResults, page_token: input.pageToken, project: input.project });
    return { items: r.deployments, nextPageToken: r.next_page_token };
  }

  /** Creates a deployment: `{ model: 'models:/rain@production' }`, or `targets` with weights, shadow, batching, ... */
  async create(name: string, config: DeploymentConfigInput & { description?: string; reason?: string }): Promise<Deployment> {
    return (await this.api<{ deployment: Deployment }>('POST', '/deployments', { name, ...config })).deployment;
  }

  async get(name: string): Promise<Deployment> {
    return (await this.api<{ deployment: Deployment }>('GET', `/deployments/${enc(name)}`)).deployment;
  }

  /** Changes a deployment (a new revision); parts left out keep their value. */
  async update(name: string, change: DeploymentConfigInput & { description?: string; reason?: string }): Promise<Deployment> {
    return (await this.api<{ deployment: Deployment }>('PATCH', `/deployments/${enc(name)}`, change)).deployment;
  }

  async delete(name: string): Promise<void> {
    await this.api('DELETE', `/deployments/${enc(name)}`);
  }

  async revisions(name: string): Promise<Revision[]> {
    return (await this.api<{ revisions: Revision[] }>('GET', `/deployments/${enc(name)}/revisions`)).revisions;
  }

  /** Restores revision `to` (default: the one before the current) as a new revision. */
  async rollback(name: string, opts: { to?: number; reason?: string } = {}): Promise<Deployment> {
    return (await this.api<{ deployment: Deployment }>('POST', `/deployments/${enc(name)}/rollback`, opts)).deployment;
  }

  async stats(name: string, windowSeconds?: number): Promise<{ window_seconds: number; versions: VersionStats[] }> {
    return this.api('GET', `/deployments/${enc(name)}/stats`, undefined, { window_seconds: windowSeconds });
  }

  async payloads(name: string, q: { version?: number; requestId?: string; startTime?: number; endTime?: number; maxResults?: number; pageToken?: string } = {}): Promise<Page<PayloadRecord>> {
    const r = await this.api<{ payloads: PayloadRecord[]; next_page_token?: string }>('GET', `/deployments/${enc(name)}/payloads`, undefined, {
      version: q.version,
      request_id: q.requestId,
      start_time: q.startTime,
      end_time: q.endTime,
      max_results: q.maxResults,
      page_token: q.pageToken,
    });
    return { items: r.payloads, nextPageToken: r.next_page_token };
  }

  /** OIP inference: `POST /v2/models/NAME[/versions/V]/infer`. */
  async infer(name: string, inputs: readonly InferTensor[], opts: { id?: string; version?: string | number; outputs?: readonly string[]; parameters?: Record<string, string | number | boolean> } = {}): Promise<InferResponse> {
    const path = `/v2/models/${enc(name)}${opts.version !== undefined ? `/versions/${enc(String(opts.version))}` : ''}/infer`;
    return this.http.json<InferResponse>('POST', path, {
      ...(opts.id !== undefined ? { id: opts.id } : {}),
      ...(opts.parameters ? { parameters: opts.parameters } : {}),
      inputs,
      ...(opts.outputs ? { outputs: opts.outputs.map((n) => ({ name: n })) } : {}),
    });
  }
}
