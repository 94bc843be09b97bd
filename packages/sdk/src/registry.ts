import type { HttpClient } from './http.js';
import type { Page } from './contract/tracking-types.js';
import type { ArtifactListing } from './contract/http-schemas.js';
import type { SearchInput, Stage } from './contract/registry-types.js';
import type { AliasPolicy, ModelEvent, ModelVersion, Policy, PolicyBody, PromotionOutcome, PromotionRequest, RegisteredModel, ReproductionRecipe } from './contract/registry-schemas.js';

const enc = encodeURIComponent;

export interface RegisterVersionOptions {
  readonly runId?: string;
  readonly description?: string;
  readonly tags?: Record<string, string>;
  /** Wait until the version leaves PENDING_REGISTRATION (default true); throws when it fails registration. */
  readonly wait?: boolean;
  readonly timeoutMs?: number;
}

/** The model registry over the native API. */
export class RegistryClient {
  constructor(private readonly http: HttpClient) {}

  private api<T = unknown>(method: string, path: string, body?: unknown, query?: Record<string, unknown>): Promise<T> {
    return this.http.json<T>(method, `/api/v1${path}`, body, query);
  }

  async createModel(name: string, opts: { description?: string; tags?: Record<string, string>; project?: string } = {}): Promise<RegisteredModel> {
    return (await this.api<{ model: RegisteredModel }>('POST', '/models', { name, description: opts.description, tags: opts.tags, project: opts.project })).model;
  }
  /** Creates the model unless it exists. */
  async ensureModel(name: string): Promise<RegisteredModel> {
    try {
      return await this.getModel(name);
    } catch (e) {
      if ((e as { status?: number }).status !== 404) throw e;
      try {
        return await this.createModel(name);
      } catch (e2) {
        if ((e2 as { status?: number }).status === 409) return this.getModel(name);
        throw e2;
      }
    }
  }
  async getModel(name: string): Promise<RegisteredModel> {
    return (await this.api<{ model: RegisteredModel }>('GET', `/models/${enc(name)}`)).model;
  }
  async searchModels(input: SearchInput = {}): Promise<Page<RegisteredModel>> {
    const r = await this.api<{ models: RegisteredModel[]; next_page_token?: string }>('GET', '/models', undefined, {
      project: input.project,
      filter: input.filter,
      order_by: input.orderBy,
      max_results: input.maxResults,
      page_token: input.pageToken,
    });
    return { items: r.models, nextPageToken: r.next_page_token };
  }
  async updateModel(name: string, change: { name?: string; description?: string }): Promise<RegisteredModel> {
    return (await this.api<{ model: RegisteredModel }>('PATCH', `/models/${enc(name)}`, change)).model;
  }
  async deleteModel(name: string): Promise<void> {
    await this.api('DELETE', `/models/${enc(name)}`);
  }
  async setModelTag(name: string, key: string, value: string): Promise<void> {
    await this.api('PUT', `/models/${enc(name)}/tags/${enc(key)}`, { value });
  }
  async history(name: string, opts: { afterId?: number; maxResults?: number } = {}): Promise<ModelEvent[]> {
    return (await this.api<{ events: ModelEvent[] }>('GET', `/models/${enc(name)}/history`, undefined, { after_id: opts.afterId, max_results: opts.maxResults })).events;
  }

