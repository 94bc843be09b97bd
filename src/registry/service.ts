import { sql, type RawBuilder, type Transaction } from 'kysely';
import { DEFAULT_PROJECT, DEFAULT_PROJECT_ID, registeredModelReadFilter } from '../platform/auth/access.js';
import { readCondition } from '../platform/auth/access-sql.js';
import type { ResourceDirectory } from '../platform/auth/resources.js';
import { KilnError, alreadyExists, invalid, notFound } from '../platform/errors.js';
import { offsetFromPageToken, offsetPage, validateMaxResults, type Page } from '../platform/pagination.js';
import type { TrackingService } from '../tracking/service.js';
import type { RegistryStore, ModelRow, VersionRow } from './store.js';
import type { RegistryEvents } from './events.js';
import type { PromotionStore } from './promotion-store.js';
import type { RegistryTables } from './tables.js';
import { resolveVersionSource } from './sources.js';
import { compileModelFilter, compileModelOrder, compileVersionFilter, compileVersionOrder } from './search.js';
import { type Actor, type CreateModelInput, type CreateVersionInput, type ModelEvent, type ModelPackage, type ModelVersion, type RegisteredModel, type SearchInput } from './types.js';
import { dedupeTags, parseStage, parseVersion, refuseNotReady, validateAlias, validateDescription, validateModelName, validateRegistryTag, REGISTRY_LIMITS } from './validation.js';

/** What inspecting a version's files concluded (see registry/inspection.ts). */
export interface InspectionOutcome {
  readonly status: 'READY' | 'FAILED_REGISTRATION';
  readonly statusMessage?: string;
  readonly servable: boolean;
  readonly package: ModelPackage;
}

/** Looks at the files behind a version's storage location. */
export interface VersionInspector {
  inspect(storageLocation: string): Promise<InspectionOutcome>;
}

const SYSTEM: Actor = { user: 'kiln' };

/** Options of the registry capability (`createServer(config, { capabilities: { registry: {...} } })`). */
export interface RegistryOptions {
  /**
   * How long registering a version waits for the inspection of its files before answering (default 5000 ms: a warm
   * inspection takes milliseconds, the first one after the worker went idle a second or two). An inspection that
   * ends in time answers READY or FAILED_REGISTRATION at once; a slower one answers PENDING_REGISTRATION and goes
   * on in the background. 0 never waits.
   */
  readonly inspectionWaitMs: number;
  /** Folders of the artifact store that other capabilities own (the data capability's blobs): never a version's source. */
  readonly reservedArtifactPrefixes?: readonly string[];
}

export const DEFAULT_REGISTRY_OPTIONS: RegistryOptions = { inspectionWaitMs: 5000, reservedArtifactPrefixes: [] };

/** What a model URI names: `models:/name/3` a version, `models:/name@alias` an alias, `models:/name/latest` the alias `latest`. */
export type ModelUri = { readonly name: string; readonly alias: string } | { readonly name: string; readonly version: string };

export function parseModelUri(uri: unknown): ModelUri {
  if (typeof uri !== 'string') throw invalid('A model URI is a string such as models:/name/3 or models:/name@champion.');
  const rest = uri.replace(/^models:\/+/, '');
  const at = rest.lastIndexOf('@');
  if (at > 0 && !rest.slice(at).includes('/')) return { name: rest.slice(0, at), alias: rest.slice(at + 1) };
  const slash = rest.lastIndexOf('/');
  if (slash <= 0) throw invalid(`Invalid model URI '${uri}': expected models:/<name>/<version> or models:/<name>@<alias>.`);
  const name = rest.slice(0, slash);
  const ref = rest.slice(slash + 1);
  return ref.toLowerCase() === 'latest' ? { name, alias: 'latest' } : { name, version: ref };
}

/** The registered model a model URI names; undefined when it is no model URI (resolving it then answers the 400). */
export function modelUriName(uri: unknown): string | undefined {
  try {
    return parseModelUri(uri).name;
  } catch {
    return undefined;
  }
}

