import type { FastifyRequest } from 'fastify';
import type { Scope } from './principal.js';

/** Roles in a project, each including the ones before it. */
export type Role = 'viewer' | 'editor' | 'maintainer' | 'owner';
export const ROLES: readonly Role[] = ['viewer', 'editor', 'maintainer', 'owner'];

export function roleAtLeast(have: Role, need: Role): boolean {
  return ROLES.indexOf(have) >= ROLES.indexOf(need);
}

/** Kinds of resources a route can act on; each belongs to one project, found through the owning capability. */
export type ResourceKind =
  | 'project'
  | 'experiment'
  | 'run'
  | 'logged-model'
  | 'registered-model'
  | 'dataset'
  /** A path in the artifact store, reached through the artifact proxy: the experiment or run whose location holds it. */
  | 'artifact'
  /** A node of the lineage graph (runs:/…, models:/…, datasets:/…): the resource it names. */
  | 'lineage-node'
  /** A deployment of the serving capability (control plane and inference). */
  | 'deployment'
  /** A monitor of the monitoring capability. */
  | 'monitor';

/**
 * The resource(s) a route acts on: their kind and where the request names them (a path parameter, a query or body
 * field). `id` may give several (a comparison of runs) or none (then the caller's default project is meant, for
 * a `project` ref; for other kinds the service answers the missing field with a 400).
 */
export interface ResourceRef {
  readonly kind: ResourceKind;
  readonly id: (req: FastifyRequest) => unknown;
}

/**
 * Who may call a route, declared in its Fastify options (`config: { permission }`) next to its definition:
 * - `public`: anyone, without an identity (health, the UI's files, the login endpoints);
 * - `authenticated`: any identity; the route acts on the caller's own things only (who am I, my tokens);
 * - `admin`: server admins;
 * - `project`: a role in the project of the resource the route acts on (`on`), or, for `listed`, a list or search
 *   that shows only what the caller's projects let them read (filtered inside the query).
 * `scope` is what an API token needs besides the role (derived from the role when not given).
 */
export type RouteRule =
  | { readonly access: 'public' }
  | { readonly access: 'authenticated'; readonly scope?: Scope }
  | { readonly access: 'admin' }
  | { readonly access: 'project'; readonly role: Role; readonly on: ResourceRef | 'listed'; readonly scope?: Scope };

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Who may call this route (required on every route: the server refuses to start otherwise). */
    permission?: RouteRule;
  }
}

const fromParams = (name: string) => (req: FastifyRequest) => (req.params as Record<string, unknown> | undefined)?.[name];
const fromQuery = (name: string) => (req: FastifyRequest) => (req.query as Record<string, unknown> | undefined)?.[name];
const fromBody = (name: string) => (req: FastifyRequest) => {
  const b = req.body;
  return b !== null && typeof b === 'object' && !Array.isArray(b) ? (b as Record<string, unknown>)[name] : undefined;
};
/** A field read from the query string of GET and DELETE requests and from the body otherwise (MLflow's convention). */
const fromField = (...names: string[]) => (req: FastifyRequest) => {
  const read = req.method === 'GET' || req.method === 'DELETE' ? fromQuery : fromBody;
  for (const n of names) {
    const v = read(n)(req);
    if (v !== undefined && v !== null && v !== '') return v;
  }
  return undefined;
};

/** Where a route finds the id of the resource it acts on. */
export const from = { params: fromParams, query: fromQuery, body: fromBody, field: fromField };

const on = (kind: ResourceKind, id: (req: FastifyRequest) => unknown): ResourceRef => ({ kind, id });

/** The rules, as routes declare them: `config: { permission: rule.edit('run', from.params('run_id')) }`. */
export const rule = {
  public: { access: 'public' } as RouteRule,
  authenticated: { access: 'authenticated' } as RouteRule,
  admin: { access: 'admin' } as RouteRule,
  /** A list or search: any identity, and only what its projects let it read. */
  listed: { access: 'project', role: 'viewer', on: 'listed' } as RouteRule,
  read: (kind: ResourceKind, id: (req: FastifyRequest) => unknown): RouteRule => ({ access: 'project', role: 'viewer', on: on(kind, id) }),
  edit: (kind: ResourceKind, id: (req: FastifyRequest) => unknown): RouteRule => ({ access: 'project', role: 'editor', on: on(kind, id) }),
  maintain: (kind: ResourceKind, id: (req: FastifyRequest) => unknown): RouteRule => ({ access: 'project', role: 'maintainer', on: on(kind, id) }),
  own: (kind: ResourceKind, id: (req: FastifyRequest) => unknown): RouteRule => ({ access: 'project', role: 'owner', on: on(kind, id) }),
};

/** The token scope a rule needs. */
export function scopeOf(r: RouteRule): Scope | undefined {
  switch (r.access) {
    case 'public':
      return undefined;
    case 'authenticated':
      return r.scope;
    case 'admin':
      return 'admin';
    case 'project':
      return r.scope ?? (r.role === 'viewer' ? 'read' : r.role === 'owner' ? 'admin' : 'write');
  }
}

/** One line for docs and errors: "editor of the run", "anyone", "server admin". */
export function describeRule(r: RouteRule): string {
  switch (r.access) {
    case 'public':
      return 'anyone';
    case 'authenticated':
      return 'any signed-in identity';
    case 'admin':
      return 'server admin';
    case 'project':
      return r.on === 'listed' ? `${r.role} (lists only what the caller can read)` : `${r.role} of the ${r.on.kind.replace('-', ' ')}`;
  }
}
