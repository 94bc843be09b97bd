/**
 * Deployments: named, versioned configurations of what serves a model. Every change is a new revision (who, when,
 * why, the configuration and the versions it resolved to), written in one transaction with its event, so serving
 * processes (this one and `kiln serve` replicas) pick it up, and any earlier revision can be restored in one call.
 */
import type { Actor } from '../platform/actor.js';
import { currentAccess, roleOn } from '../platform/auth/access.js';
import type { ResourceDirectory } from '../platform/auth/resources.js';
import { KilnError, alreadyExists, invalid, isKilnError, notFound } from '../platform/errors.js';
import type { EventLog } from '../platform/events/log.js';
import { offsetFromPageToken, offsetPage, validateMaxResults, type Page } from '../platform/pagination.js';
import type { RegistryService } from '../registry/service.js';
import type { ModelVersion } from '../registry/types.js';
import { checkConfig, followedAlias, mergeConfig, modelNameOfUri, validateDeploymentName, type DeploymentConfig, type DeploymentConfigInput } from './config.js';
import type { CurrentRow, RevisionRow, ServingStore } from './store.js';
import type { Resolved } from '@kiln-mlops/sdk/contract/serving-schemas';

export const SERVING_EVENT = 'serving.deployment_changed';
export const SERVING_DELETED_EVENT = 'serving.deployment_deleted';

/** The server's own changes (an alias followed, a guard tripped). */
const SYSTEM_ACTOR: Actor = { user: 'kiln' };

export type RevisionKind = 'created' | 'updated' | 'rolled_back' | 'alias_moved' | 'guard_tripped';

export interface Deployment {
  /** Its key in the serving tables (payload records carry it). */
  readonly id: number;
  readonly name: string;
  readonly projectId: number;
  readonly description: string | null;
  readonly revision: number;
  readonly config: DeploymentConfig;
  readonly resolved: Resolved;
  readonly createdBy: string;
  readonly creationTime: number;
  readonly lastUpdateTime: number;
}

export interface Revision {
  readonly revision: number;
  readonly kind: RevisionKind;
  readonly config: DeploymentConfig;
  readonly resolved: Resolved;
  readonly actor: string;
  readonly reason: string | null;
  readonly time: number;
}

/** Why a registered model version can't be served, or undefined when it can. */
export function notServableReason(v: ModelVersion): string | undefined {
  if (v.status !== 'READY') return `version ${v.version} of '${v.name}' is ${v.status}${v.statusMessage ? ` (${v.statusMessage})` : ''}`;
  if (!v.servable || !v.package?.onnx) return `version ${v.version} of '${v.name}' is not servable: ${v.package?.not_servable_reason ?? v.statusMessage ?? 'it is not an ONNX model Kiln loaded'}`;
  return undefined;
}

export class DeploymentService {
  private readonly listeners = new Set<(name: string) => void>();

  constructor(
    private readonly store: ServingStore,
    private readonly events: EventLog,
    private readonly registry: RegistryService,
    private readonly resources: ResourceDirectory,
    private readonly now: () => number,
  ) {}