/**
 * The model registry: registered models, versions (registered from runs, logged models or artifact URIs), tags,
 * stages, aliases and the history of every change. A new version is PENDING_REGISTRATION until its files have
 * been inspected, then READY or FAILED_REGISTRATION with a message; registering waits for the inspection up to
 * `inspectionWaitMs`, and a slower one finishes in the background.
 */
export class RegistryService {
  private readonly inflight = new Set<Promise<void>>();
  readonly options: RegistryOptions;

  /** Finds projects by name (set by registerResolvers; none: only the default project exists). */
  private resources: ResourceDirectory | undefined;

  constructor(
    private readonly store: RegistryStore,
    private readonly promotions: PromotionStore,
    private readonly events: RegistryEvents,
    private readonly tracking: TrackingService,
    private readonly inspector: VersionInspector,
    private readonly now: () => number = Date.now,
    private readonly onError: (e: unknown, what: string) => void = () => {},
    options: Partial<RegistryOptions> = {},
  ) {
    const wait = options.inspectionWaitMs ?? DEFAULT_REGISTRY_OPTIONS.inspectionWaitMs;
    if (!Number.isFinite(wait) || wait < 0) throw new Error(`registry option inspectionWaitMs must be a non-negative number, got ${wait}`);
    this.options = Object.freeze({ inspectionWaitMs: wait, reservedArtifactPrefixes: options.reservedArtifactPrefixes ?? [] });
  }

  /** The SQL condition that keeps a search of models or versions to what the caller may read (none: everything). */
  private readableModels() {
    return readCondition(registeredModelReadFilter(), 'registered_models.project_id', 'registered_models.name', (s) => s);
  }

  /** Who owns a registered model (for the route rules), and whether a project still holds one. */
  registerResolvers(resources: ResourceDirectory): void {
    this.resources = resources;
    resources.register('registered-model', async (name) => {
      const r = await this.store.modelRow(name);
      return r ? { projectId: Number(r.project_id), registeredModel: r.name } : undefined;
    });
    resources.registerUsage(async (projectId) => this.store.projectHoldsModels(projectId));
  }

  // ------------------------------------------------------------------ registered models
  async createModel(input: CreateModelInput, actor: Actor = SYSTEM): Promise<RegisteredModel> {
    const name = validateModelName(input.name);
    const description = validateDescription(input.description);
    const tags = dedupeTags((input.tags ?? []).map((t) => validateRegistryTag(t.key, t.value)));
    const projectId = this.resources ? await this.resources.projectId(input.project) : DEFAULT_PROJECT_ID;
    const now = this.now();
    try {
      await this.events.tx(async (trx, record) => {
        const pk = await this.store.insertModel(trx, { name, description: description ?? null, user_id: actor.user, creation_time: now, last_update_time: now, project_id: projectId }, tags);
        await record({ modelPk: pk, kind: 'model_created', actor: actor.user, time: now });
      });
    } catch (e) {
      if (this.store.isUniqueViolation(e)) throw alreadyExists(`Registered Model (name=${name}) already exists.`);
      throw e;
    }
    return this.getModel(name);
  }

  async getModel(name: string): Promise<RegisteredModel> {
    return (await this.store.loadModels([await this.requireModel(name)]))[0]!;
  }

  async renameModel(name: string, newName: string, actor: Actor = SYSTEM): Promise<RegisteredModel> {
    return this.updateModel(name, { newName }, actor);
  }

  /** Renames a model and/or changes its description (null clears it), in one transaction (both or neither). */
  async updateModel(name: string, patch: { newName?: string; description?: string | null }, actor: Actor = SYSTEM): Promise<RegisteredModel> {
    const row = await this.requireModel(name);
    const to = patch.newName === undefined ? undefined : validateModelName(patch.newName, 'new_name');
    const description = patch.description === undefined ? undefined : (validateDescription(patch.description) ?? null);
    const pk = Number(row.model_pk);
    const now = this.now();
    try {
      await this.events.tx(async (trx, record) => {
        if (!(await this.store.lockModel(trx, pk, now))) throw notFound(`Registered Model with name=${name} not found`);
        const current = (await this.store.modelRowByPk(pk, trx))!;
        if (to !== undefined && to !== current.name) {
          await this.store.updateModel(trx, pk, { name: to });
          await record({ modelPk: pk, kind: 'model_renamed', actor: actor.user, time: now, details: { from: current.name, to } });
        }
        if (description !== undefined) await this.store.updateModel(trx, pk, { description });
      });
    } catch (e) {
      if (this.store.isUniqueViolation(e)) throw alreadyExists(`Registered Model (name=${to}) already exists.`);
      throw e;
    }
    return this.modelAfterChange(pk, to ?? row.name);
  }