  /** Registers a version from `runs:/<run>/<path>`, `models:/...`, `mlflow-artifacts:/...` or any URI. */
  async createVersion(name: string, source: string, opts: RegisterVersionOptions = {}): Promise<ModelVersion> {
    const { version } = await this.api<{ version: ModelVersion }>('POST', `/models/${enc(name)}/versions`, { source, run_id: opts.runId, description: opts.description, tags: opts.tags });
    return opts.wait === false ? version : this.waitForVersion(name, version.version, opts.timeoutMs);
  }
  /** Polls until the version is READY (returned) or FAILED_REGISTRATION (thrown with its message). */
  async waitForVersion(name: string, v: string | number, timeoutMs = 300_000): Promise<ModelVersion> {
    const deadline = Date.now() + timeoutMs;
    for (let delay = 20; ; delay = Math.min(delay * 2, 1000)) {
      const current = await this.getVersion(name, v);
      if (current.status === 'READY') return current;
      if (current.status === 'FAILED_REGISTRATION') throw new Error(`Version ${v} of '${name}' failed registration: ${current.status_message ?? 'no reason given'}`);
      if (Date.now() > deadline) throw new Error(`Version ${v} of '${name}' is still ${current.status} after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, delay));
    }
  }
  async getVersion(name: string, v: string | number): Promise<ModelVersion> {
    return (await this.api<{ version: ModelVersion }>('GET', `/models/${enc(name)}/versions/${enc(String(v))}`)).version;
  }
  async listVersions(name: string, input: SearchInput = {}): Promise<Page<ModelVersion>> {
    const r = await this.api<{ versions: ModelVersion[]; next_page_token?: string }>('GET', `/models/${enc(name)}/versions`, undefined, {
      filter: input.filter,
      order_by: input.orderBy,
      max_results: input.maxResults,
      page_token: input.pageToken,
    });
    return { items: r.versions, nextPageToken: r.next_page_token };
  }
  async searchVersions(input: SearchInput = {}): Promise<Page<ModelVersion>> {
    const r = await this.api<{ versions: ModelVersion[]; next_page_token?: string }>('GET', '/model-versions', undefined, {
      filter: input.filter,
      order_by: input.orderBy,
      max_results: input.maxResults,
      page_token: input.pageToken,
    });
    return { items: r.versions, nextPageToken: r.next_page_token };
  }
  async updateVersion(name: string, v: string | number, change: { description?: string; stage?: Stage; archiveExistingVersions?: boolean }): Promise<ModelVersion> {
    const body = { description: change.description, stage: change.stage, archive_existing_versions: change.archiveExistingVersions };
    return (await this.api<{ version: ModelVersion }>('PATCH', `/models/${enc(name)}/versions/${enc(String(v))}`, body)).version;
  }
  async deleteVersion(name: string, v: string | number): Promise<void> {
    await this.api('DELETE', `/models/${enc(name)}/versions/${enc(String(v))}`);
  }
  async setVersionTag(name: string, v: string | number, key: string, value: string): Promise<void> {
    await this.api('PUT', `/models/${enc(name)}/versions/${enc(String(v))}/tags/${enc(key)}`, { value });
  }
  async setAlias(name: string, alias: string, v: string | number, reason?: string): Promise<ModelVersion> {
    return (await this.api<{ version: ModelVersion }>('PUT', `/models/${enc(name)}/aliases/${enc(alias)}`, { version: Number(v), reason })).version;
  }
  async deleteAlias(name: string, alias: string): Promise<void> {
    await this.api('DELETE', `/models/${enc(name)}/aliases/${enc(alias)}`);
  }
  async getVersionByAlias(name: string, alias: string): Promise<ModelVersion> {
    return (await this.api<{ version: ModelVersion }>('GET', `/models/${enc(name)}/aliases/${enc(alias)}`)).version;
  }
  /** `models:/name/3`, `models:/name@champion` or `models:/name/latest`. */
  async resolve(uri: string): Promise<ModelVersion> {
    return (await this.api<{ version: ModelVersion }>('GET', '/model-versions/resolve', undefined, { uri })).version;
  }
  // ------------------------------------------------------------------ promotion gates
  /** Sets the policy guarding an alias: rules such as "metrics.val_accuracy >= champion - 0.005". */
  async setPolicy(name: string, alias: string, policy: PolicyBody): Promise<Policy> {
    return (await this.api<{ policy: Policy }>('PUT', `/models/${enc(name)}/policies/${enc(alias)}`, policy)).policy;
  }
  async getPolicy(name: string, alias: string): Promise<Policy> {
    return (await this.api<{ policy: Policy }>('GET', `/models/${enc(name)}/policies/${enc(alias)}`)).policy;
  }
  async listPolicies(name: string): Promise<AliasPolicy[]> {
    return (await this.api<{ policies: AliasPolicy[] }>('GET', `/models/${enc(name)}/policies`)).policies;
  }
  async deletePolicy(name: string, alias: string): Promise<void> {
    await this.api('DELETE', `/models/${enc(name)}/policies/${enc(alias)}`);
  }
  /** Evaluates the alias's policy for the version; the alias moves only when the status is PROMOTED. */
  async promote(name: string, v: string | number, alias: string, opts: { reason?: string; dryRun?: boolean } = {}): Promise<PromotionOutcome> {
    return this.api<PromotionOutcome>('POST', `/models/${enc(name)}/versions/${enc(String(v))}/promote`, { alias, reason: opts.reason, dry_run: opts.dryRun });
  }
  async approve(name: string, requestId: number, reason?: string): Promise<PromotionOutcome> {
    return this.api<PromotionOutcome>('POST', `/models/${enc(name)}/promotions/${requestId}/approve`, { reason });
  }
  async reject(name: string, requestId: number, reason: string): Promise<PromotionRequest> {
    return this.api<PromotionRequest>('POST', `/models/${enc(name)}/promotions/${requestId}/reject`, { reason });
  }
  async listPromotions(name: string, status?: 'PENDING_APPROVAL' | 'PROMOTED' | 'REJECTED'): Promise<PromotionRequest[]> {
    return (await this.api<{ requests: PromotionRequest[] }>('GET', `/models/${enc(name)}/promotions`, undefined, { status })).requests;
  }

  /** Everything needed to reproduce a version: code commit and entry point, params, dataset versions, environment, and what is missing. */
  async reproduce(name: string, v: string | number): Promise<ReproductionRecipe> {
    return this.api<ReproductionRecipe>('GET', `/models/${enc(name)}/versions/${enc(String(v))}/reproduce`);
  }

  async listFiles(name: string, v: string | number, path = ''): Promise<ArtifactListing> {
    return this.api<ArtifactListing>('GET', `/models/${enc(name)}/versions/${enc(String(v))}/files`, undefined, { path });
  }
  async openFile(name: string, v: string | number, path: string): Promise<Response> {
    return this.http.send('GET', `/api/v1/models/${enc(name)}/versions/${enc(String(v))}/files/${path.split('/').map(enc).join('/')}`);
  }
}

