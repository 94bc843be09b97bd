import type { FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import { KilnError, alreadyExists, invalid, notFound } from '../platform/errors.js';
import type { AuditLog, RecordAudit } from '../platform/audit/log.js';
import { currentContext } from '../platform/auth/context.js';
import type { Principal } from '../platform/auth/principal.js';
import { ROLES, roleAtLeast, type ResourceKind, type Role, type RouteRule } from '../platform/auth/rules.js';
import { ALL_ACCESS, DEFAULT_PROJECT, DEFAULT_PROJECT_ID, roleOn, type AccessSet, type GrantLevel } from '../platform/auth/access.js';
import type { ResourceDirectory, ResourceOwner } from '../platform/auth/resources.js';
import type { ProjectAuthorizer } from '../platform/http/auth.js';
import type { StoreAdapter } from '../platform/db/adapter.js';
import type { GovernanceTables, ProjectsTable } from './tables.js';
import { GRANT_LEVELS } from './grants.js';
import type { Selectable } from 'kysely';

export interface Project {
  readonly id: number;
  readonly name: string;
  readonly description: string | null;
  /** The role every signed-in identity has in it; null: members only. */
  readonly everyoneRole: Role | null;
  readonly createdBy: string;
  readonly creationTime: number;
  readonly lastUpdateTime: number;
}

export interface Member {
  readonly kind: 'user' | 'group';
  /** The user's or the group's name. */
  readonly name: string;
  readonly role: Role;
  readonly creationTime: number;
}


const PROJECT_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;

const toProject = (r: Selectable<ProjectsTable>): Project => ({
  id: Number(r.project_id),
  name: r.name,
  description: r.description,
  everyoneRole: isRole(r.everyone_role) ? r.everyone_role : null,
  createdBy: r.created_by,
  creationTime: Number(r.creation_time),
  lastUpdateTime: Number(r.last_update_time),
});

function isRole(v: unknown): v is Role {
  return typeof v === 'string' && (ROLES as readonly string[]).includes(v);
}

export function checkRole(v: unknown): Role {
  if (!isRole(v)) throw invalid(`role must be one of ${ROLES.join(', ')}; got ${JSON.stringify(v)}.`);
  return v;
}

function checkProjectName(v: unknown): string {
  if (typeof v !== 'string' || !PROJECT_NAME.test(v)) {
    throw invalid(`A project name is 1 to 64 characters: lower-case letters, digits, '.', '_' and '-', starting with a letter or digit; got ${JSON.stringify(v)}.`);
  }
  return v;
}

const KIND_LABEL: Record<ResourceKind, string> = {
  project: 'Project',
  experiment: 'Experiment',
  run: 'Run',
  'logged-model': 'Logged model',
  'registered-model': 'Registered model',
  dataset: 'Dataset',
  artifact: 'Artifact',
  'lineage-node': 'Lineage node',
  deployment: 'Deployment',
  monitor: 'Monitor',
};

interface CachedAccess {
  readonly access: AccessSet;
  readonly at: number;
}

/**
 * Projects and their members, the access set of each caller (the projects it reads and its role in each, plus the
 * resource grants), and the check of a route rule's project part. Access sets are kept per process for
 * `recheckMs`; a change made here drops them at once, so on another replica a change bites within `recheckMs`.
 */
export class ProjectsService implements ProjectAuthorizer {
  private readonly cache = new Map<string, CachedAccess>();

  constructor(
    private readonly db: Kysely<GovernanceTables>,
    private readonly adapter: StoreAdapter,
    private readonly audit: AuditLog,
    private readonly resources: ResourceDirectory,
    private readonly recheckMs: number,
    private readonly now: () => number = Date.now,
  ) {
    resources.register('project', async (name) => {
      const p = await this.db.selectFrom('gov_projects').select('project_id').where('name', '=', name).executeTakeFirst();
      return p ? { projectId: Number(p.project_id) } : undefined;
    });
    resources.registerProjectNames(async (id) => (await this.db.selectFrom('gov_projects').select('name').where('project_id', '=', id).executeTakeFirst())?.name);
  }

  /** Drops every cached access set (after a change of projects, members, groups or grants). */
  invalidate(): void {
    this.cache.clear();
  }

  // ------------------------------------------------------------------ access

  async accessOf(principal: Principal): Promise<AccessSet> {
    if (principal.admin) return ALL_ACCESS;
    const key = `${principal.kind}:${principal.id}:${(principal.groups ?? []).join(',')}`;
    const now = this.now();
    const hit = this.cache.get(key);
    if (hit && now - hit.at < this.recheckMs) return hit.access;
    const access = await this.computeAccess(principal);
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(key, { access, at: now });
    return access;
  }

  private async computeAccess(principal: Principal): Promise<AccessSet> {
    const userPk = principal.kind === 'user' || principal.kind === 'service' ? Number(principal.id) : undefined;
    const groups = new Set(principal.groups ?? []);
    if (userPk !== undefined) {
      for (const g of await this.db.selectFrom('gov_group_members').select('group_name').where('user_pk', '=', userPk).execute()) groups.add(g.group_name);
    }
    const projects = new Map<number, Role>();
    const raise = (id: number, role: unknown) => {
      if (!isRole(role)) return;
      const had = projects.get(id);
      if (had === undefined || !roleAtLeast(had, role)) projects.set(id, role);
    };
    if (principal.kind !== 'anonymous') {
      for (const p of await this.db.selectFrom('gov_projects').select(['project_id', 'everyone_role']).where('everyone_role', 'is not', null).execute()) raise(Number(p.project_id), p.everyone_role);
    }
    const members = await this.db
      .selectFrom('gov_members')
      .select(['project_id', 'role'])
      .where((eb) => {
        const ors = [];
        if (userPk !== undefined) ors.push(eb.and([eb('member_kind', '=', 'user'), eb('member', '=', String(userPk))]));
        if (groups.size > 0) ors.push(eb.and([eb('member_kind', '=', 'group'), eb('member', 'in', [...groups])]));
        return ors.length > 0 ? eb.or(ors) : eb.val(false);
      })
      .execute();
    for (const m of members) raise(Number(m.project_id), m.role);
    const experiments = new Map<string, GrantLevel>();
    const registeredModels = new Map<string, GrantLevel>();
    if (userPk !== undefined) {
      for (const g of await this.db.selectFrom('gov_grants').select(['resource_kind', 'resource_id', 'permission']).where('user_pk', '=', userPk).execute()) {
        const level = (GRANT_LEVELS as Readonly<Record<string, GrantLevel | undefined>>)[g.permission];
        if (level === undefined) continue;
        (g.resource_kind === 'experiment' ? experiments : registeredModels).set(g.resource_id, level);
      }
    }
    return { all: false, projects, experiments, registeredModels };
  }

  async check(_principal: Principal, access: AccessSet, rule: Extract<RouteRule, { access: 'project' }>, req: FastifyRequest): Promise<void> {
    if (access.all || rule.on === 'listed') return;
    const kind = rule.on.kind;
    const raw = rule.on.id(req);
    const ids = (Array.isArray(raw) ? raw : [raw]).filter((v) => v !== undefined && v !== null && v !== '').map(String);
    if (ids.length === 0) {
      // A project ref that names none means the default project; other kinds without an id are the handler's 400.
      if (kind !== 'project') return;
      ids.push(DEFAULT_PROJECT);
    }
    for (const id of ids) {
      const owner = await this.resources.resolve(kind, id);
      // What does not exist and what the caller may not read get the same answer, word for word.
      const role = owner === undefined ? undefined : roleOn(access, owner.projectId, grantOf(access, owner));
      if (owner === undefined || role === undefined) throw notFound(`${KIND_LABEL[kind]} '${id}' does not exist.`);
      if (!roleAtLeast(role, rule.role)) {
        throw new KilnError('PERMISSION_DENIED', `${req.method} ${req.routeOptions.url} needs the ${rule.role} role; you are ${role === 'owner' ? 'an' : 'a'} ${role} of the ${kind === 'project' ? 'project' : `${KIND_LABEL[kind].toLowerCase()}'s project`}.`);
      }
    }
  }

  // ------------------------------------------------------------------ projects

  /** The projects the caller may read (all for admins). */
  async list(access: AccessSet = currentContext()?.access ?? ALL_ACCESS): Promise<Project[]> {
    let q = this.db.selectFrom('gov_projects').selectAll().orderBy('name');
    if (!access.all) {
      const ids = [...access.projects.keys()];
      if (ids.length === 0) return [];
      q = q.where('project_id', 'in', ids);
    }
    return (await q.execute()).map(toProject);
  }

  /** A project the caller may read; 404 otherwise. */
  async get(name: string, access: AccessSet = currentContext()?.access ?? ALL_ACCESS): Promise<Project & { role: Role }> {
    const row = await this.db.selectFrom('gov_projects').selectAll().where('name', '=', name).executeTakeFirst();
    const role = row ? roleOn(access, Number(row.project_id)) : undefined;
    if (!row || role === undefined) throw notFound(`Project '${name}' does not exist.`);
    return { ...toProject(row), role };
  }

  async create(input: { name: string; description?: string | null; everyoneRole?: Role | null }, creator: Principal): Promise<Project> {
    const name = checkProjectName(input.name);
    const everyone = input.everyoneRole === undefined || input.everyoneRole === null ? null : checkRole(input.everyoneRole);
    const now = this.now();
    try {
      const project = await this.audit.transaction(this.db, async (trx, record) => {
        const r = await trx
          .insertInto('gov_projects')
          .values({ name, description: input.description ?? null, everyone_role: everyone, created_by: creator.name, creation_time: now, last_update_time: now })
          .returning('project_id')
          .executeTakeFirstOrThrow();
        const id = Number(r.project_id);
        // Whoever creates a project owns it (a user or a service account; an admin of `--auth none` needs no membership).
        if (creator.kind === 'user' || creator.kind === 'service') {
          await trx.insertInto('gov_members').values({ project_id: id, member_kind: 'user', member: creator.id, role: 'owner', creation_time: now }).execute();
        }
        record({ action: 'governance.project_created', resourceType: 'project', resourceId: name, projectId: id, details: { everyone_role: everyone } });
        return { id, name, description: input.description ?? null, everyoneRole: everyone, createdBy: creator.name, creationTime: now, lastUpdateTime: now };
      });
      this.invalidate();
      this.resources.forgetProjectNames();
      return project;
    } catch (e) {
      if (this.adapter.isUniqueViolation(e)) throw alreadyExists(`Project '${name}' already exists.`);
      throw e;
    }
  }

  async update(name: string, patch: { description?: string | null; everyoneRole?: Role | null }): Promise<Project> {
    const current = await this.get(name, ALL_ACCESS);
    const set: Partial<Selectable<ProjectsTable>> = { last_update_time: this.now() };
    if (patch.description !== undefined) set.description = patch.description;
    if (patch.everyoneRole !== undefined) set.everyone_role = patch.everyoneRole === null ? null : checkRole(patch.everyoneRole);
    await this.audit.transaction(this.db, async (trx, record) => {
      await trx.updateTable('gov_projects').set(set).where('project_id', '=', current.id).execute();
      record({ action: 'governance.project_updated', resourceType: 'project', resourceId: name, projectId: current.id, details: { description: patch.description !== undefined, everyone_role: set.everyone_role } });
    });
    this.invalidate();
    return this.get(name, ALL_ACCESS);
  }

  /**
   * Deletes a project that holds nothing (`isEmpty` asks every capability that owns resources). The default project
   * stays.
   */
  async delete(name: string, isEmpty: (projectId: number) => Promise<boolean>): Promise<void> {
    const p = await this.get(name, ALL_ACCESS);
    if (p.id === DEFAULT_PROJECT_ID) throw new KilnError('INVALID_STATE', 'The default project can not be deleted.');
    if (!(await isEmpty(p.id))) throw new KilnError('INVALID_STATE', `Project '${name}' still holds experiments, models or datasets: move or delete them first.`);
    await this.audit.transaction(this.db, async (trx, record) => {
      await trx.deleteFrom('gov_members').where('project_id', '=', p.id).execute();
      await trx.deleteFrom('gov_projects').where('project_id', '=', p.id).execute();
      record({ action: 'governance.project_deleted', resourceType: 'project', resourceId: name, projectId: p.id });
    });
    this.invalidate();
    this.resources.forgetProjectNames();
  }

  // ------------------------------------------------------------------ members

  async members(name: string): Promise<Member[]> {
    const p = await this.get(name);
    const rows = await this.db.selectFrom('gov_members').select(['member_kind', 'member', 'role', 'creation_time']).where('project_id', '=', p.id).execute();
    const pks = rows.filter((r) => r.member_kind === 'user').map((r) => Number(r.member));
    const names = new Map((pks.length ? await this.db.selectFrom('gov_users').select(['user_pk', 'name']).where('user_pk', 'in', pks).execute() : []).map((u) => [String(u.user_pk), u.name]));
    return rows
      .map((r) => ({ kind: r.member_kind === 'group' ? ('group' as const) : ('user' as const), name: r.member_kind === 'group' ? r.member : (names.get(r.member) ?? `#${r.member}`), role: checkRole(r.role), creationTime: Number(r.creation_time) }))
      .sort((a, b) => (a.kind === b.kind ? (a.name < b.name ? -1 : 1) : a.kind === 'user' ? -1 : 1));
  }

  /** Gives a user or a group a role in a project (replacing the one it had). */
  async setMember(name: string, member: { kind: 'user' | 'group'; name: string }, role: Role): Promise<Member> {
    const p = await this.get(name, ALL_ACCESS);
    checkRole(role);
    const key = await this.memberKey(member);
    const now = this.now();
    await this.audit.transaction(this.db, async (trx, record: RecordAudit) => {
      const had = await trx.selectFrom('gov_members').select('role').where('project_id', '=', p.id).where('member_kind', '=', member.kind).where('member', '=', key).executeTakeFirst();
      if (had) await trx.updateTable('gov_members').set({ role }).where('project_id', '=', p.id).where('member_kind', '=', member.kind).where('member', '=', key).execute();
      else await trx.insertInto('gov_members').values({ project_id: p.id, member_kind: member.kind, member: key, role, creation_time: now }).execute();
      if (had?.role === 'owner' && role !== 'owner') await this.keepAnOwner(trx, p);
      record({ action: 'governance.member_set', resourceType: 'project', resourceId: name, projectId: p.id, details: { member_kind: member.kind, member: member.name, role, previous_role: had?.role ?? null } });
    });
    this.invalidate();
    return { kind: member.kind, name: member.name, role, creationTime: now };
  }

  async removeMember(name: string, member: { kind: 'user' | 'group'; name: string }): Promise<void> {
    const p = await this.get(name, ALL_ACCESS);
    const key = await this.memberKey(member);
    await this.audit.transaction(this.db, async (trx, record) => {
      const had = await trx.selectFrom('gov_members').select('role').where('project_id', '=', p.id).where('member_kind', '=', member.kind).where('member', '=', key).executeTakeFirst();
      if (!had) throw notFound(`${member.kind === 'user' ? 'User' : 'Group'} '${member.name}' is not a member of project '${name}'.`);
      await trx.deleteFrom('gov_members').where('project_id', '=', p.id).where('member_kind', '=', member.kind).where('member', '=', key).execute();
      if (had.role === 'owner') await this.keepAnOwner(trx, p);
      record({ action: 'governance.member_removed', resourceType: 'project', resourceId: name, projectId: p.id, details: { member_kind: member.kind, member: member.name, previous_role: had.role } });
    });
    this.invalidate();
  }

  /** A project other than the default one keeps an owner (else nobody but an admin could manage it). */
  private async keepAnOwner(trx: Kysely<GovernanceTables>, p: Project): Promise<void> {
    if (p.id === DEFAULT_PROJECT_ID) return;
    const owners = await trx.selectFrom('gov_members').select('member').where('project_id', '=', p.id).where('role', '=', 'owner').execute();
    if (owners.length === 0) throw new KilnError('INVALID_STATE', `Project '${p.name}' would have no owner left: make someone else owner first.`);
  }

  private async memberKey(member: { kind: 'user' | 'group'; name: string }): Promise<string> {
    if (member.kind === 'group') {
      if (typeof member.name !== 'string' || member.name.length === 0 || member.name.length > 256) throw invalid('A group name is 1 to 256 characters.');
      return member.name;
    }
    if (member.kind !== 'user') throw invalid(`A member is a 'user' or a 'group'; got ${JSON.stringify(member.kind)}.`);
    const u = await this.db.selectFrom('gov_users').select('user_pk').where('name', '=', member.name).executeTakeFirst();
    if (!u) throw notFound(`User '${member.name}' does not exist.`);
    return String(u.user_pk);
  }

  // ------------------------------------------------------------------ local groups

  async groups(): Promise<{ name: string; members: string[] }[]> {
    const rows = await this.db.selectFrom('gov_group_members as g').innerJoin('gov_users as u', 'u.user_pk', 'g.user_pk').select(['g.group_name', 'u.name']).orderBy('g.group_name').orderBy('u.name').execute();
    const by = new Map<string, string[]>();
    for (const r of rows) by.set(r.group_name, [...(by.get(r.group_name) ?? []), r.name]);
    return [...by].map(([name, members]) => ({ name, members }));
  }

  async addToGroup(group: string, user: string): Promise<void> {
    const key = Number(await this.memberKey({ kind: 'user', name: user }));
    await this.memberKey({ kind: 'group', name: group });
    await this.audit.transaction(this.db, async (trx, record) => {
      const had = await trx.selectFrom('gov_group_members').select('user_pk').where('group_name', '=', group).where('user_pk', '=', key).executeTakeFirst();
      if (had) return;
      await trx.insertInto('gov_group_members').values({ group_name: group, user_pk: key }).execute();
      record({ action: 'governance.group_member_added', resourceType: 'group', resourceId: group, details: { user } });
    });
    this.invalidate();
  }

  async removeFromGroup(group: string, user: string): Promise<void> {
    const key = Number(await this.memberKey({ kind: 'user', name: user }));
    await this.audit.transaction(this.db, async (trx, record) => {
      const r = await trx.deleteFrom('gov_group_members').where('group_name', '=', group).where('user_pk', '=', key).executeTakeFirst();
      if (Number(r.numDeletedRows) === 0) throw notFound(`User '${user}' is not in group '${group}'.`);
      record({ action: 'governance.group_member_removed', resourceType: 'group', resourceId: group, details: { user } });
    });
    this.invalidate();
  }
}

/** The grant on the resource itself, if the caller has one. */
function grantOf(access: AccessSet, owner: ResourceOwner): GrantLevel | undefined {
  if (access.all) return undefined;
  if (owner.experimentId !== undefined) return access.experiments.get(owner.experimentId);
  if (owner.registeredModel !== undefined) return access.registeredModels.get(owner.registeredModel);
  return undefined;
}