  async deleteModel(name: string): Promise<void> {
    const row = await this.requireModel(name);
    await this.store.deleteModel(Number(row.model_pk), this.now());
  }

  async searchModels(input: SearchInput): Promise<Page<RegisteredModel>> {
    const limit = validateMaxResults(input.maxResults, 100, 1000);
    const offset = offsetFromPageToken(input.pageToken);
    const where = compileModelFilter(input.filter);
    const order = compileModelOrder(input.orderBy);
    let inProject: RawBuilder<boolean> | undefined;
    if (input.project !== undefined) {
      const id = this.resources ? await this.resources.findProject(input.project) : input.project === DEFAULT_PROJECT ? DEFAULT_PROJECT_ID : undefined;
      if (id === undefined) return { items: [] };
      inProject = sql<boolean>`registered_models.project_id = ${id}`;
    }
    const rows = await this.store.searchModels(and(and(where, inProject), this.readableModels()), order, offset, limit + 1);
    return offsetPage(rows, limit, offset, (r) => this.store.loadModels(r));
  }

  async setModelTag(name: string, key: string, value: string): Promise<void> {
    const row = await this.requireModel(name);
    const tag = validateRegistryTag(key, value);
    await this.events.audited(async (trx, audit) => {
      await this.store.upsertTags(trx, 'registered_model_tags', { model_pk: Number(row.model_pk) }, [tag]);
      await this.store.updateModel(trx, Number(row.model_pk), { last_update_time: this.now() });
      audit({ action: 'registry.model_tag_set', resourceType: 'registered-model', resourceId: row.name, details: { key: tag.key } });
    });
  }

  async deleteModelTag(name: string, key: string): Promise<void> {
    const row = await this.requireModel(name);
    validateRegistryTag(key, '');
    await this.events.audited(async (trx, audit) => {
      if (!(await this.store.deleteModelTag(Number(row.model_pk), key, trx))) throw notFound(`No tag with key '${key}' on registered model '${row.name}'.`);
      audit({ action: 'registry.model_tag_deleted', resourceType: 'registered-model', resourceId: row.name, details: { key } });
    });
  }

  /** The latest version in each of the given stages (all stages when none are given). */
  async getLatestVersions(name: string, stages?: readonly string[]): Promise<ModelVersion[]> {
    const row = await this.requireModel(name);
    const wanted = stages && stages.length ? stages.map(parseStage) : undefined;
    return this.store.loadVersions(await this.store.latestVersionRows([Number(row.model_pk)], wanted));
  }