  /** Calls `fn` with a deployment's name after each committed change of it (in this process). */
  onChange(fn: (name: string) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  registerResolvers(): void {
    this.resources.register('deployment', async (name) => {
      const p = await this.store.deploymentProject(name);
      return p === undefined ? undefined : { projectId: p };
    });
    this.resources.registerUsage((projectId) => this.store.projectHoldsDeployments(projectId));
  }

  // ------------------------------------------------------------------ reads

  async get(name: string): Promise<Deployment> {
    const row = await this.store.deployment(name);
    if (!row) throw notFound(`Deployment '${name}' does not exist.`);
    return toDeployment(row);
  }

  async find(name: string): Promise<Deployment | undefined> {
    const row = await this.store.deployment(name);
    return row ? toDeployment(row) : undefined;
  }

  async list(input: { maxResults?: number; pageToken?: string; project?: string } = {}): Promise<Page<Deployment>> {
    const limit = validateMaxResults(input.maxResults, 100, 1000);
    const offset = offsetFromPageToken(input.pageToken);
    let project: number | undefined;
    if (input.project !== undefined) {
      project = await this.resources.findProject(input.project);
      if (project === undefined) return { items: [] };
    }
    const rows = await this.store.list(offset, limit + 1, project);
    return offsetPage(rows, limit, offset, async (r) => r.map(toDeployment));
  }

  /** Every deployment with its configuration in force (what a serving process routes by). */
  async all(): Promise<Deployment[]> {
    return (await this.store.all()).map(toDeployment);
  }

  async history(name: string): Promise<Revision[]> {
    const row = await this.store.deployment(name);
    if (!row) throw notFound(`Deployment '${name}' does not exist.`);
    return (await this.store.revisions(Number(row.deployment_pk))).map(toRevision);
  }

  // ------------------------------------------------------------------ changes

  async create(input: { name: string; description?: string; reason?: string } & DeploymentConfigInput, actor: Actor): Promise<Deployment> {
    const name = validateDeploymentName(input.name);
    const config = mergeConfig(undefined, input);
    const resolved = await this.resolve(config, true);
    // The deployment belongs to the project of the model it serves first.
    const owner = await this.resources.resolve('registered-model', resolved.targets[0]!.name);
    const projectId = owner?.projectId ?? 0;
    const now = this.now();
    try {
      await this.events.transaction(this.store.db, async (trx, emit) => {
        const pk = await this.store.insertDeployment(trx, { name, project_id: projectId, description: input.description ?? null, revision: 1, created_by: actor.user, creation_time: now, last_update_time: now });
        await this.store.insertRevision(trx, { deployment_pk: pk, revision: 1, kind: 'created', config: JSON.stringify(config), resolved: JSON.stringify(resolved), actor: actor.user, reason: input.reason ?? null, time: now });
        emit({ type: SERVING_EVENT, actor: actor.user, time: now, subject: name, subjectKind: 'deployment', data: { name, revision: 1, kind: 'created', config, resolved } });
      });
    } catch (e) {
      if (this.store.isUniqueViolation(e)) throw alreadyExists(`Deployment '${name}' already exists.`);
      throw e;
    }
    this.changed(name);
    return this.get(name);
  }

  async update(name: string, input: { description?: string; reason?: string } & DeploymentConfigInput, actor: Actor): Promise<Deployment> {
    const row = await this.require(name);
    const config = mergeConfig(parseConfig(row.config), input);
    const resolved = await this.resolve(config, true);
    await this.commit(row, 'updated', config, resolved, actor, input.reason ?? null, input.description);
    return this.get(name);
  }

  /**
   * Restores revision `to` (default: the one before the one in force) as a new revision. Where the restored
   * configuration follows an alias that has moved since, the version that revision served is pinned, so the
   * rollback serves exactly what it served then (update `model` to follow the alias again).
   */
  async rollback(name: string, to: number | undefined, actor: Actor, reason?: string): Promise<Deployment> {
    const row = await this.require(name);
    const target = to ?? Number(row.revision) - 1;
    if (!Number.isSafeInteger(target) || target < 1) throw invalid(`Deployment '${name}' is at its first revision: there is nothing earlier to roll back to.`);
    if (target === Number(row.revision)) throw invalid(`Revision ${target} is the one in force already.`);
    const old = await this.store.revision(Number(row.deployment_pk), target);
    if (!old) throw notFound(`Deployment '${name}' has no revision ${target} (it is at revision ${row.revision}).`);
    const oldConfig = parseConfig(old.config);
    const oldResolved = JSON.parse(old.resolved) as Resolved;
    // What the revision's URIs name today (an alias deleted since names nothing: its version is pinned too).
    const now = await this.resolve(oldConfig, false).catch((): Resolved => ({ targets: oldResolved.targets.map((t) => ({ ...t, version: -1 })), shadow: oldResolved.shadow ? { ...oldResolved.shadow, version: -1 } : null }));
    const pinned: string[] = [];
    const config: DeploymentConfig = {
      ...oldConfig,
      targets: oldConfig.targets.map((t, i) => {
        const then = oldResolved.targets[i]!;
        if (now.targets[i]!.version === then.version) return t;
        pinned.push(`${t.model} → version ${then.version}`);
        return { model: `models:/${then.name}/${then.version}`, weight: t.weight };
      }),
      shadow: oldConfig.shadow && oldResolved.shadow && now.shadow && now.shadow.version !== oldResolved.shadow.version ? { model: `models:/${oldResolved.shadow.name}/${oldResolved.shadow.version}`, fraction: oldConfig.shadow.fraction } : oldConfig.shadow,
    };
    checkConfig(config);
    const resolved = await this.resolve(config, true);
    const why = reason ?? `rolled back to revision ${target}${pinned.length > 0 ? ` (pinned: ${pinned.join(', ')})` : ''}`;
    await this.commit(row, 'rolled_back', config, resolved, actor, why);
    return this.get(name);
  }

  async delete(name: string, actor: Actor): Promise<void> {
    const row = await this.require(name);
    const now = this.now();
    await this.events.transaction(this.store.db, async (trx, emit) => {
      await this.store.deleteDeployment(trx, Number(row.deployment_pk));
      emit({ type: SERVING_DELETED_EVENT, actor: actor.user, time: now, subject: name, subjectKind: 'deployment', data: { name } });
    });
    this.changed(name);
  }

  /** The canary guard took a candidate out: its weight drops to 0, recorded as a revision by the system. */
  async tripGuard(name: string, revision: number, target: number, reason: string): Promise<boolean> {
    const row = await this.store.deployment(name);
    if (!row || Number(row.revision) !== revision) return false;
    const config = parseConfig(row.config);
    if (!config.targets[target] || config.targets[target].weight === 0) return false;
    const next: DeploymentConfig = { ...config, targets: config.targets.map((t, i) => (i === target ? { ...t, weight: 0 } : t)) };
    const resolved = JSON.parse(row.resolved) as Resolved;
    resolved.targets[target] = { ...resolved.targets[target]!, weight: 0 };
    return this.commit(row, 'guard_tripped', next, resolved, SYSTEM_ACTOR, reason).then(
      () => true,
      (e) => {
        if (isKilnError(e) && e.code === 'INVALID_STATE') return false;
        throw e;
      },
    );
  }

  /**
   * Rolls deployments that follow an alias (or `latest`) forward: each one whose URIs now resolve to other servable
   * versions gets a new revision (the serving processes warm the versions, then switch). A version that can't be
   * served is not rolled to: the deployment stays where it is, and the reason is returned. Compares states, so
   * running it twice (two servers, a repeated event) changes nothing the second time.
   */
  async reconcile(): Promise<{ moved: string[]; refused: string[] }> {
    const moved: string[] = [];
    const refused: string[] = [];
    for (const row of await this.store.all()) {
      const config = parseConfig(row.config);
      const uris = [...config.targets.map((t) => t.model), ...(config.shadow ? [config.shadow.model] : [])];
      if (!uris.some((u) => followedAlias(u) !== undefined)) continue;
      let resolved: Resolved;
      try {
        resolved = await this.resolve(config, true);
      } catch (e) {
        refused.push(`${row.name}: ${(e as Error).message}`);
        continue;
      }
      const before = JSON.parse(row.resolved) as Resolved;
      if (sameVersions(before, resolved)) continue;
      const what = resolved.targets
        .map((t, i) => (before.targets[i]?.version !== t.version ? `${t.model}: version ${before.targets[i]?.version} → ${t.version}` : undefined))
        .filter((x) => x !== undefined);
      if (resolved.shadow && before.shadow?.version !== resolved.shadow.version) what.push(`shadow ${resolved.shadow.model}: version ${before.shadow?.version} → ${resolved.shadow.version}`);
      try {
        await this.commit(row, 'alias_moved', config, resolved, SYSTEM_ACTOR, `followed: ${what.join('; ')}`);
        moved.push(row.name);
      } catch (e) {
        if (!(isKilnError(e) && e.code === 'INVALID_STATE')) throw e;
      }
    }
    return { moved, refused };
  }

  // ------------------------------------------------------------------ internals

  /** Each model URI of the configuration resolved to a version the caller may read and Kiln can serve. */
  async resolve(config: DeploymentConfig, requireServable: boolean): Promise<Resolved> {
    const one = async (uri: string) => {
      const name = modelNameOfUri(uri);
      if (name === undefined) throw invalid(`Invalid model URI '${uri}': use models:/NAME@ALIAS, models:/NAME/VERSION or models:/NAME/latest.`);
      const owner = await this.resources.resolve('registered-model', name);
      const access = currentAccess();
      if (!owner || roleOn(access, owner.projectId, access.all ? undefined : access.registeredModels.get(name)) === undefined) throw notFound(`Registered model '${name}' does not exist.`);
      let v: ModelVersion;
      try {
        v = await this.registry.resolveModelUri(uri);
      } catch (e) {
        if (isKilnError(e) && e.status < 500) throw new KilnError(e.code, `Can't deploy ${uri}: ${e.message}`);
        throw e;
      }
      if (requireServable) {
        const why = notServableReason(v);
        if (why) throw invalid(`Can't deploy ${uri}: ${why}.`);
      }
      return v;
    };
    const targets = [];
    for (const t of config.targets) {
      const v = await one(t.model);
      targets.push({ model: t.model, name: v.name, version: Number(v.version), weight: t.weight });
    }
    let shadow: Resolved['shadow'] = null;
    if (config.shadow) {
      const v = await one(config.shadow.model);
      shadow = { model: config.shadow.model, name: v.name, version: Number(v.version), fraction: config.shadow.fraction };
    }
    return { targets, shadow };
  }

  private async require(name: string): Promise<CurrentRow> {
    const row = await this.store.deployment(name);
    if (!row) throw notFound(`Deployment '${name}' does not exist.`);
    return row;
  }

  private async commit(row: CurrentRow, kind: RevisionKind, config: DeploymentConfig, resolved: Resolved, actor: Actor, reason: string | null, description?: string): Promise<void> {
    const pk = Number(row.deployment_pk);
    const now = this.now();
    const name = row.name;
    await this.events.transaction(this.store.db, async (trx, emit) => {
      const next = (await this.store.maxRevision(trx, pk)) + 1;
      if (!(await this.store.advance(trx, pk, Number(row.revision), next, now, description))) {
        throw new KilnError('INVALID_STATE', `Deployment '${name}' changed meanwhile (it is past revision ${row.revision}); read it again and retry.`);
      }
      await this.store.insertRevision(trx, { deployment_pk: pk, revision: next, kind, config: JSON.stringify(config), resolved: JSON.stringify(resolved), actor: actor.user, reason, time: now });
      emit({ type: SERVING_EVENT, actor: actor.user, time: now, subject: name, subjectKind: 'deployment', data: { name, revision: next, kind, reason, old: { revision: Number(row.revision), config: parseConfig(row.config) }, config, resolved } });
    });
    this.changed(name);
  }

  private changed(name: string): void {
    for (const l of this.listeners) l(name);
  }
}

function sameVersions(a: Resolved, b: Resolved): boolean {
  if (a.targets.length !== b.targets.length) return false;
  for (let i = 0; i < a.targets.length; i++) if (a.targets[i]!.name !== b.targets[i]!.name || a.targets[i]!.version !== b.targets[i]!.version) return false;
  return (a.shadow?.name ?? null) === (b.shadow?.name ?? null) && (a.shadow?.version ?? null) === (b.shadow?.version ?? null);
}

function parseConfig(s: string): DeploymentConfig {
  return JSON.parse(s) as DeploymentConfig;
}

function toDeployment(r: CurrentRow): Deployment {
  return {
    id: Number(r.deployment_pk),
    name: r.name,
    projectId: Number(r.project_id),
    description: r.description,
    revision: Number(r.revision),
    config: parseConfig(r.config),
    resolved: JSON.parse(r.resolved) as Resolved,
    createdBy: r.created_by,
    creationTime: Number(r.creation_time),
    lastUpdateTime: Number(r.last_update_time),
  };
}

function toRevision(r: RevisionRow): Revision {
  return { revision: Number(r.revision), kind: r.kind as RevisionKind, config: parseConfig(r.config), resolved: JSON.parse(r.resolved) as Resolved, actor: r.actor, reason: r.reason, time: Number(r.time) };
}
