import type { HttpClient } from './http.js';
import { mapToTags } from '../tracking/json.js';
import type { Page } from '../tracking/types.js';
import type { ModelEvent, ModelEventKind, ModelVersion, ModelVersionStatus, RegisteredModel, SearchInput, Stage } from '../registry/types.js';

type Json = Record<string, unknown>;
const enc = encodeURIComponent;

function version(j: Json): ModelVersion {
  return {
    name: j.name as string,
    version: String(j.version),
    creationTime: j.creation_time as number,
    lastUpdateTime: j.last_update_time as number,
    userId: (j.user_id as string | null) ?? null,
    currentStage: j.stage as Stage,
    description: (j.description as string | null) ?? null,
    source: j.source as string,
    storageLocation: j.storage_location as string,
    runId: (j.run_id as string | null) ?? null,
    runLink: (j.run_link as string | null) ?? null,
    loggedModelId: (j.logged_model_id as string | null) ?? null,
    status: j.status as ModelVersionStatus,
    statusMessage: (j.status_message as string | null) ?? null,
    servable: j.servable === true,
    package: (j.package as Record<string, unknown> | null) ?? null,
    tags: mapToTags(j.tags as Record<string, string>),
    aliases: (j.aliases as string[]) ?? [],
  };
}

function model(j: Json): RegisteredModel {
  return {
    name: j.name as string,
    creationTime: j.creation_time as number,
    lastUpdateTime: j.last_update_time as number,
    userId: (j.user_id as string | null) ?? null,
    description: (j.description as string | null) ?? null,
    tags: mapToTags(j.tags as Record<string, string>),
    aliases: Object.entries((j.aliases ?? {}) as Record<string, number>).map(([alias, v]) => ({ alias, version: String(v) })),
    latestVersions: ((j.latest_versions ?? []) as Json[]).map(version),
  };
}

function event(j: Json): ModelEvent {
  return {
    id: j.id as number,
    name: j.name as string,
    version: j.version === null || j.version === undefined ? null : String(j.version),
    kind: j.kind as ModelEventKind,
    alias: (j.alias as string | null) ?? null,
    actor: j.actor as string,
    time: j.time as number,
    reason: (j.reason as string | null) ?? null,
    details: (j.details as Record<string, unknown> | null) ?? null,
  };
}