  // ------------------------------------------------------------------ versions
  async createVersion(input: CreateVersionInput, actor: Actor = SYSTEM): Promise<ModelVersion> {
    const model = await this.requireModel(validateModelName(input.name));
    if (typeof input.source !== 'string' || input.source.trim() === '') throw invalid(`Missing value for required parameter 'source'.`);
    if (input.source.length > REGISTRY_LIMITS.maxSourceLength) throw invalid(`The source is longer than ${REGISTRY_LIMITS.maxSourceLength} characters.`);
    const description = validateDescription(input.description);
    const tags = dedupeTags((input.tags ?? []).map((t) => validateRegistryTag(t.key, t.value)));
    const resolved = await resolveVersionSource({ tracking: this.tracking, loggedModels: this.tracking.loggedModels, resolveModelUri: (uri) => this.resolveModelUri(uri), reservedArtifactPrefixes: this.options.reservedArtifactPrefixes }, input.source, input.runId, input.modelId);
    if (input.runLink !== undefined && typeof input.runLink !== 'string') throw invalid(`Invalid value for parameter 'run_link': expected a string.`);
    const now = this.now();
    const version = await this.events.tx(async (trx, record) => {
      const pk = Number(model.model_pk);
      const v = await this.store.takeVersionNumber(trx, pk);
      await this.store.insertVersion(
        trx,
        {
          model_pk: pk,
          version: v,
          creation_time: now,
          last_update_time: now,
          user_id: actor.user,
          description: description ?? null,
          current_stage: 'None',
          source: input.source,
          storage_location: resolved.storageLocation,
          run_id: resolved.runId ?? null,
          run_link: input.runLink ?? null,
          logged_model_id: resolved.loggedModelId ?? null,
          status: 'PENDING_REGISTRATION',
          status_message: null,
          servable: 0,
          package: null,
        },
        tags,
      );
      await this.store.updateModel(trx, pk, { last_update_time: now });
      await record({ modelPk: pk, version: v, kind: 'version_created', actor: actor.user, time: now, details: { source: input.source, run_id: resolved.runId ?? null } });
      return v;
    });
    const wait = this.options.inspectionWaitMs;
    if (wait === 0) {
      // Never waits: the answer is the version as registered, PENDING_REGISTRATION.
      const registered = await this.versionAfterChange(Number(model.model_pk), version, model.name);
      this.scheduleInspection(Number(model.model_pk), version, resolved.storageLocation);
      return registered;
    }
    await settledWithin(this.scheduleInspection(Number(model.model_pk), version, resolved.storageLocation), wait);
    return this.versionAfterChange(Number(model.model_pk), version, model.name);
  }

  async getVersion(name: string, version: string | number): Promise<ModelVersion> {
    return (await this.store.loadVersions([await this.requireVersion(name, version)]))[0]!;
  }

  /**
   * Changes a version's description and/or MLflow stage in one transaction (`archiveExisting` archives the other
   * versions in that stage, as MLflow does).
   */
  async updateVersion(
    name: string,
    version: string | number,
    patch: { description?: string | null; stage?: string; archiveExisting?: boolean },
    actor: Actor = SYSTEM,
  ): Promise<ModelVersion> {
    const row = await this.requireVersion(name, version);
    const description = patch.description === undefined ? undefined : (validateDescription(patch.description) ?? null);
    const stage = patch.stage === undefined ? undefined : parseStage(patch.stage);
    const pk = Number(row.model_pk);
    const v = Number(row.version);
    const now = this.now();
    await this.events.tx(async (trx, record) => {
      await this.store.lockModel(trx, pk, now);
      const current = await this.store.versionRow(pk, v, trx);
      if (!current) throw notFound(`Model Version (name=${row.name}, version=${v}) not found`);
      if (description !== undefined) await this.store.updateVersion(trx, pk, v, { description, last_update_time: now });
      if (stage !== undefined) {
        if (patch.archiveExisting && (stage === 'Staging' || stage === 'Production')) {
          await trx
            .updateTable('model_versions')
            .set({ current_stage: 'Archived', last_update_time: now })
            .where('model_pk', '=', pk)
            .where('current_stage', '=', stage)
            .where('version', '!=', v)
            .execute();
        }
        await this.store.updateVersion(trx, pk, v, { current_stage: stage, last_update_time: now });
        await record({ modelPk: pk, version: v, kind: 'stage_transitioned', actor: actor.user, time: now, details: { from: current.current_stage, to: stage, archive_existing_versions: patch.archiveExisting === true } });
      }
    });
    return this.versionAfterChange(pk, v, row.name);
  }

  /**
   * Deletes a version in one transaction: its aliases and tags go with it, its promotion requests still awaiting
   * approval are rejected, and the history (so the event log) says all of it: each alias removed, each request
   * rejected, then the deletion.
   */
  async deleteVersion(name: string, version: string | number, actor: Actor = SYSTEM): Promise<void> {
    const row = await this.requireVersion(name, version);
    const pk = Number(row.model_pk);
    const v = Number(row.version);
    const now = this.now();
    const why = `version ${v} was deleted`;
    await this.events.tx(async (trx, record) => {
      await this.store.lockModel(trx, pk, now);
      const aliases = await this.store.aliasesOfVersion(trx, pk, v);
      const rejected = await this.promotions.rejectPendingRequests(trx, pk, v, actor.user, now, why);
      if (!(await this.store.deleteVersion(trx, pk, v))) throw notFound(`Model Version (name=${row.name}, version=${v}) not found`);
      for (const alias of aliases) await record({ modelPk: pk, version: v, kind: 'alias_deleted', alias, actor: actor.user, time: now, reason: why });
      for (const r of rejected) await record({ modelPk: pk, version: v, kind: 'promotion_rejected', alias: r.alias, actor: actor.user, time: now, reason: why, details: { request_id: r.id } });
      await record({ modelPk: pk, version: v, kind: 'version_deleted', actor: actor.user, time: now });
    });
  }

