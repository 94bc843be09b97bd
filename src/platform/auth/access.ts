import { currentContext } from './context.js';
import { roleAtLeast, type Role } from './rules.js';

/** The project every resource belongs to unless it names another (everything created before projects existed). */
export const DEFAULT_PROJECT_ID = 0;
export const DEFAULT_PROJECT = 'default';

/** A resource-level grant: a role on one experiment or registered model, or an explicit denial that wins over the project's role. */
export type GrantLevel = Role | 'none';

/**
 * What the caller of a request may reach: everything (server admins, `--auth none`, the server's own work), or a role
 * per project plus resource-level grants (MLflow's experiment and registered-model permissions). Computed once per
 * request by the governance capability; stores turn it into `project_id IN (…)` filters inside their queries.
 */
export type AccessSet =
  | { readonly all: true }
  | {
      readonly all: false;
      /** The caller's role in each project it may read (directly, through a group, or as everyone's role). */
      readonly projects: ReadonlyMap<number, Role>;
      /** Grants on experiments, by experiment id. */
      readonly experiments: ReadonlyMap<string, GrantLevel>;
      /** Grants on registered models, by name. */
      readonly registeredModels: ReadonlyMap<string, GrantLevel>;
    };

export const ALL_ACCESS: AccessSet = Object.freeze({ all: true });

/** The access set of the request being served; everything outside requests (background work, the CLI on a store). */
export function currentAccess(): AccessSet {
  return currentContext()?.access ?? ALL_ACCESS;
}

/**
 * The caller's role on a resource of `projectId`, taking a grant on the resource itself into account (a grant
 * raises or, with `none`, removes the project's role); undefined: the caller may not even read it.
 */
export function roleOn(access: AccessSet, projectId: number, grant?: GrantLevel): Role | undefined {
  if (access.all) return 'owner';
  if (grant === 'none') return undefined;
  const inProject = access.projects.get(projectId);
  if (grant === undefined) return inProject;
  if (inProject === undefined) return grant;
  return roleAtLeast(inProject, grant) ? inProject : grant;
}

/**
 * What a list or search may show, as ids for an SQL filter: `all`, or the projects the caller reads, plus the
 * resources granted outside them (`include`) and the ones denied inside them (`exclude`).
 */
export interface ReadFilter<Id> {
  readonly projects: readonly number[];
  readonly include: readonly Id[];
  readonly exclude: readonly Id[];
}

function filterOf(access: Exclude<AccessSet, { all: true }>, grants: ReadonlyMap<string, GrantLevel>): ReadFilter<string> {
  const include: string[] = [];
  const exclude: string[] = [];
  for (const [id, level] of grants) (level === 'none' ? exclude : include).push(id);
  return { projects: [...access.projects.keys()], include, exclude };
}

/** The read filter over experiments (and their runs and logged models); 'all' when nothing is filtered. */
export function experimentReadFilter(access: AccessSet = currentAccess()): ReadFilter<string> | 'all' {
  return access.all ? 'all' : filterOf(access, access.experiments);
}

/** The read filter over registered models (by name) and their versions. */
export function registeredModelReadFilter(access: AccessSet = currentAccess()): ReadFilter<string> | 'all' {
  return access.all ? 'all' : filterOf(access, access.registeredModels);
}

/** The projects readable by the caller, for resources without grants (datasets, webhooks, and later ones). */
export function readableProjects(access: AccessSet = currentAccess()): readonly number[] | 'all' {
  return access.all ? 'all' : [...access.projects.keys()];
}