export interface PromotionPolicyJson {
  readonly rules: string[];
  readonly require_data_validation: boolean;
  readonly require_approval: boolean;
  readonly description?: string;
}
export interface GateJson {
  readonly gate: string;
  readonly passed: boolean;
  readonly message: string;
  readonly details?: Record<string, unknown>;
}
export interface PromotionOutcomeJson {
  readonly request_id: number | null;
  readonly name: string;
  readonly version: number;
  readonly alias: string;
  readonly status: 'PROMOTED' | 'REJECTED' | 'PENDING_APPROVAL';
  readonly champion_version: number | null;
  readonly gates: GateJson[];
  readonly message: string;
  readonly dry_run: boolean;
}
export interface PromotionRequestJson {
  readonly id: number;
  readonly name: string;
  readonly version: number;
  readonly alias: string;
  readonly status: string;
  readonly requested_by: string;
  readonly request_time: number;
  readonly decided_by: string | null;
  readonly decision_time: number | null;
  readonly reason: string | null;
  readonly gates: GateJson[];
}

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

  private api<T = Json>(method: string, path: string, body?: unknown, query?: Record<string, unknown>): Promise<T> {
    return this.http.json<T>(method, `/api/v1${path}`, body, query);
  }

  async createModel(name: string, opts: { description?: string; tags?: Record<string, string> } = {}): Promise<RegisteredModel> {
    return model((await this.api<{ model: Json }>('POST', '/models', { name, description: opts.description, tags: opts.tags })).model);
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
    return model((await this.api<{ model: Json }>('GET', `/models/${enc(name)}`)).model);
  }
  async searchModels(input: SearchInput = {}): Promise<Page<RegisteredModel>> {
    const r = await this.api<{ models: Json[]; next_page_token?: string }>('GET', '/models', undefined, {
      filter: input.filter,
      order_by: input.orderBy,
      max_results: input.maxResults,
      page_token: input.pageToken,
    });
    return { items: r.models.map(model), nextPageToken: r.next_page_token };
  }
  async updateModel(name: string, change: { name?: string; description?: string }): Promise<RegisteredModel> {
    return model((await this.api<{ model: Json }>('PATCH', `/models/${enc(name)}`, change)).model);
  }
  async deleteModel(name: string): Promise<void> {
    await this.api('DELETE', `/models/${enc(name)}`);
  }
  async setModelTag(name: string, key: string, value: string): Promise<void> {
    await this.api('PUT', `/models/${enc(name)}/tags/${enc(key)}`, { value });
  }
  async history(name: string, opts: { afterId?: number; maxResults?: number } = {}): Promise<ModelEvent[]> {
    return (await this.api<{ events: Json[] }>('GET', `/models/${enc(name)}/history`, undefined, { after_id: opts.afterId, max_results: opts.maxResults })).events.map(event);
  }

  /** Registers a version from `runs:/<run>/<path>`, `models:/...`, `mlflow-artifacts:/...` or any URI. */
  async createVersion(name: string, source: string, opts: RegisterVersionOptions = {}): Promise<ModelVersion> {
    const r = await this.api<{ version: Json }>('POST', `/models/${enc(name)}/versions`, { source, run_id: opts.runId, description: opts.description, tags: opts.tags });
    const v = version(r.version);
    return opts.wait === false ? v : this.waitForVersion(name, v.version, opts.timeoutMs);
  }
  /** Polls until the version is READY (returned) or FAILED_REGISTRATION (thrown with its message). */
  async waitForVersion(name: string, v: string | number, timeoutMs = 300_000): Promise<ModelVersion> {
    const deadline = Date.now() + timeoutMs;
    for (let delay = 20; ; delay = Math.min(delay * 2, 1000)) {
      const current = await this.getVersion(name, v);
      if (current.status === 'READY') return current;
      if (current.status === 'FAILED_REGISTRATION') throw new Error(`Version ${v} of '${name}' failed registration: ${current.statusMessage ?? 'no reason given'}`);
      if (Date.now() > deadline) throw new Error(`Version ${v} of '${name}' is still ${current.status} after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, delay));
    }
  }
  async getVersion(name: string, v: string | number): Promise<ModelVersion> {
    return version((await this.api<{ version: Json }>('GET', `/models/${enc(name)}/versions/${enc(String(v))}`)).version);
  }
  async listVersions(name: string, input: SearchInput = {}): Promise<Page<ModelVersion>> {
    const r = await this.api<{ versions: Json[]; next_page_token?: string }>('GET', `/models/${enc(name)}/versions`, undefined, {
      filter: input.filter,
      order_by: input.orderBy,
      max_results: input.maxResults,
      page_token: input.pageToken,
    });
    return { items: r.versions.map(version), nextPageToken: r.next_page_token };
  }
  async searchVersions(input: SearchInput = {}): Promise<Page<ModelVersion>> {
    const r = await this.api<{ versions: Json[]; next_page_token?: string }>('GET', '/model-versions', undefined, {
      filter: input.filter,
      order_by: input.orderBy,
      max_results: input.maxResults,
      page_token: input.pageToken,
    });
    return { items: r.versions.map(version), nextPageToken: r.next_page_token };
  }
  async updateVersion(name: string, v: string | number, change: { description?: string; stage?: Stage; archiveExistingVersions?: boolean }): Promise<ModelVersion> {
    const body = { description: change.description, stage: change.stage, archive_existing_versions: change.archiveExistingVersions };
    return version((await this.api<{ version: Json }>('PATCH', `/models/${enc(name)}/versions/${enc(String(v))}`, body)).version);
  }
  async deleteVersion(name: string, v: string | number): Promise<void> {
    await this.api('DELETE', `/models/${enc(name)}/versions/${enc(String(v))}`);
  }
  async setVersionTag(name: string, v: string | number, key: string, value: string): Promise<void> {
    await this.api('PUT', `/models/${enc(name)}/versions/${enc(String(v))}/tags/${enc(key)}`, { value });
  }
  async setAlias(name: string, alias: string, v: string | number, reason?: string): Promise<ModelVersion> {
    return version((await this.api<{ version: Json }>('PUT', `/models/${enc(name)}/aliases/${enc(alias)}`, { version: Number(v), reason })).version);
  }
  async deleteAlias(name: string, alias: string): Promise<void> {
    await this.api('DELETE', `/models/${enc(name)}/aliases/${enc(alias)}`);
  }
  async getVersionByAlias(name: string, alias: string): Promise<ModelVersion> {
    return version((await this.api<{ version: Json }>('GET', `/models/${enc(name)}/aliases/${enc(alias)}`)).version);
  }
  /** `models:/name/3`, `models:/name@champion` or `models:/name/latest`. */
  async resolve(uri: string): Promise<ModelVersion> {
    return version((await this.api<{ version: Json }>('GET', '/model-versions/resolve', undefined, { uri })).version);
  }
  // ------------------------------------------------------------------ promotion gates
  /** Sets the policy guarding an alias: rules such as "metrics.val_accuracy >= champion - 0.005". */
  async setPolicy(name: string, alias: string, policy: { rules?: string[]; require_data_validation?: boolean; require_approval?: boolean; description?: string }): Promise<PromotionPolicyJson> {
    return (await this.api<{ policy: PromotionPolicyJson }>('PUT', `/models/${enc(name)}/policies/${enc(alias)}`, policy)).policy;
  }
  async getPolicy(name: string, alias: string): Promise<PromotionPolicyJson> {
    return (await this.api<{ policy: PromotionPolicyJson }>('GET', `/models/${enc(name)}/policies/${enc(alias)}`)).policy;
  }
  async listPolicies(name: string): Promise<{ alias: string; policy: PromotionPolicyJson; updated_by: string; update_time: number }[]> {
    return (await this.api<{ policies: { alias: string; policy: PromotionPolicyJson; updated_by: string; update_time: number }[] }>('GET', `/models/${enc(name)}/policies`)).policies;
  }
  async deletePolicy(name: string, alias: string): Promise<void> {
    await this.api('DELETE', `/models/${enc(name)}/policies/${enc(alias)}`);
  }
  /** Evaluates the alias's policy for the version; the alias moves only when the status is PROMOTED. */
  async promote(name: string, v: string | number, alias: string, opts: { reason?: string; dryRun?: boolean } = {}): Promise<PromotionOutcomeJson> {
    return this.api<PromotionOutcomeJson>('POST', `/models/${enc(name)}/versions/${enc(String(v))}/promote`, { alias, reason: opts.reason, dry_run: opts.dryRun });
  }
  async approve(name: string, requestId: number, reason?: string): Promise<PromotionOutcomeJson> {
    return this.api<PromotionOutcomeJson>('POST', `/models/${enc(name)}/promotions/${requestId}/approve`, { reason });
  }
  async reject(name: string, requestId: number, reason: string): Promise<PromotionRequestJson> {
    return this.api<PromotionRequestJson>('POST', `/models/${enc(name)}/promotions/${requestId}/reject`, { reason });
  }
  async listPromotions(name: string, status?: 'PENDING_APPROVAL' | 'PROMOTED' | 'REJECTED'): Promise<PromotionRequestJson[]> {
    return (await this.api<{ requests: PromotionRequestJson[] }>('GET', `/models/${enc(name)}/promotions`, undefined, { status })).requests;
  }

  async listFiles(name: string, v: string | number, path = ''): Promise<{ rootUri: string; files: { path: string; isDir: boolean; size?: number }[] }> {
    const r = await this.api<{ root_uri: string; files: { path: string; is_dir: boolean; size?: number }[] }>('GET', `/models/${enc(name)}/versions/${enc(String(v))}/files`, undefined, { path });
    return { rootUri: r.root_uri, files: r.files.map((f) => ({ path: f.path, isDir: f.is_dir, size: f.size })) };
  }
  async openFile(name: string, v: string | number, path: string): Promise<Response> {
    return this.http.send('GET', `/api/v1/models/${enc(name)}/versions/${enc(String(v))}/files/${path.split('/').map(enc).join('/')}`);
  }
}