  /** Versions across models, or of one model (`model`: its versions only, whatever the filter says). */
  async searchVersions(input: SearchInput & { readonly model?: string }): Promise<Page<ModelVersion>> {
    const limit = validateMaxResults(input.maxResults, 10_000, 200_000);
    const offset = offsetFromPageToken(input.pageToken);
    const model = input.model === undefined ? undefined : (await this.requireModel(input.model)).name;
    const where = compileVersionFilter(input.filter, model === undefined ? undefined : { model });
    const order = compileVersionOrder(input.orderBy);
    const rows = await this.store.searchVersions(and(where, this.readableModels()), order, offset, limit + 1);
    return offsetPage(rows, limit, offset, (r) => this.store.loadVersions(r));
  }

  async setVersionTag(name: string, version: string | number, key: string, value: string): Promise<void> {
    const row = await this.requireVersion(name, version);
    const tag = validateRegistryTag(key, value);
    await this.events.audited(async (trx, audit) => {
      await this.store.upsertTags(trx, 'model_version_tags', { model_pk: Number(row.model_pk), version: Number(row.version) }, [tag]);
      await this.store.updateVersion(trx, Number(row.model_pk), Number(row.version), { last_update_time: this.now() });
      audit({ action: 'registry.version_tag_set', resourceType: 'registered-model', resourceId: row.name, details: { version: Number(row.version), key: tag.key } });
    });
  }

  async deleteVersionTag(name: string, version: string | number, key: string): Promise<void> {
    const row = await this.requireVersion(name, version);
    validateRegistryTag(key, '');
    await this.events.audited(async (trx, audit) => {
      if (!(await this.store.deleteVersionTag(Number(row.model_pk), Number(row.version), key, trx))) throw notFound(`No tag with key '${key}' on version ${row.version} of '${row.name}'.`);
      audit({ action: 'registry.version_tag_deleted', resourceType: 'registered-model', resourceId: row.name, details: { version: Number(row.version), key } });
    });
  }

  async getDownloadUri(name: string, version: string | number): Promise<string> {
    return (await this.requireVersion(name, version)).storage_location;
  }

  /** MLflow stages (deprecated there, kept for older clients); `archiveExisting` archives the others in that stage. */
  async transitionStage(name: string, version: string | number, stage: string, archiveExisting: boolean, actor: Actor = SYSTEM): Promise<ModelVersion> {
    return this.updateVersion(name, version, { stage, archiveExisting }, actor);
  }

  // ------------------------------------------------------------------ aliases
  /**
   * Points an alias at a version; refused when a promotion policy guards the alias (it moves through promotions).
   * Returns the version as it is once the change is committed.
   */
  async setAlias(name: string, alias: string, version: string | number, actor: Actor = SYSTEM, reason?: string): Promise<ModelVersion> {
    const a = validateAlias(alias);
    const row = await this.requireVersion(name, version);
    const pk = Number(row.model_pk);
    const v = Number(row.version);
    const now = this.now();
    await this.events.tx(async (trx, record) => {
      await this.store.lockModel(trx, pk, now);
      // Checked under the model's lock: a policy set concurrently either comes first (and refuses this) or after.
      await this.refuseGuarded(trx, pk, row.name, a);
      const current = await this.store.versionRow(pk, v, trx);
      if (!current) throw notFound(`Model Version (name=${row.name}, version=${v}) not found`);
      refuseNotReady(current, `point alias '${a}' at version ${v}`);
      const previous = await this.store.aliasVersion(pk, a, trx);
      await this.store.setAlias(trx, pk, a, v);
      await record({ modelPk: pk, version: v, kind: 'alias_set', alias: a, actor: actor.user, time: now, reason: reason ?? null, details: { previous_version: previous ?? null } });
    });
    return this.versionAfterChange(pk, v, row.name);
  }

  async deleteAlias(name: string, alias: string, actor: Actor = SYSTEM, reason?: string): Promise<void> {
    const model = await this.requireModel(name);
    const a = typeof alias === 'string' ? alias : validateAlias(alias);
    const pk = Number(model.model_pk);
    const now = this.now();
    const deleted = await this.events.tx(async (trx, record) => {
      await this.store.lockModel(trx, pk, now);
      await this.refuseGuarded(trx, pk, model.name, a);
      const previous = await this.store.aliasVersion(pk, a, trx);
      if (previous === undefined) return false;
      await this.store.deleteAlias(trx, pk, a);
      await record({ modelPk: pk, version: previous, kind: 'alias_deleted', alias: a, actor: actor.user, time: now, reason: reason ?? null });
      return true;
    });
    if (!deleted) throw notFound(`Registered model alias ${a} not found on '${model.name}'.`);
  }

  async getVersionByAlias(name: string, alias: string): Promise<ModelVersion> {
    if (typeof alias !== 'string' || alias === '') throw invalid(`Missing value for required parameter 'alias'.`);
    if (alias.toLowerCase() !== 'latest' && typeof name === 'string') {
      const row = await this.store.versionByAlias(name, alias);
      if (row) return (await this.store.loadVersions([row]))[0]!;
    }
    const model = await this.requireModel(name);
    if (alias.toLowerCase() !== 'latest') throw notFound(`Registered model alias ${alias} not found on '${model.name}'.`);
    const v = await this.store.latestVersionNumber(Number(model.model_pk), 'READY');
    if (v === undefined) {
      const newest = await this.store.latestVersionNumber(Number(model.model_pk));
      if (newest === undefined) throw notFound(`'${model.name}' has no versions, so no latest one.`);
      const row = (await this.store.versionRow(Number(model.model_pk), newest))!;
      throw notFound(`'${model.name}' has no READY version: the newest, version ${newest}, is ${row.status}${row.status_message ? ` (${row.status_message})` : ''}.`);
    }
    return this.getVersion(model.name, v);
  }

  /**
   * Resolves `models:/<name>/<version>`, `models:/<name>@<alias>`, `models:/<name>/latest` (and the same without
   * the scheme) to a version. `latest` is the newest READY version: one that failed registration, or is still being
   * inspected, is never the latest one to use.
   */
  async resolveModelUri(uri: string): Promise<ModelVersion> {
    const r = parseModelUri(uri);
    return 'alias' in r ? this.getVersionByAlias(r.name, r.alias) : this.getVersion(r.name, r.version);
  }

  /** The versions registered from these runs (lineage: run → model version). */
  async versionsOfRuns(runIds: readonly string[]): Promise<{ name: string; version: string; runId: string; status: string; stage: string; servable: boolean }[]> {
    return this.store.versionsOfRuns(runIds);
  }

  // ------------------------------------------------------------------ history
  async history(name: string, opts: { afterId?: number; maxResults?: number } = {}): Promise<ModelEvent[]> {
    const row = await this.requireModel(name);
    const limit = validateMaxResults(opts.maxResults, 1000, 10_000);
    return this.store.events(Number(row.model_pk), row.name, opts.afterId ?? 0, limit);
  }

  // ------------------------------------------------------------------ inspection
  /** Resolves when every inspection started so far has finished (tests, shutdown). */
  async whenSettled(): Promise<void> {
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
  }

  /** Inspects the versions a stopped server left PENDING_REGISTRATION. */
  async resumePending(): Promise<number> {
    const rows = await this.store.pendingVersions();
    for (const r of rows) this.scheduleInspection(Number(r.model_pk), Number(r.version), r.storage_location);
    return rows.length;
  }

  /** Starts inspecting a version; the promise settles (never rejects) when its outcome is recorded. */
  private scheduleInspection(modelPk: number, version: number, location: string): Promise<void> {
    const p = this.inspectNow(modelPk, version, location)
      .catch((e) => this.onError(e, `inspecting version ${version}`))
      .finally(() => this.inflight.delete(p));
    this.inflight.add(p);
    return p;
  }

  private async inspectNow(modelPk: number, version: number, location: string): Promise<void> {
    let outcome: InspectionOutcome;
    try {
      outcome = await this.inspector.inspect(location);
    } catch (e) {
      const message = e instanceof KilnError ? e.message : `Inspecting the model files failed: ${e instanceof Error ? e.message : String(e)}`;
      outcome = { status: 'FAILED_REGISTRATION', statusMessage: message, servable: false, package: {} };
    }
    const now = this.now();
    await this.events.tx(async (trx, record) => {
      // Under the model's lock like every change with a history entry: the entries of one model then take their ids
      // in commit order, so a reader paging the history by id (or the event log) never sees a later one first.
      if (!(await this.store.lockModel(trx, modelPk))) return;
      // Only the first outcome counts (a version resumed by two replicas after a restart is inspected twice).
      if (!(await this.store.setStatus(trx, modelPk, version, outcome.status, outcome.statusMessage ?? null, outcome.servable, JSON.stringify(outcome.package), now))) return;
      await record({
        modelPk,
        version,
        kind: outcome.status === 'READY' ? 'version_ready' : 'version_failed',
        actor: SYSTEM.user,
        time: now,
        reason: outcome.statusMessage ?? null,
        details: { servable: outcome.servable },
      });
    });
  }

  // ------------------------------------------------------------------ helpers
  /** An alias with a promotion policy moves only through a promotion (registry/promotions.ts). */
  private async refuseGuarded(trx: Transaction<RegistryTables>, modelPk: number, name: string, alias: string): Promise<void> {
    if (await this.promotions.policy(modelPk, alias, trx)) {
      throw new KilnError(
        'PERMISSION_DENIED',
        `Alias '${alias}' of '${name}' is guarded by a promotion policy: move it with \`kiln models promote ${name} <version> --alias ${alias}\` (POST /api/v1/models/{name}/versions/{version}/promote), which checks the policy's gates.`,
      );
    }
  }

  /**
   * A model as it is after a change was committed, found by key: a rename committed meanwhile must not turn the
   * answer to a change that was made into a 404 for the name the request used.
   */
  private async modelAfterChange(modelPk: number, name: string): Promise<RegisteredModel> {
    const row = await this.store.modelRowByPk(modelPk);
    if (!row) throw notFound(`Registered Model with name=${name} not found`);
    return (await this.store.loadModels([row]))[0]!;
  }

  /** A version as it is after a change was committed, found by key (see modelAfterChange). */
  private async versionAfterChange(modelPk: number, version: number, name: string): Promise<ModelVersion> {
    const row = await this.store.versionRow(modelPk, version);
    if (!row) throw notFound(`Model Version (name=${name}, version=${version}) not found`);
    return (await this.store.loadVersions([row]))[0]!;
  }

  async requireModel(name: string): Promise<ModelRow> {
    if (typeof name !== 'string' || name === '') throw invalid(`Missing value for required parameter 'name'.`);
    const row = await this.store.modelRow(name);
    if (!row) throw notFound(`Registered Model with name=${name} not found`);
    return row;
  }

  async requireVersion(name: string, version: string | number): Promise<VersionRow> {
    const v = parseVersion(version);
    const model = await this.requireModel(name);
    const row = await this.store.versionRow(Number(model.model_pk), v);
    if (!row) throw notFound(`Model Version (name=${model.name}, version=${v}) not found`);
    return row;
  }
}

/** Waits for `p` at most `ms` milliseconds; true when it settled in time. */
async function settledWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([p.then(() => true as const), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Both conditions (either may be absent). */
function and(a: RawBuilder<boolean> | undefined, b: RawBuilder<boolean> | undefined): RawBuilder<boolean> | undefined {
  return a && b ? sql<boolean>`(${a}) AND (${b})` : (a ?? b);
}
